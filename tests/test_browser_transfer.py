"""Fairness and "Carry a threshold" on Compare, then Export, in a real browser, on two runs of the
real vLLM: one policy version on one golden set under two templates (cope-b and cope-a), as a
team moving from CoPE-A to CoPE-B would score it.

The transfer the page shows is checked against the runs' stored scores directly (the flag rate
it keeps, the one it reaches); the exported card must carry the transfer's source and threshold.
"""

import json
import re
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from cope_eval.export import transfer_runs
from cope_eval.golden import golden_set_hash
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store, run_results
from tests.browser import WAIT, download, goto, idle, running_app, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.model]

POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person.\n"
TEXTS = ["I will hurt you tomorrow.", "Nice weather today.", "I know where you live and I am coming.",
         "The cake recipe needs two eggs.", "You will regret this, watch your back.", "Happy birthday!",
         "Je vais te faire mal.", "Il fait beau aujourd'hui.", "Tu vas le regretter.", "La recette du gâteau.",
         "Je sais où tu habites.", "Bon anniversaire !"]


@pytest.fixture
def two_templates(tmp_path, model_server):
    workspace = tmp_path / "ws"
    items = pd.DataFrame({"id": [f"p{i:02d}" for i in range(len(TEXTS))], "text": TEXTS,
                          "label": [1, 0] * (len(TEXTS) // 2), "image": None, "category": None,
                          "language": ["en"] * 6 + ["<i>fr</i>"] * 6})
    golden = GoldenSet("posts", golden_set_hash(items), items)
    endpoint = Endpoint(model_server.base_url, model_server.model)
    with Store(workspace / ".cope_eval") as store:
        store.put_golden_set(golden)
        version = save_version(workspace, "violence", POLICY, note="first")
        runs = []
        for template in ("cope-a", "cope-b"):  # ids name the second: B is the newer, Compare's default pair
            runs.append(create_run(store, policy=version, golden=golden, endpoint=endpoint, template=template))
            time.sleep(1.1)
        for run in runs:
            with ThreadPoolExecutor(1) as pool:  # not on this thread: Playwright's event loop runs there
                pool.submit(execute_run, store, run.id, endpoint, workspace_root=workspace).result()
        transfer = transfer_runs(store, runs[0].id, runs[1].id, keep="flag-rate")
        scores = [run_results(store, run.id)["score"].to_numpy() for run in runs]
    env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": model_server.base_url,
           "COPE_MODEL": model_server.model, "COPE_LOCAL_SERVER": "1" if model_server.is_local else "0"}
    return env, runs, transfer, scores


def test_fairness_and_a_carried_threshold_reach_the_export_card(page, two_templates, tmp_path):
    env, (a, b), transfer, (scores_a, scores_b) = two_templates
    assert not np.isnan(scores_a).any() and not np.isnan(scores_b).any(), "every item scored by both templates"
    # The transfer keeps A's flag rate at 0.5 and reaches B's, both as the stored scores say.
    assert transfer.target == pytest.approx(np.mean(scores_a >= 0.5))
    assert transfer.achieved == pytest.approx(np.mean(scores_b >= transfer.threshold_b))
    found = f"{transfer.threshold_b:.4f}"
    with running_app(env) as url:
        page.goto(url)
        page.get_by_text("Healthy").wait_for(timeout=WAIT)
        goto(page, "Compare")
        page.get_by_text("B against A").wait_for(timeout=WAIT)

        # Fairness: group by the metadata column; both runs' gaps side by side.
        page.get_by_role("tab", name="Fairness").click()
        fairness = page.get_by_role("tabpanel", name="Fairness")
        # The smallest group size first, then the column: no typing while the groups are being rated.
        few = fairness.get_by_role("spinbutton", name="Fewest items a group needs")
        few.fill("3")
        few.press("Enter")
        idle(page)
        expect(few).to_have_value("3", timeout=WAIT)
        fairness.get_by_role("combobox").first.click()
        page.get_by_role("option", name="language", exact=True).click()
        page.keyboard.press("Escape")
        idle(page)
        fairness.get_by_text("Did B narrow or widen the gaps?").wait_for(timeout=WAIT)
        fairness.get_by_text("2 groups, 0 with too few items").wait_for(timeout=WAIT)
        save_screenshot(page, "compare_fairness", tmp_path)

        # Carry A's flag rate to B; put B's threshold on the slider.
        page.get_by_role("tab", name="Carry a threshold").click()
        carry = page.get_by_role("tabpanel", name="Carry a threshold")
        carry.get_by_text("flag rate", exact=True).click()
        idle(page)
        carry.get_by_role("button", name=re.compile(r"^Find .*'s threshold$")).click()
        idle(page)
        carry.get_by_text(f"B's threshold {found}").wait_for(timeout=WAIT)
        carry.get_by_text(re.compile("flag rate")).first.wait_for(timeout=WAIT)
        save_screenshot(page, "compare_transfer", tmp_path)
        carry.get_by_role("button", name=re.compile("^Use it on the slider")).click()
        expect(page.get_by_role("slider")).to_have_attribute("aria-valuetext", found, timeout=WAIT)

        # Export: the Compare page's threshold is the carried one, and the card says where it came from.
        goto(page, "Export")
        page.get_by_text("The Compare page's", exact=True).click()
        page.get_by_text(re.compile(rf"^Threshold {found}: the Compare page's \(keeps ")).wait_for(timeout=WAIT)
        idle(page)
        zipped = download(page, page.get_by_role("button", name="Download the bundle (.zip)"))
        with zipfile.ZipFile(zipped.path()) as archive:
            [card_name] = [n for n in archive.namelist() if n.endswith("/card.json")]
            card = json.loads(archive.read(card_name))
    assert card["run"]["id"] == b.id
    assert card["threshold"]["method"] == "transfer" and card["threshold"]["value"] == pytest.approx(transfer.threshold_b)
    assert card["transfer"]["from_run"] == a.id and card["transfer"]["keep"] == "flag-rate"
    assert card["transfer"]["template"] == "cope-a"
    assert page.dialogs == []
