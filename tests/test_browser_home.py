"""The first page in a real browser: healthy server in the sidebar, sample data listed."""

import shutil

import pytest

from tests.browser import REPO_ROOT, running_app, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.model]


def test_first_page_shows_the_healthy_server(page, model_server, tmp_path):
    workspace = tmp_path / "ws"
    for folder in ("policies", "golden_sets"):  # the shipped samples
        if (REPO_ROOT / folder).is_dir():
            shutil.copytree(REPO_ROOT / folder, workspace / folder)
    env = {
        "COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": model_server.base_url,
        "COPE_MODEL": model_server.model, "COPE_LOCAL_SERVER": "1" if model_server.is_local else "0",
    }
    with running_app(env) as url:
        page.goto(url)
        page.get_by_text("Healthy").wait_for(timeout=30_000)
        page.get_by_text("Golden sets (").wait_for(timeout=30_000)

        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert model_server.base_url in sidebar
        assert model_server.model in sidebar
        assert "Policies (" in page.inner_text("body")
        page.locator('[data-testid="stDataFrame"] canvas').first.wait_for(timeout=30_000)
        page.wait_for_timeout(3000)  # the table component loads lazily: let it paint
        save_screenshot(page, "home", tmp_path)
    assert page.dialogs == []
