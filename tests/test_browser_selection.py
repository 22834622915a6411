"""The selection carries across pages in a real browser (issue 16, point 5), and a study's item
subset is never offered as a golden set (point 3: an analyst ran a policy on 20 probe items
without noticing)."""

import re

import pytest
from playwright.sync_api import expect

from cope_eval.insight import create_probe_study
from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.browser import WAIT, goto, options_of, running_app
from tests.factories import POLICY_TEXT, make_golden

pytestmark = [pytest.mark.browser]

NO_SERVER = "http://127.0.0.1:9/v1"
"""Nothing answers here: no page in this test needs a model server."""
EDIT = POLICY_TEXT + "- Threats made in jest still count.\n"


def _workspace(root):
    """Policies drugs and violence, golden sets "older" and "newer", and a probe study over two items
    of a run on "older": its item subset is stored last, so it would be the newest set listed."""
    save_version(root, "drugs", POLICY_TEXT)
    violence = save_version(root, "violence", POLICY_TEXT)
    older, newer = make_golden(6, name="older"), make_golden(4, name="newer", texts=list("abcd"))
    with Store(root / ".cope_eval") as store:
        store.put_golden_set(older)
        store.put_golden_set(newer)
        base = create_run(store, policy=violence, golden=older, endpoint=Endpoint("http://h/v1", "m"))
        store.add_predictions(base.id, [(i, 0.9, 1, "1", None, 1.0, 0) for i in older.items["id"]])
        store.mark_run(base.id, "completed")
        study = create_probe_study(store, base.id, selection="sample", limit=2)  # as the Probes tab does
        subset = store.golden_set(store.run(study.runs[0].run_id).golden_hash)
        assert subset.name == "older (probes items)" and len(subset) == 2
        assert subset.hash in store.golden_sets(study_subsets=True)["hash"].tolist()


def test_pages_open_on_what_was_just_saved_or_picked_and_never_on_a_study_subset(page, tmp_path):
    workspace = tmp_path / "ws"
    _workspace(workspace)
    with running_app({"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": NO_SERVER}) as url:
        page.goto(url)
        goto(page, "Policies")
        page.get_by_role("combobox", name="Policy", exact=True).click()
        page.get_by_role("option", name="violence").click()
        editor = page.get_by_label("Policy text")
        expect(editor).to_have_value(POLICY_TEXT, timeout=WAIT)
        editor.fill(EDIT)
        page.get_by_role("button", name="Save as new version").click()
        page.get_by_text("Saved version").wait_for(timeout=WAIT)

        goto(page, "Evaluate")
        expect(page.get_by_role("combobox", name="Policy", exact=True)).to_have_value("violence", timeout=WAIT)
        golden = page.get_by_role("combobox", name="Golden set", exact=True)
        expect(golden).to_have_value(re.compile(r"^newer"), timeout=WAIT)  # the newest set, not the subset
        offered = options_of(page, "Golden set")
        assert len(offered) == 2 and not any("probes items" in o for o in offered), offered

        goto(page, "Golden sets")
        page.get_by_role("tab", name="Browse and correct labels").click()
        offered = options_of(page, "Golden set")
        assert len(offered) == 2 and not any("probes items" in o for o in offered), offered
        page.get_by_role("combobox", name="Golden set", exact=True).click()
        page.get_by_role("option", name=re.compile(r"^older")).click()
        page.get_by_text("6 of 6 items match").wait_for(timeout=WAIT)

        goto(page, "Evaluate")
        expect(page.get_by_role("combobox", name="Golden set", exact=True)).to_have_value(re.compile(r"^older"),
                                                                                        timeout=WAIT)
        expect(page.get_by_role("combobox", name="Policy", exact=True)).to_have_value("violence", timeout=WAIT)
    assert page.dialogs == []
