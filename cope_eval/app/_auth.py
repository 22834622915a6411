"""Sign-in for shared deployments: is it on, which providers, and who the signed-in user is.

The app uses Streamlit's own OpenID Connect sign-in (``st.login``), configured in the ``[auth]``
section of the app's secrets. This module reads the parsed secrets and a user's identity claims
(plain mappings) and decides; the pages do the Streamlit calls. It never imports streamlit.

Sign-in is on as soon as the secrets have an ``[auth]`` section. An incomplete section is an
error, never a reason to let everyone in: a deployment that meant to require sign-in and got a
key wrong stays closed and says which key.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ConfigError

SHARED_KEYS = ("redirect_uri", "cookie_secret")
"""Keys every ``[auth]`` section needs, whatever the providers."""

PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
"""Keys each provider needs: at the top of ``[auth]`` (the default provider) or in ``[auth.NAME]``."""

DEFAULT_PROVIDER = "default"
"""What ``st.login`` calls the provider configured at the top of ``[auth]``."""

_NOT_PROVIDERS = {"client_kwargs"}
"""Tables inside ``[auth]`` that configure the default provider rather than name another one."""


def sign_in_providers(secrets: Mapping) -> tuple[str, ...]:
    """The providers to offer on the sign-in screen, in the order of the secrets; () when sign-in is off.

    ``secrets`` is the whole parsed secrets mapping. Raises ``ConfigError`` naming what is missing
    when there is an ``[auth]`` section that ``st.login`` could not use.
    """
    section = secrets.get("auth")
    if section is None:
        return ()
    if not isinstance(section, Mapping):
        raise ConfigError("Sign-in: `auth` in the secrets must be a table ([auth]), not a single value.")
    missing = [key for key in SHARED_KEYS if not section.get(key)]
    if missing:
        raise ConfigError(f"Sign-in: the [auth] section of the secrets lacks {_listed(missing)}.")
    providers = [DEFAULT_PROVIDER] if any(key in section for key in PROVIDER_KEYS) else []
    providers += [name for name, value in section.items() if isinstance(value, Mapping) and name not in _NOT_PROVIDERS]
    if not providers:
        raise ConfigError(f"Sign-in: the [auth] section of the secrets names no provider: give {_listed(PROVIDER_KEYS)} "
                          "in [auth] itself or in an [auth.NAME] table.")
    for name in providers:
        keys = section if name == DEFAULT_PROVIDER else section[name]
        missing = [key for key in PROVIDER_KEYS if not keys.get(key)]
        if missing:
            table = "[auth]" if name == DEFAULT_PROVIDER else f"[auth.{name}]"
            raise ConfigError(f"Sign-in: {table} in the secrets lacks {_listed(missing)}.")
        if "_" in name:  # st.login refuses these
            raise ConfigError(f"Sign-in: the provider name {name!r} has an underscore; use a name without one.")
    return tuple(providers)


def is_signed_in(claims: Mapping) -> bool:
    """True only when the identity says so explicitly (``st.user``'s ``is_logged_in``)."""
    return claims.get("is_logged_in") is True


def author_of(claims: Mapping) -> str:
    """The author recorded for a signed-in user: the email, else the name, else the provider's subject id.

    Raises ``ConfigError`` when the provider gave none of them: a change must not be recorded
    under nobody's name.
    """
    for claim in ("email", "name", "sub"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise ConfigError("Sign-in: the provider gave no email, name or subject for this user, so changes cannot "
                      "be recorded under their name. Ask for the 'email' or 'profile' scope.")


def _listed(keys) -> str:
    return ", ".join(f"`{key}`" for key in keys)
