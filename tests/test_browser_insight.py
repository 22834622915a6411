"""The Insight page in a real browser, on the real vLLM: probes, clause ablation, error triage.

A small threats policy is scored over a 6-item golden set through the library (the Evaluate
page's own path is covered by test_browser_loop); everything after that happens on the page:
a probe study and a two-clause ablation are started from their tabs and scored in the app's
background, and a confident disagreement is tagged as a policy gap on the Error triage tab,
which puts it on the Policies page's checklist; back on Insight, that tab is open again. One
golden item is hostile markup (an image with an onerror handler and a javascript: link): the
``page`` fixture records every JavaScript dialog, and there must be none.
"""

import csv
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from cope_eval.config import Workspace
from cope_eval.golden import load_golden_set
from cope_eval.insight import ABLATION, PROBES
from cope_eval.insight._probe_policies import INVERTED_OVERVIEW
from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store
from tests.browser import WAIT, goto, idle, running_app, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.model]

HOSTILE = "<img src=x onerror=alert(1)> [click me](javascript:alert(2))"
POLICY = """# Criteria

## Overview

This policy identifies threats: content that threatens harm to a specific person.

## Definition of Label

### Threat (TH)

#### Includes

- Threats to hurt or kill a specific person.
- Statements that the author knows where a target lives and is coming.

#### Excludes

- Everyday talk about food, weather or plans with no threat.
"""
ITEMS = [  # id, text, label, category
    ("t1", "I will hurt you tomorrow.", 1, "threat"),
    ("t2", "I know where you live and I am coming for you.", 1, "threat"),
    ("b1", "Nice weather today.", 0, "benign"),
    ("b2", "The cake recipe needs two eggs.", 0, "benign"),
    ("b3", "Let's meet for coffee at noon.", 0, "benign"),
    ("h1", HOSTILE, 0, "markup"),
]
ITEM_IDS = sorted(i[0] for i in ITEMS)
STUDY_WAIT = 600_000  # the CPU-only vLLM is shared with other test runs


def _seed(root, server) -> str:
    """The policy, the golden set and one completed run of it on the real server; the run's id."""
    workspace = Workspace(root).ensure()
    version = save_version(root, "threats", POLICY, note="first cut", author="ana")
    path = root / "golden_sets" / "threats.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows([("id", "text", "label", "category"), *ITEMS])
    endpoint = Endpoint(server.base_url, server.model)
    with Store(workspace.private_dir) as store:
        golden = load_golden_set(path, root).golden_set
        store.put_golden_set(golden, source=str(path))
        run = create_run(store, policy=version, golden=golden, endpoint=endpoint, concurrency=4)
        result = execute_run(store, run.id, endpoint, workspace_root=root)
        scores = store.predictions(run.id).set_index("item_id")["score"]
    assert result.run.status == "completed" and result.progress.errors == 0, result
    assert scores["h1"] >= run.threshold, f"the triage step tags h1 as a false positive; the model scored {scores}"
    return run.id


def _study_predictions(root, kind: str) -> dict[str, list[str]]:
    """Each variant run of the workspace's one study of ``kind``: its predictions' item ids, sorted."""
    with Store(Workspace(root).private_dir) as store:
        (study,) = store.studies(kind)
        found = {}
        for member in study.runs:
            predictions = store.predictions(member.run_id)
            assert predictions["error"].isna().all(), predictions
            found[member.role] = sorted(predictions["item_id"])
    return found


def _panel(page, tab: str):
    """The tab's panel (only the open tab is drawn: clicking one draws it)."""
    page.get_by_role("tab", name=tab).click()
    return page.locator('[role="tabpanel"]:visible')


def _inert(page) -> None:
    """The hostile item made no element: no image with its handler, no javascript: link."""
    idle(page)
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0


def test_insight_probes_ablation_and_triage(page, model_server, tmp_path):
    root = tmp_path / "ws"
    with ThreadPoolExecutor(1) as pool:  # the runner calls asyncio.run(): not beside Playwright's loop
        run_id = pool.submit(_seed, root, model_server).result()
    env = {"COPE_EVAL_HOME": str(root), "COPE_BASE_URL": model_server.base_url, "COPE_MODEL": model_server.model,
           "COPE_LOCAL_SERVER": "1" if model_server.is_local else "0"}
    with running_app(env) as url:
        page.goto(url)
        page.get_by_text("Healthy").wait_for(timeout=WAIT)
        goto(page, "Insight")

        # 1. Steerability probes over all 6 items: 2 variants scored in the app's background.
        tab = _panel(page, "Steerability probes")
        tab.get_by_text("No probe of this run yet.").wait_for(timeout=WAIT)
        tab.get_by_text("All scored items").click()
        tab.get_by_text("At most 2 × 6 = 12 requests").wait_for(timeout=WAIT)
        idle(page)
        tab.get_by_role("button", name="Run probes").click()
        tab.get_by_text("Flip rate", exact=True).wait_for(timeout=STUDY_WAIT)
        for metric in ("Mean |ΔP|", "Off-topic flags", "Base flag rate", "Errors"):
            tab.get_by_text(metric, exact=True).wait_for(timeout=WAIT)
        tab.get_by_text("6 items at the base run's threshold 0.5.").wait_for(timeout=WAIT)
        expect(tab.get_by_role("combobox", name="Probe")).to_have_value(re.compile(r"· completed$"), timeout=WAIT)
        verdicts = tab.locator('[data-testid="stAlert"]')
        assert verdicts.count() >= 1, "a warning, or the all-clear, is shown"
        tab.get_by_text("What the limits mean").click()
        tab.get_by_text(re.compile("^Flip rate below 50%")).wait_for(timeout=WAIT)
        tab.get_by_text("The inverted policy that was scored").click()
        inverted = tab.locator('[data-testid="stCode"]').first
        inverted.wait_for(timeout=WAIT)
        assert INVERTED_OVERVIEW in " ".join(inverted.inner_text().split())
        assert _study_predictions(root, PROBES.name) == {"inverted": ITEM_IDS, "off-topic": ITEM_IDS}
        save_screenshot(page, "insight", tmp_path)

        # 2. Clause ablation of two clauses: 2 variants × 6 items.
        tab = _panel(page, "Clause ablation")
        tab.get_by_text("No ablation of this run yet.").wait_for(timeout=WAIT)
        clauses = tab.get_by_label("Clauses to remove, one per variant (none chosen: every clause)")
        for clause in ("includes-1", "excludes-1"):
            clauses.click()
            page.get_by_role("option", name=clause, exact=True).click()
            page.keyboard.press("Escape")
            idle(page)
        tab.get_by_text("At most 2 × 6 = 12 requests").wait_for(timeout=WAIT)
        tab.get_by_role("button", name="Run ablation").click()
        tab.get_by_text(re.compile("^Base run at threshold 0.5: precision")).wait_for(timeout=STUDY_WAIT)
        table = tab.locator('[data-testid="stDataFrame"]').nth(1)  # the clause list, then the effects
        table.wait_for(timeout=WAIT)
        expect(tab.get_by_role("combobox", name="Ablation")).to_have_value(re.compile(r"· completed$"), timeout=WAIT)
        assert _study_predictions(root, ABLATION.name) == {"without:includes-1": ITEM_IDS,
                                                           "without:excludes-1": ITEM_IDS}

        # 3. Error triage at the lowest confidence lists every disagreement; tag the hostile one.
        tab = _panel(page, "Error triage")
        tab.get_by_role("slider").first.press("Home")
        tab.get_by_text(re.compile(r"; 0 less confident than 0.5 not shown")).wait_for(timeout=WAIT)
        tab.locator('[data-testid="stDataFrame"]').wait_for(timeout=WAIT)
        tab.get_by_label("Item (from the table above)").click()
        page.get_by_role("option", name="FP · h1").click()
        idle(page)
        tab.get_by_label("Note").fill(f"Markup quoted in a post: {HOSTILE}")
        tab.get_by_label("Your name").fill("bo")
        tab.get_by_label("Your name").press("Tab")
        idle(page)
        tab.get_by_role("button", name="Save tag").click()
        tab.get_by_text("Item h1 is tagged as a policy gap.").wait_for(timeout=WAIT)
        _inert(page)

        # ...and it is on the Policies page's checklist, its text shown as text.
        goto(page, "Policies")
        page.get_by_text("1 open · 0 done").wait_for(timeout=WAIT)
        gap = page.get_by_role("checkbox", name=re.compile("Markup quoted in a post"))
        gap.wait_for(timeout=WAIT)
        assert HOSTILE in page.locator('[data-testid="stCheckbox"]').inner_text()
        page.get_by_text(f"h1: {HOSTILE}").wait_for(timeout=WAIT)  # the item's text, in the caption below
        _inert(page)

        # 4. Back on Insight: the tab left open is open again, and the name typed in it is still there.
        goto(page, "Insight")
        expect(page.get_by_role("tab", name="Error triage")).to_have_attribute("aria-selected", "true", timeout=WAIT)
        expect(page.locator('[role="tabpanel"]:visible').get_by_label("Your name")).to_have_value("bo", timeout=WAIT)

    with Store(Workspace(root).private_dir) as store:
        tags = store.triage_tags("threats")
    assert list(zip(tags["item_id"], tags["tag"], tags["author"])) == [("h1", "policy_gap", "bo")]
    assert tags["run_id"].tolist() == [run_id]
    assert page.dialogs == []
