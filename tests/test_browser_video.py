"""Video in a real browser: the sample video set loaded from the workspace, browsed with
first-frame thumbnails and played; then run on the bundled text-only vLLM, which refuses every
video item: the page shows each as a counted error with its reason, never a score."""

import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cope_eval.policies import save_version
from cope_eval.store import Store
from tests.browser import WAIT, choose, goto, idle, running_app, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.model]

REPO = Path(__file__).resolve().parents[1]
POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Telling a tagged user to leave or quit.\n"


def _run_finished(workspace: Path, timeout_s: float = 120):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Store(workspace / ".cope_eval") as store:
            runs = store.runs()
        if runs and runs[0].status in ("completed", "failed"):
            return runs[0]
        time.sleep(1)
    raise AssertionError(f"the run did not finish: {[(r.id, r.status) for r in runs]}")


def test_a_video_set_is_browsed_played_and_its_refusals_counted(page, model_server, tmp_path):
    workspace = tmp_path / "ws"
    shutil.copytree(REPO / "golden_sets" / "videos", workspace / "golden_sets" / "videos")
    save_version(workspace, "harassment", POLICY, note="first cut", author="ana")
    env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": model_server.base_url,
           "COPE_MODEL": model_server.model, "COPE_LOCAL_SERVER": "1" if model_server.is_local else "0"}
    with running_app(env) as url:
        page.goto(url)
        page.get_by_text("Healthy").wait_for(timeout=WAIT)

        goto(page, "Golden sets")
        choose(page, "…or load a file from the workspace's golden_sets/ folder", "videos/harassment-videos.csv")
        page.get_by_role("button", name="Save 8 valid items as golden set").click()
        page.get_by_text("Saved golden set").wait_for(timeout=WAIT)
        page.get_by_role("tab", name="Browse and correct labels").click()
        page.get_by_text("8 of 8 items match").wait_for(timeout=WAIT)
        page.get_by_text("Play a video from this page (8)").click()
        video = page.locator('[data-testid="stVideo"]')
        expect(video).to_be_visible(timeout=WAIT)
        assert (video.get_attribute("src") or "").startswith(("blob:", "/media/", "http")), video.get_attribute("src")
        save_screenshot(page, "golden_videos", tmp_path)

        goto(page, "Evaluate")
        page.get_by_text("Versions (one run each)").wait_for(timeout=WAIT)
        idle(page)
        page.get_by_role("button", name="Start").click()
        run = _run_finished(workspace)
        page.get_by_text(re.compile(r"completed · 8 / 8 items · 8 errors")).wait_for(timeout=WAIT)
        page.get_by_text("Errors by reason").wait_for(timeout=WAIT)
        reasons = page.locator('[data-testid="stDataFrame"]').filter(
            has_text="the server refused this video item (does its model take video input?)")
        expect(reasons.first).to_be_visible(timeout=WAIT)
        save_screenshot(page, "evaluate_videos", tmp_path)

    with Store(workspace / ".cope_eval") as store:
        predictions = store.predictions(run.id)
    assert len(predictions) == 8 and predictions["score"].isna().all()
    assert predictions["error"].str.contains("not a multimodal model").all()
    assert page.dialogs == []
