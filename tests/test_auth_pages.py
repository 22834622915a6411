"""Sign-in in the app (AppTest): with an [auth] section in the secrets nothing shows before sign-in,
on any page however it is reached, and the signed-in user is the author of what they save.

``at.secrets`` stands in for the secrets file and ``at.user`` for Streamlit's identity cookie.
"""

import pytest
import streamlit as st
from streamlit import config
from streamlit.testing.v1 import AppTest

from cope_eval.policies import list_versions, save_version
from cope_eval.store import Store
from pages import _state
from tests.apptest import APP, NO_SERVER, messages, navigation_only, table
from tests.conftest import REPO_ROOT
from tests.factories import make_golden

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "c" * 32,
                 "client_id": "cope-eval", "client_secret": "s" * 24,
                 "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}
ADA = {"is_logged_in": True, "email": "ada@example.org", "name": "Ada Lovelace", "sub": "u-1017"}
VISITOR = {}
"""What Streamlit knows of someone who has not signed in."""
MARK = "Sealed-rule-7c1e"
"""In the workspace's policy and golden set: must never show before sign-in."""
PAGES = sorted(p.stem for p in (REPO_ROOT / "pages").glob("*.py") if not p.name.startswith("_"))


@pytest.fixture
def seeded(workspace, monkeypatch):
    """A workspace with a policy and a golden set that both carry MARK; no model server."""
    save_version(workspace.root, "violence", f"# Criteria\n- {MARK}\n", note=MARK, author="ana")
    with Store(workspace.private_dir) as store:
        store.put_golden_set(make_golden(4, texts=[MARK, "b", "c", "d"]))
    monkeypatch.setenv("COPE_BASE_URL", NO_SERVER)
    monkeypatch.delenv("COPE_MODEL", raising=False)
    return workspace


def _app(user: dict, secrets: dict = AUTH) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets.update(secrets)
    at.user = user
    return at


def _everything(at: AppTest) -> str:
    """Every element the run produced, main area and sidebar, as protobuf text."""
    def walk(node) -> list[str]:
        own = [str(node.proto)] if getattr(node, "proto", None) is not None else []
        return own + [text for child in getattr(node, "children", {}).values() for text in walk(child)]
    return "\n".join(walk(at.main) + walk(at.sidebar))


def _only_sign_in(at: AppTest, workspace) -> None:
    assert not at.exception, at.exception
    assert [b.key for b in at.button] == [f"{_state.SIGN_IN}:default"]
    assert not (at.text_area or at.text_input or at.selectbox or at.dataframe or at.file_uploader)
    assert not at.sidebar.children
    shown = _everything(at)
    assert MARK not in shown and "violence" not in shown and str(workspace.root) not in shown and NO_SERVER not in shown


@pytest.mark.parametrize("page", PAGES)
def test_a_page_shows_only_the_sign_in_screen_to_a_visitor(seeded, monkeypatch, page):
    navigation_only(monkeypatch)
    at = _app(ADA).run()  # signed in, the page shows its content...
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception and at.sidebar.children

    at.user = VISITOR  # ...the same address without a signed-in user shows the sign-in screen only
    _only_sign_in(at.run(), seeded)


def _page_alone(page: str, user: dict, secrets: dict = AUTH) -> AppTest:
    """A page file run on its own, as Streamlit does for a deep link on a fresh server, with the
    session state app.py would have set (so the page itself would draw)."""
    at = AppTest.from_file(str(REPO_ROOT / "pages" / f"{page}.py"), default_timeout=60)
    at.secrets.update(secrets)
    at.user = user
    for key, value in _state._DEFAULTS.items():
        at.session_state[key] = value
    return at


@pytest.mark.parametrize("page", PAGES)
def test_a_page_file_run_on_its_own_shows_only_the_sign_in_screen(seeded, page):
    _only_sign_in(_page_alone(page, VISITOR).run(), seeded)


def test_sign_in_starts_streamlits_login_with_each_named_provider(seeded, monkeypatch):
    calls = []
    monkeypatch.setattr(st, "login", lambda provider=None: calls.append(provider))
    auth = {"auth": {**{k: AUTH["auth"][k] for k in ("redirect_uri", "cookie_secret")},
                     "okta": {k: AUTH["auth"][k] for k in ("client_id", "client_secret", "server_metadata_url")},
                     "google": {k: AUTH["auth"][k] for k in ("client_id", "client_secret", "server_metadata_url")}}}
    at = _app(VISITOR, auth).run()
    assert [b.label for b in at.button] == ["Sign in with okta", "Sign in with google"]

    at.button(key=f"{_state.SIGN_IN}:google").click().run()
    assert calls == ["google"]


def test_the_sidebar_shows_the_user_and_signing_out_closes_the_app(seeded, monkeypatch):
    navigation_only(monkeypatch)
    at = _app(ADA).run()
    assert [t.value for t in at.sidebar.text][0] == "ada@example.org"
    assert table(at, "policy")["policy"].tolist() == ["violence"]  # the workspace page lists the policy

    at.button(key=_state.SIGN_OUT).click().run()
    _only_sign_in(at, seeded)


def test_saving_a_version_records_the_signed_in_user_not_the_author_field(seeded, monkeypatch):
    navigation_only(monkeypatch)
    at = _app(ADA).run()
    at.switch_page("pages/policies.py").run()
    [author] = [w for w in at.text_input if w.label == "Author"]
    assert (author.value, author.disabled) == ("ada@example.org", True)
    at.session_state[_state.POLICY_AUTHOR] = "mallory"  # a value for the field the page no longer offers

    at.text_area(key=_state.POLICY_EDITOR).input(f"# Criteria\n- {MARK}\n- Quotes are not threats.\n")
    at.text_input(key=_state.POLICY_NOTE).input("quotes")
    at.button(key=_state.POLICY_SAVE).click().run()

    assert not at.exception
    assert [(v.note, v.author) for v in list_versions(seeded.root, "violence")] \
        == [(MARK, "ana"), ("quotes", "ada@example.org")]


def test_a_label_correction_records_the_signed_in_user_by_name_when_there_is_no_email(seeded, monkeypatch):
    navigation_only(monkeypatch)
    at = _app({"is_logged_in": True, "name": "Ada Lovelace", "sub": "u-1017"}).run()
    at.switch_page("pages/golden_sets.py").run()
    [name] = [w for w in at.text_input if w.label == "Your name"]
    assert (name.key, name.value, name.disabled) == (None, "Ada Lovelace", True)
    at.session_state[_state.RELABEL_AUTHOR] = "mallory"

    at.selectbox(key=_state.RELABEL_ITEM).select("item-00001")
    at.radio(key=_state.RELABEL_LABEL).set_value(0)
    at.text_input(key=_state.RELABEL_REASON).input("not an attack")
    at.button(key=_state.RELABEL_SAVE).click().run()

    assert not at.exception
    history = table(at, "reason")
    assert history[["item_id", "author"]].values.tolist() == [["item-00001", "Ada Lovelace"]]


def test_an_auth_section_st_login_cannot_use_keeps_the_app_closed(seeded, monkeypatch):
    navigation_only(monkeypatch)
    broken = {"auth": {k: v for k, v in AUTH["auth"].items() if k != "cookie_secret"}}
    at = _app(ADA, broken).run()  # even for someone the cookie says is signed in

    assert not at.exception
    [error] = messages(at, "error")
    assert "`cookie_secret`" in error
    assert not at.button and not at.sidebar.children and MARK not in _everything(at)

    page = _page_alone("policies", VISITOR, broken).run()  # and a page checks for itself
    assert not page.exception and "`cookie_secret`" in messages(page, "error")[0]
    assert not page.text_area and MARK not in _everything(page)


def test_a_signed_in_user_the_app_cannot_name_is_turned_away(seeded, monkeypatch):
    navigation_only(monkeypatch)
    at = _app({"is_logged_in": True, "email": ""}).run()

    assert not at.exception
    [error] = messages(at, "error")
    assert "no email, name or subject" in error
    assert not at.sidebar.children and MARK not in _everything(at)


def test_a_secrets_file_that_cannot_be_parsed_keeps_the_app_closed(seeded, monkeypatch, tmp_path):
    """Streamlit reads an unparsable secrets file as no secrets, which would switch sign-in off."""
    broken = tmp_path / "secrets.toml"
    broken.write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback\n')  # unclosed string
    for module in (config, st):
        original = module.get_option
        monkeypatch.setattr(module, "get_option",
                            lambda name, original=original: [str(broken)] if name == "secrets.files" else original(name))
    navigation_only(monkeypatch)
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = ADA
    at.run()

    assert not at.exception
    [error] = messages(at, "error")
    assert "cannot be read" in error and str(broken) in error
    assert not at.sidebar.children and MARK not in _everything(at)


def test_without_an_auth_section_nothing_changes(seeded, monkeypatch):
    navigation_only(monkeypatch)
    at = _app(ADA, secrets={"COPE_API_KEY": "sk-unused"}).run()
    at.switch_page("pages/policies.py").run()
    assert not at.exception and not [b for b in at.button if b.key == _state.SIGN_OUT]

    at.text_area(key=_state.POLICY_EDITOR).input(f"# Criteria\n- {MARK}\n- v2\n")
    at.text_input(key=_state.POLICY_AUTHOR).input("bo")
    at.button(key=_state.POLICY_SAVE).click().run()
    assert [v.author for v in list_versions(seeded.root, "violence")] == ["ana", "bo"]


def test_a_study_started_from_insight_records_the_signed_in_user(workspace, monkeypatch):
    from tests.label_reader import label_reader
    from tests.policy_stub import policy_following
    from tests.stub_server import StubServer
    from tests.test_page_insight_probes import base_run

    with StubServer(policy_following(label_reader)) as stub:
        base_run(workspace, stub, n=6)
        navigation_only(monkeypatch)
        monkeypatch.setenv("COPE_BASE_URL", stub.base_url)
        monkeypatch.setenv("COPE_MODEL", "stub")
        at = _app(ADA).run()
        at.switch_page("pages/insight.py").run()
        at.button(key=_state.PROBES_START).click().run()
        assert not at.exception
        with Store(workspace.private_dir) as store:
            [study] = store.studies("probes")
            assert study.author == "ada@example.org"
