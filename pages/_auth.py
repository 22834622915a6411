"""Sign-in for shared deployments: Streamlit's st.login, configured in the secrets' [auth] section.

When sign-in is on, a visitor who is not signed in sees the sign-in screen and nothing else:
app.py routes every address to it (``locked``), and every page checks again before it draws
(``_state.require_app``). A signed-in user is the author of the versions and label corrections
they save. With no [auth] section nothing here shows and the pages behave as before.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cope_eval.app import DEFAULT_PROVIDER, author_of, is_signed_in, sign_in_providers
from cope_eval.errors import ConfigError
from pages import _common, _state


def _secrets() -> dict:
    """The app's parsed secrets; {} when it has none.

    Streamlit reads a secrets file it cannot parse as no secrets at all, which would switch
    sign-in off: such a file is an error here instead.
    """
    if st.secrets.load_if_toml_exists():
        return st.secrets.to_dict()
    broken = [path for path in st.get_option("secrets.files") if str(path).endswith(".toml") and Path(path).is_file()]
    if broken:
        raise ConfigError(f"The secrets file {broken[0]} cannot be read (see the server log); the app stays closed "
                          "until it is fixed, since it may hold the sign-in settings.")
    return {}


def _user() -> dict:
    return st.user.to_dict()


def admitted() -> bool:
    """True when sign-in is off or the visitor is signed in. A sign-in setting that cannot be used
    shows its error and stops the script: a broken configuration never opens the app."""
    try:
        providers = sign_in_providers(_secrets())
        if not providers:
            return True
        if not is_signed_in(_user()):
            return False
        author_of(_user())  # a user with no usable identity cannot be recorded as an author
        return True
    except ConfigError as error:
        _common.show_error(error)
        st.stop()


def current_author() -> str | None:
    """The signed-in user as recorded on versions and label changes; None when sign-in is off.
    Raises ``ConfigError`` when sign-in is on and nobody is signed in (the gate was not passed)."""
    if not sign_in_providers(_secrets()):
        return None
    if not is_signed_in(_user()):
        raise ConfigError("Sign in to use this workspace.")
    return author_of(_user())


def sign_in_screen() -> None:
    """The only thing a visitor who is not signed in sees: what this is and how to sign in."""
    st.title("cope-eval")
    st.info("This workspace is shared. Sign in to see and change its policies, golden sets and runs.",
            icon=":material/lock:")
    for provider in sign_in_providers(_secrets()):
        label = "Sign in" if provider == DEFAULT_PROVIDER else f"Sign in with {provider}"
        if st.button(label, key=f"{_state.SIGN_IN}:{provider}", type="primary", icon=":material/login:"):
            st.login(provider)


def locked(pages: list) -> list:
    """The app's pages with the sign-in screen in place of each: a bookmarked link leads to sign-in,
    not to "page not found", and no page's own code runs."""
    return [st.Page(sign_in_screen, title=page.title, icon=page.icon or None, url_path=page.url_path or None,
                    default=not page.url_path) for page in pages]


def require_sign_in() -> None:
    """Stop the script unless ``admitted()``, with the sign-in screen as all there is on the page."""
    if not admitted():
        sign_in_screen()
        st.stop()


def draw_user() -> None:
    """In the sidebar: who is signed in, and a way out. Nothing when sign-in is off."""
    author = current_author()
    if author is None:
        return
    st.caption("Signed in as")
    st.text(author)
    st.button("Sign out", key=_state.SIGN_OUT, icon=":material/logout:", on_click=st.logout)
