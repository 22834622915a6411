"""Hostile content on every page of a real browser never runs: it is shown, escaped.

The workspace is seeded directly (no model needed): policy text, notes and authors, a golden-set
file name, item ids, texts, categories and an SVG image with scripts, and two scored runs in
which the hostile items flip, so they reach the flips table too.
"""

import base64

import pandas as pd
import pytest

from cope_eval.golden import golden_set_hash
from cope_eval.policies import list_versions, save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.browser import WAIT, goto, idle, running_app

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
SVG = "data:image/svg+xml;base64," + base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" '
                                                      b'onload="alert(5)"><script>alert(6)</script></svg>').decode()
POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats.\n"


def _seed(workspace) -> None:
    save_version(workspace, "violence", POLICY, note=HOSTILE, author=HOSTILE)
    save_version(workspace, "violence", POLICY + f"- {HOSTILE}\n", note="[link](javascript:alert(7))")
    (workspace / "golden_sets").mkdir(parents=True, exist_ok=True)
    (workspace / "golden_sets" / "<img src=x onerror=alert(8)>.csv").write_text(f'text,label\n"{HOSTILE}",1\nok,0\n')
    (workspace / "golden_sets" / "<img src=x onerror=alert(10)>.csv").write_text(f'text,colour\n"{HOSTILE}",red\n')
    items = pd.DataFrame({
        "id": ["<img src=x onerror=alert(3)>", "i2", "i3", "i4"],
        "text": [HOSTILE, "**bold** ![x](http://127.0.0.1:9/x.png)", "ok", "fine"],
        "label": [1, 0, 1, 0], "image": [SVG, "javascript:alert(9)", None, None],
        "category": ["<script>alert(4)</script>", ":red[alarm]", "ok", "ok"]})
    golden = GoldenSet("<b>set</b>", golden_set_hash(items), items)
    with Store(workspace / ".cope_eval") as store:
        store.put_golden_set(golden)
        for version, scores in zip(list_versions(workspace, "violence"), ([0.2, 0.9, 0.8, 0.1], [0.9, 0.1, 0.8, 0.1])):
            run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
            store.add_predictions(run.id, [(i, s, None, HOSTILE, None, 1.0, 0) for i, s in zip(items["id"], scores)])
            store.mark_run(run.id, "completed")


def test_hostile_content_is_shown_escaped_and_never_runs(page, tmp_path):
    workspace = tmp_path / "ws"
    _seed(workspace)
    env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": "http://127.0.0.1:9/v1"}
    with running_app(env) as url:
        page.goto(url)
        page.get_by_text("Golden sets (").wait_for(timeout=WAIT)

        goto(page, "Policies")
        page.get_by_text("Compare two versions").wait_for(timeout=WAIT)
        assert HOSTILE in page.locator("table.policy-diff").inner_text()

        goto(page, "Golden sets")
        files = page.get_by_role("combobox", name="…or load a file from the workspace's golden_sets/ folder")
        files.click()
        page.get_by_role("option", name="<img src=x onerror=alert(8)>.csv").click()
        page.get_by_text("2 valid items · preview").wait_for(timeout=WAIT)
        files.click()
        page.get_by_role("option", name="<img src=x onerror=alert(10)>.csv").click()
        error = page.locator('[data-testid="stMain"] [data-testid="stAlertContentError"]')
        error.wait_for(timeout=WAIT)  # the error message quotes the file name: shown as text
        assert "<img src=x onerror=alert(10)>.csv" in error.inner_text()
        page.get_by_role("tab", name="Browse and correct labels").click()
        page.get_by_text("4 of 4 items match").wait_for(timeout=WAIT)

        goto(page, "Evaluate")
        page.get_by_text("Follow run").wait_for(timeout=WAIT)

        goto(page, "Compare")
        page.get_by_text("Flips", exact=True).wait_for(timeout=WAIT)
        page.get_by_text("B against A").wait_for(timeout=WAIT)
        idle(page)
        page.wait_for_timeout(1500)  # let every table and chart draw
        assert HOSTILE in page.locator("table.policy-diff").inner_text()
        assert not page.evaluate("Array.from(document.scripts).some(s => s.textContent.includes('alert('))")
    assert page.dialogs == []
