"""The whole loop in a real browser: edit -> save -> upload -> run -> compare -> export, on the real vLLM.

Hostile content (HTML, scripts) sits in the policy, its note and a golden item all along; the
``page`` fixture records every JavaScript dialog, and there must be none.
"""

import re
import time

import pytest

from cope_eval.policies import list_versions, save_version
from cope_eval.store import Store
from tests.browser import WAIT, goto, idle, running_app, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.model]

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person.\n"
V2 = V1 + f"- Quoted markup such as {HOSTILE}\n"
CSV = (
    "id,text,label,category\n"
    "p1,I will hurt you tomorrow.,1,threat\n"
    "p2,Nice weather today.,0,benign\n"
    f"p3,\"{HOSTILE}\",1,markup\n"
    "p4,I know where you live and I am coming.,1,threat\n"
    "p5,The cake recipe needs two eggs.,0,benign\n"
    "p6,Let's meet for coffee.,maybe,benign\n"
)


def _runs_done(workspace, n: int, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Store(workspace / ".cope_eval") as store:
            runs = store.runs()
        if len(runs) == n and all(r.status == "completed" for r in runs):
            return
        time.sleep(1)
    raise AssertionError(f"runs did not complete: {[(r.id, r.status) for r in runs]}")


def test_edit_save_upload_run_compare(page, model_server, tmp_path):
    workspace = tmp_path / "ws"
    save_version(workspace, "violence", V1, note="first cut", author="ana")
    (tmp_path / "posts.csv").write_text(CSV)
    env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": model_server.base_url,
           "COPE_MODEL": model_server.model, "COPE_LOCAL_SERVER": "1" if model_server.is_local else "0"}
    with running_app(env) as url:
        page.goto(url)
        page.get_by_text("Healthy").wait_for(timeout=WAIT)

        # 1. Policies: edit the text, save a new version with a note.
        goto(page, "Policies")
        editor = page.get_by_label("Policy text")
        editor.fill(V2)
        editor.blur()
        page.get_by_label("Note for this version").fill(HOSTILE)
        page.get_by_label("Author").fill("bo")
        page.get_by_label("Author").press("Tab")
        idle(page)
        page.get_by_role("button", name="Save as new version").click()
        page.get_by_text("Saved version").wait_for(timeout=WAIT)
        page.get_by_text("Compare two versions").wait_for(timeout=WAIT)
        page.get_by_text("1 lines added").wait_for(timeout=WAIT)
        assert page.locator("table.policy-diff").inner_text().count("<script>alert(2)</script>") == 1
        versions = list_versions(workspace, "violence")
        assert [v.note for v in versions] == ["first cut", HOSTILE] and versions[1].text == V2
        save_screenshot(page, "policies", tmp_path)

        # 2. Golden sets: upload a file with a bad row; see it; save the valid rows.
        goto(page, "Golden sets")
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(tmp_path / "posts.csv"))
        page.get_by_text("1 problem(s) in 1 row(s)").wait_for(timeout=WAIT)
        page.get_by_role("button", name="Save the 5 valid rows (leaves out 1)").click()
        page.get_by_text("Saved golden set").wait_for(timeout=WAIT)
        page.get_by_role("tab", name="Browse and correct labels").click()
        page.get_by_text("5 of 5 items match").wait_for(timeout=WAIT)
        save_screenshot(page, "golden_sets", tmp_path)

        # 3. Evaluate: both versions over the set (one run each), on the real vLLM.
        goto(page, "Evaluate")
        page.get_by_text("Versions (one run each)").wait_for(timeout=WAIT)
        page.locator('[data-testid="stMultiSelect"] input').first.click()
        page.get_by_role("option", name=re.compile("first cut")).click()
        page.keyboard.press("Escape")
        idle(page)
        page.get_by_role("button", name="Start").click()
        _runs_done(workspace, 2)
        page.get_by_text(re.compile(r"completed · 5 / 5 items")).first.wait_for(timeout=WAIT)
        page.get_by_label("Content").fill(HOSTILE)
        page.get_by_label("Content").blur()
        idle(page)
        page.get_by_role("button", name="Check", exact=True).click()
        page.get_by_text('P("1")').wait_for(timeout=WAIT)
        save_screenshot(page, "evaluate", tmp_path)

        # 4. Compare: the two runs, a picked threshold, flips and the policy diff.
        goto(page, "Compare")
        page.get_by_text("B against A").wait_for(timeout=WAIT)
        page.get_by_role("button", name="Max F1").click()
        page.get_by_text(re.compile("chosen among .* for the highest F1")).wait_for(timeout=WAIT)
        page.get_by_text("Flips", exact=True).wait_for(timeout=WAIT)
        idle(page)
        assert page.locator("table.policy-diff").count() == 1
        save_screenshot(page, "compare", tmp_path)

        # 5. Export: the newer version's bundle at its highest-F1 threshold.
        goto(page, "Export")
        page.get_by_text("Highest F1").click()
        page.get_by_text("picked for the highest F1").wait_for(timeout=WAIT)
        page.get_by_role("button", name="Download the bundle (.zip)").wait_for(timeout=WAIT)
        save_screenshot(page, "export", tmp_path)

    assert page.dialogs == []
