"""The app shell: pages route, the sidebar reports the server truthfully."""

import pytest
from streamlit.testing.v1 import AppTest

from cope_eval.policies import save_version
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
    assert golden_sets.value["file"].tolist() == ["hate.csv"]
