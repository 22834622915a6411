"""The Model card table page in a real browser against the local vLLM: the suite on two areas with
a small item cap, run in the app's workers, its table's figures equal scikit-learn's on the stored
runs, and the CSV and Markdown downloads."""

import io

import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from cope_eval.export import MEAN_ROW
from cope_eval.store import Store, run_results
from tests.browser import WAIT, goto, idle, running_app, save_screenshot
from tests.test_suite import sample_workspace

pytestmark = [pytest.mark.browser, pytest.mark.model]

SCORERS = {"precision": precision_score, "recall": recall_score, "f1": f1_score}


def test_the_suite_runs_from_the_page_and_its_table_is_the_stored_runs(page, model_server, tmp_path):
    workspace = sample_workspace(tmp_path / "ws")
    env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": model_server.base_url,
           "COPE_MODEL": model_server.model, "COPE_LOCAL_SERVER": "1" if model_server.is_local else "0"}
    with running_app(env) as url:
        page.goto(url)
        page.get_by_text("Healthy").wait_for(timeout=WAIT)
        goto(page, "Model card table")
        limit = page.get_by_role("spinbutton", name="Items per area")
        limit.fill("4")
        limit.press("Enter")
        page.get_by_text("8 items per side (self-harm 4, violence 4)").wait_for(timeout=WAIT)
        idle(page)
        page.get_by_role("button", name="Run the suite").click()
        page.get_by_role("heading", name="The card's table").wait_for(timeout=180_000)
        save_screenshot(page, "suite", tmp_path)
        idle(page)
        with page.expect_download(timeout=WAIT) as csv_download:
            page.get_by_role("button", name="Download the table (.csv)").click()
        with page.expect_download(timeout=WAIT) as md_download:
            page.get_by_role("button", name="Download the table (.md)").click()
        assert md_download.value.suggested_filename == "model-card-table.md"
        markdown = open(md_download.value.path(), encoding="utf-8").read()
        shown = pd.read_csv(csv_download.value.path()).set_index("area")
    with Store(workspace / ".cope_eval") as store:
        runs = store.runs()
        assert len(runs) == 2 and all(r.status == "completed" for r in runs)
        expected = {}
        for run in runs:
            results = run_results(store, run.id)
            area = store.policy_version(run.policy_version_id).policy
            ok = results["error"].isna()
            y, predicted = results["label"][ok], (results["score"][ok] >= run.threshold).astype(int)
            expected[area] = {m: s(y, predicted, zero_division=0) for m, s in SCORERS.items()}
            row = shown.loc[area]
            assert (row["run_id"], row["n"], row["n"] + row["errors"]) == (run.id, ok.sum(), 4)
    assert set(expected) == {"self-harm", "violence"}
    for area, figures in expected.items():
        for metric, value in figures.items():
            assert shown.loc[area, metric] == pytest.approx(value)
        [line] = [line.replace("\\", "") for line in markdown.splitlines()
                  if line.replace("\\", "").startswith(f"| {area} |")]
        assert [cell.split(" [")[0] for cell in line.split(" | ")[1:4]] == [f"{figures[m]:.3f}" for m in SCORERS]
    mean_f1 = sum(f["f1"] for f in expected.values()) / 2
    assert shown.loc[MEAN_ROW, "f1"] == pytest.approx(mean_f1) and shown.loc[MEAN_ROW, "status"] == "mean over 2 areas"
    plain = markdown.replace("\\", "")
    assert f"| Unweighted mean (over 2 areas) | " in plain and f"{mean_f1:.3f} [" in plain
    assert page.dialogs == []
