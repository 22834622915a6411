"""Compare -> Export and the predictions browser in a real browser, on two runs of the real vLLM.

Compare's Max F1 (on run B by default) must reach Export as that value and rule, not as 0.5
"set by hand"; the bundle downloads as ``<policy>-<hash8>.zip``. On Evaluate, the predictions
browser takes Compare's threshold, filters to one outcome and downloads exactly those rows.
"""

import csv
import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from playwright.sync_api import expect

from cope_eval.app import outcome_counts, predictions_table
from cope_eval.golden import golden_set_hash
from cope_eval.metrics import best_f1_threshold
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store, run_results
from tests.browser import WAIT, choose, download, goto, idle, running_app, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.model]

V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person.\n"
V2 = V1 + "- Wishing harm on someone.\n"
TEXTS = ["I will hurt you tomorrow.", "Nice weather today.", "I know where you live and I am coming.",
         "The cake recipe needs two eggs.", "=HYPERLINK(\"http://evil\")", "Let's meet for coffee.",
         "You will regret this, watch your back.", "Happy birthday to my friend!"]


@pytest.fixture
def two_runs(tmp_path, model_server):
    """Two policy versions scored over 8 items on the real model, through the library."""
    workspace = tmp_path / "ws"
    items = pd.DataFrame({
        "id": [f"p{i}" for i in range(len(TEXTS))], "text": TEXTS, "label": [1, 0] * (len(TEXTS) // 2),
        "image": None, "category": ["threat", "benign"] * (len(TEXTS) // 2)})
    golden = GoldenSet("posts", golden_set_hash(items), items)
    endpoint = Endpoint(model_server.base_url, model_server.model)
    runs = []
    with Store(workspace / ".cope_eval") as store:
        store.put_golden_set(golden)
        for text, note in ((V1, "first"), (V2, "second")):
            version = save_version(workspace, "violence", text, note=note)
            run = create_run(store, policy=version, golden=golden, endpoint=endpoint)
            with ThreadPoolExecutor(1) as pool:  # not on this thread: Playwright's event loop runs there
                pool.submit(execute_run, store, run.id, endpoint, workspace_root=workspace).result()
            runs.append(run)
        results_b = run_results(store, runs[1].id)
    env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": model_server.base_url,
           "COPE_MODEL": model_server.model, "COPE_LOCAL_SERVER": "1" if model_server.is_local else "0"}
    return env, runs, results_b, golden


def test_compare_max_f1_reaches_export_and_the_predictions_browser(page, two_runs, tmp_path):
    env, (a, b), results_b, golden = two_runs
    best = best_f1_threshold(results_b)
    assert best.found and round(best.threshold, 4) != 0.5, "a pick that looks like the default proves nothing"
    picked = f"{best.threshold:.4f}"
    bundle = f"violence-{b.policy_version_id[7:15]}"
    with running_app(env) as url:
        page.goto(url)
        page.get_by_text("Healthy").wait_for(timeout=WAIT)

        # Compare: Max F1 picks on run B unless told otherwise.
        goto(page, "Compare")
        page.get_by_text("B against A").wait_for(timeout=WAIT)
        page.get_by_role("button", name="Max F1").click()
        page.get_by_text(re.compile(rf"for the highest F1.*\(threshold {picked}\)")).wait_for(timeout=WAIT)

        # Export: the Compare page's threshold is that value, named by its rule.
        goto(page, "Export")
        page.get_by_text("The Compare page's", exact=True).click()
        caption = page.get_by_text(f"Threshold {picked}: the Compare page's (Max F1 on violence v2 ")
        caption.wait_for(timeout=WAIT)
        assert "set by hand" not in caption.inner_text() and "slider" not in caption.inner_text()
        expect(page.get_by_placeholder(f"exports/{bundle}")).to_have_count(1, timeout=WAIT)
        idle(page)
        zipped = download(page, page.get_by_role("button", name="Download the bundle (.zip)"))
        assert zipped.suggested_filename == f"{bundle}.zip"
        with zipfile.ZipFile(zipped.path()) as archive:
            assert all(name.startswith(f"{bundle}/") for name in archive.namelist())

        # Evaluate: the predictions browser of run B at Compare's threshold, cut to one outcome.
        counts = outcome_counts(predictions_table(results_b, golden.items, threshold=best.threshold))
        outcome = "FP" if counts["FP"] else max(("TP", "FN", "TN"), key=counts.get)
        goto(page, "Evaluate")
        page.get_by_text("Predictions", exact=True).wait_for(timeout=WAIT)
        expect(page.get_by_role("spinbutton", name="Threshold (score ≥ threshold is “1”)")).to_have_value(picked)
        page.get_by_text(f"8 of 8 items at threshold {picked}").wait_for(timeout=WAIT)
        choose(page, "Outcome", f"{outcome} ({counts[outcome]})")
        page.get_by_text(f"{counts[outcome]} of 8 items at threshold {picked}").wait_for(timeout=WAIT)
        save_screenshot(page, "predictions", tmp_path)
        idle(page)
        table = download(page, page.get_by_role("button", name=f"Download these {counts[outcome]} rows (.csv)"))
        assert table.suggested_filename == f"predictions-{b.id}.csv"
        rows = list(csv.DictReader(io.StringIO(open(table.path(), encoding="utf-8").read())))
        assert len(rows) == counts[outcome] and {r["outcome"] for r in rows} == {outcome}
    assert page.dialogs == []
