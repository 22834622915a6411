"""Sign-in end to end in a real browser: Streamlit's st.login against a small OpenID Connect provider.

The app runs with a secrets file (in a temporary folder, given through STREAMLIT_SECRETS_FILES)
whose [auth] section points at ``tests/oidc_provider.py``. Nothing of the workspace shows
before sign-in; the real redirect, code exchange and signed id_token sign the user in; the
version they save records them as its author.
"""

import json
import secrets

import pytest

from cope_eval.policies import list_versions, save_version
from tests.apptest import NO_SERVER
from tests.browser import WAIT, idle, running_app
from tests.oidc_provider import OidcProvider

pytestmark = pytest.mark.browser

USER = {"sub": "u-1017", "email": "ada@example.org", "name": "Ada Lovelace", "email_verified": True}
SECRET_POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Sealed-rule-7c1e.\n"


def _secrets_file(tmp_path, provider: OidcProvider) -> str:
    path = tmp_path / "secrets" / "secrets.toml"
    path.parent.mkdir()
    path.write_text(json_toml({
        "redirect_uri": "http://127.0.0.1:{port}/oauth2callback",  # Streamlit fills in its port
        "cookie_secret": secrets.token_urlsafe(32), "client_id": provider.client_id,
        "client_secret": provider.client_secret, "server_metadata_url": provider.metadata_url,
    }))
    return str(path)


def json_toml(auth: dict) -> str:
    """An [auth] table; JSON strings are valid TOML basic strings for these plain values."""
    return "[auth]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in auth.items())


def test_sign_in_then_save_a_version_as_the_signed_in_user(page, tmp_path):
    workspace = tmp_path / "ws"
    save_version(workspace, "violence", SECRET_POLICY, note="first cut", author="ana")
    client = {"client_id": "cope-eval", "client_secret": secrets.token_urlsafe(24)}
    with OidcProvider(USER, **client) as provider, running_app({
        "COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": NO_SERVER,
        "STREAMLIT_SECRETS_FILES": _secrets_file(tmp_path, provider),
    }) as url:
        # Not signed in: the sign-in screen and nothing else, on the home page and on a deep link.
        for address in (url, f"{url}/policies"):
            page.goto(address)
            page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
            idle(page)
            body = page.inner_text("body")
            assert "Sealed-rule-7c1e" not in body and "violence" not in body and str(workspace) not in body
            assert page.locator('[data-testid="stSidebar"]').count() == 0
            assert page.get_by_label("Policy text").count() == 0
            assert page.get_by_text("Page not found").count() == 0
        assert not any(r.startswith("/authorize") for r in provider.requests)

        # Sign in: Streamlit -> provider's authorize -> back with a code -> token exchange -> cookie.
        page.get_by_role("button", name="Sign in").click()
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("ada@example.org").wait_for(timeout=WAIT)
        assert "Signed in as" in sidebar.inner_text()
        assert [r.split("?")[0] for r in provider.requests if not r.startswith("/.well-known")] \
            == ["/authorize", "/token", "/jwks"]

        # Save a version: the author is the signed-in user; the Author field only shows them.
        page.goto(f"{url}/policies")
        editor = page.get_by_label("Policy text")
        editor.wait_for(timeout=WAIT)
        assert page.get_by_role("textbox", name="Author").input_value() == "ada@example.org"
        assert page.get_by_role("textbox", name="Author").is_disabled()
        editor.fill(SECRET_POLICY + "- Signed-in edit.\n")
        editor.blur()
        page.get_by_label("Note for this version").fill("after sign-in")
        page.get_by_label("Note for this version").press("Tab")
        idle(page)
        page.get_by_role("button", name="Save as new version").click()
        page.get_by_text("Saved version").wait_for(timeout=WAIT)
        versions = list_versions(workspace, "violence")
        assert [(v.note, v.author) for v in versions] == [("first cut", "ana"), ("after sign-in", "ada@example.org")]

        # Sign out: back to the sign-in screen.
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT)
        assert "Sealed-rule-7c1e" not in page.inner_text("body")
    assert page.dialogs == []
