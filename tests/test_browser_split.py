"""The dev/test discipline in a real browser, on runs of the real vLLM: split a golden set on the
Golden sets page, score two policy versions over the split version, see Compare report dev only,
reveal the test split on purpose (recorded), and see Export count the looks."""

import re
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from cope_eval.golden import golden_set_hash
from cope_eval.metrics import metrics_at_threshold
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store, recorded_reveals, run_results
from tests.browser import WAIT, goto, idle, running_app, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.model]

V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person.\n"
V2 = V1 + "- Wishing harm on someone.\n"
TEXTS = ["I will hurt you tomorrow.", "Nice weather today.", "I know where you live.", "Two eggs, one cup of flour.",
         "You will regret this.", "Happy birthday!", "Watch your back.", "The train is late again.",
         "I'll break your legs.", "Lovely sunset tonight.", "Someone should hurt him.", "Meeting moved to 3pm.",
         "I hope you suffer.", "New phone, who dis?", "You're dead to me, literally soon.", "Great match yesterday.",
         "I'm coming for you.", "Coffee at noon?", "Burn it all down with them inside.", "Thanks for the help!"]


@pytest.fixture
def unsplit(tmp_path, model_server):
    workspace = tmp_path / "ws"
    items = pd.DataFrame({"id": [f"p{i:02d}" for i in range(len(TEXTS))], "text": TEXTS,
                          "label": [1, 0] * (len(TEXTS) // 2), "image": None, "category": None})
    golden = GoldenSet("posts", golden_set_hash(items), items)
    with Store(workspace / ".cope_eval") as store:
        store.put_golden_set(golden, source="test fixture")
    versions = [save_version(workspace, "violence", text, note=note) for text, note in ((V1, "first"), (V2, "second"))]
    env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": model_server.base_url,
           "COPE_MODEL": model_server.model, "COPE_LOCAL_SERVER": "1" if model_server.is_local else "0"}
    return env, workspace, golden, versions, Endpoint(model_server.base_url, model_server.model)


def test_split_then_compare_shows_dev_until_the_test_split_is_revealed(page, unsplit, tmp_path):
    env, workspace, golden, versions, endpoint = unsplit
    with running_app(env) as url:
        page.goto(url)
        page.get_by_text("Healthy").wait_for(timeout=WAIT)
        goto(page, "Golden sets")
        page.get_by_role("tab", name="Browse and correct labels").click()
        page.get_by_text("Split into dev and test").click()
        page.get_by_role("button", name="Split into a new version").click()
        page.get_by_text(re.compile(r"Split posts into 14 dev and 6 test items: version ")).wait_for(timeout=WAIT)
        page.get_by_role("tab", name="Browse and correct labels").click()  # the page drew anew: the new version
        page.get_by_text("Split: 14 dev items to iterate on, 6 test items held out.").wait_for(timeout=WAIT)

        with Store(workspace / ".cope_eval") as store:
            [split_hash] = [h for h in store.golden_sets()["hash"] if h != golden.hash]
            split = store.golden_set(split_hash)
            runs = []
            for version in versions:
                run = create_run(store, policy=version, golden=split, endpoint=endpoint)
                with ThreadPoolExecutor(1) as pool:  # not on this thread: Playwright's event loop runs there
                    pool.submit(execute_run, store, run.id, endpoint, workspace_root=workspace).result()
                runs.append(run)
            dev = [metrics_at_threshold(run_results(store, r.id), threshold=0.5) for r in runs]
            test = [metrics_at_threshold(run_results(store, r.id, split="test"), threshold=0.5) for r in runs]
        assert [m.n for m in dev] == [14, 14] and [m.n for m in test] == [6, 6]

        page.reload()
        goto(page, "Compare")
        page.get_by_text("B against A").wait_for(timeout=WAIT)
        page.get_by_text("Figures on the dev split (14 items of 20)").wait_for(timeout=WAIT)
        assert page.get_by_text("Test split (revealed)").count() == 0
        with Store(workspace / ".cope_eval") as store:
            assert recorded_reveals(store, runs[0].id).count == 0
        idle(page)
        page.get_by_role("button", name="Reveal test metrics").click()
        page.get_by_text("Test split (revealed)").wait_for(timeout=WAIT)
        save_screenshot(page, "compare_test_revealed", tmp_path)
        with Store(workspace / ".cope_eval") as store:
            looks = recorded_reveals(store, runs[0].id)
        assert looks.count == 2 and sorted(looks.looks["run_id"]) == sorted(r.id for r in runs)

        goto(page, "Export")
        caption = page.get_by_text(re.compile(r"^On the dev split\. Test split \(6 held-out items\) at this threshold: "))
        caption.wait_for(timeout=WAIT)
        b = test[1]
        assert f"precision {b.precision:.3f}, recall {b.recall:.3f}, f1 {b.f1:.3f}" in caption.inner_text()
        assert "looked at 2 time(s) before this export" in caption.inner_text()
    with Store(workspace / ".cope_eval") as store:
        assert recorded_reveals(store, runs[0].id).looks["place"].tolist() == ["page", "page", "export"]
    assert page.dialogs == []
