"""The app shell: pages route, the sidebar reports the server truthfully."""

import pytest
from streamlit.testing.v1 import AppTest

from cope_eval.policies import save_version
from pages import _state
from tests.apptest import navigation_only
from tests.conftest import REPO_ROOT

APP = str(REPO_ROOT / "app.py")


def _sidebar_text(at: AppTest) -> str:
    return " ".join(str(e.value) for e in at.sidebar if hasattr(e, "value"))


@pytest.mark.model
def test_sidebar_shows_healthy_server_and_model(workspace, model_server, monkeypatch):
    monkeypatch.setenv("COPE_BASE_URL", model_server.base_url)
    monkeypatch.setenv("COPE_MODEL", model_server.model)
    monkeypatch.setenv("COPE_LOCAL_SERVER", "1" if model_server.is_local else "0")

    at = AppTest.from_file(APP, default_timeout=30).run()

    assert not at.exception
    assert any(f"model `{model_server.model}`" in s.value for s in at.sidebar.success)
    assert model_server.base_url in _sidebar_text(at)
    assert bool(at.sidebar.info) == model_server.is_local


def test_sidebar_reports_an_unreachable_server(workspace, monkeypatch):
    monkeypatch.setenv("COPE_BASE_URL", "http://127.0.0.1:9/v1")

    at = AppTest.from_file(APP, default_timeout=30).run()

    assert not at.exception
    assert any("Unhealthy" in e.value for e in at.sidebar.error)


def test_workspace_page_lists_policies_and_golden_sets(workspace, monkeypatch):
    monkeypatch.setenv("COPE_BASE_URL", "http://127.0.0.1:9/v1")
    save_version(workspace.root, "hate-speech", "# Criteria\n", note="first")
    (workspace.golden_sets_dir / "hate.csv").write_text("text,label\nhi,0\n")

    at = AppTest.from_file(APP, default_timeout=30).run()

    assert not at.exception
    policies, golden_sets = at.dataframe
    assert policies.value["policy"].tolist() == ["hate-speech"]
    assert golden_sets.value["golden set"].tolist() == ["hate.csv"]  # in the folder, not loaded yet


def test_every_page_is_in_the_navigation(workspace, monkeypatch):
    navigation_only(monkeypatch)
    monkeypatch.setenv("COPE_BASE_URL", "http://127.0.0.1:9/v1")
    at = AppTest.from_file(APP, default_timeout=30).run()
    for page in ("policies", "golden_sets", "evaluate", "compare", "suite", "insight", "export"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, page
        assert any("Unhealthy" in e.value for e in at.sidebar.error), f"{page} has the shared sidebar"


def test_switch_server_and_key_for_the_session_then_reset(workspace, monkeypatch):
    navigation_only(monkeypatch)
    monkeypatch.setenv("COPE_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("COPE_API_KEY", "env-key")
    at = AppTest.from_file(APP, default_timeout=30).run()

    at.sidebar.text_input(key=_state.SERVER_URL_INPUT).input("http://127.0.0.1:19")
    at.sidebar.text_input(key=_state.SERVER_KEY_INPUT).input("session-key")
    at.sidebar.button(key=_state.SERVER_USE).click().run()

    assert not at.exception
    assert at.session_state["server_url"] == "http://127.0.0.1:19/v1"
    assert at.session_state["server_api_key"] == "session-key"
    assert at.sidebar.text_input(key=_state.SERVER_KEY_INPUT).value == "", "the key is not left in the form"
    assert "http://127.0.0.1:19/v1" in _sidebar_text(at)

    at.sidebar.button(key=_state.SERVER_RESET).click().run()
    assert at.session_state["server_url"] is None and at.session_state["server_api_key"] is None
    assert "http://127.0.0.1:9/v1" in _sidebar_text(at)


def test_a_bad_server_url_is_one_error(workspace, monkeypatch):
    navigation_only(monkeypatch)
    monkeypatch.setenv("COPE_BASE_URL", "http://127.0.0.1:9/v1")
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.sidebar.text_input(key=_state.SERVER_URL_INPUT).input("ftp://[x]")
    at.sidebar.button(key=_state.SERVER_USE).click().run()

    assert not at.exception
    assert any("must start with http" in e.value.replace("\\", "") for e in at.sidebar.error)
    assert at.session_state["server_url"] is None


@pytest.mark.model
def test_the_session_key_goes_only_to_the_server_it_was_given_for(workspace, model_server, monkeypatch):
    navigation_only(monkeypatch)
    monkeypatch.setenv("COPE_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("COPE_API_KEY", "env-key")
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.sidebar.text_input(key=_state.SERVER_URL_INPUT).input(model_server.base_url)
    at.sidebar.button(key=_state.SERVER_USE).click().run()

    assert any(f"model `{model_server.model}`" in s.value for s in at.sidebar.success)
    assert at.session_state["server_api_key"] is None, "the environment's key stays with its own server"
