"""Importing a real-world file in a real browser: semicolon-separated, text in ``comment``, the
fraction of annotators in ``isHate``; mapped through the import step and saved with its rule."""

import re

import pytest
from playwright.sync_api import expect

from cope_eval.config import Workspace
from cope_eval.store import Store
from tests.browser import WAIT, choose, running_app, save_screenshot

pytestmark = [pytest.mark.browser]

NO_SERVER = "http://127.0.0.1:9/v1"
HATE = ("id;comment;isHate\n"
        "h1;you are lovely;0.0\n"
        "h2;I hate all of them;0.83\n"
        "h3;meh, whatever;0.33\n"
        "h4;borderline;0.5\n"
        "h5;so kind;0.0\n"
        "h6;they should all go away;1.0\n")


def test_a_semicolon_file_with_fractional_labels_is_imported_and_saved(page, tmp_path):
    workspace = tmp_path / "ws"
    (tmp_path / "hate.csv").write_text(HATE)
    with running_app({"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": NO_SERVER}) as url:
        page.goto(url)
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Golden sets", exact=True).click()
        page.get_by_role("heading", name="Golden sets").first.wait_for(timeout=WAIT)
        page.locator('input[type="file"]').set_input_files(str(tmp_path / "hate.csv"))

        expect(page.get_by_role("combobox", name="Delimiter", exact=True)).to_have_value("sniffed: semicolon",
                                                                                          timeout=WAIT)
        choose(page, "Text column", "comment")
        page.get_by_text('choose it in "Text column" above').wait_for(state="detached", timeout=WAIT)
        choose(page, "Label column", "isHate")
        fix = page.get_by_role("button", name="Fix the mapping: label 1 when value ≥ 0.5")
        expect(fix).to_be_visible(timeout=WAIT)
        expect(page.get_by_role("button", name="Save the 3 valid rows (leaves out 3)")).to_be_visible()
        save_screenshot(page, "golden_import", tmp_path)

        page.get_by_text("1 when value ≥ a threshold", exact=True).click()
        threshold = page.get_by_label("1 when value ≥", exact=True)
        expect(threshold).to_have_value("0.50", timeout=WAIT)
        save = page.get_by_role("button", name="Save 6 valid items as golden set")
        save.click()
        page.get_by_text("Saved golden set").wait_for(timeout=WAIT)

        page.get_by_role("tab", name="Browse and correct labels").click()
        page.get_by_text("6 items: 3 labeled 1, 3 labeled 0").wait_for(timeout=WAIT)
        page.get_by_text(re.compile(r"^Imported from upload hate\.csv; delimiter semicolon \(sniffed\).*"
                                    r"label rule: 1 when value ≥ 0\.5, else 0$")).wait_for(timeout=WAIT)
    with Store(Workspace(workspace).private_dir) as store:
        [golden_hash] = store.golden_sets()["hash"]
        labels = store.golden_set(golden_hash).items.set_index("id")["label"].to_dict()
    assert labels == {"h1": 0, "h2": 1, "h3": 0, "h4": 1, "h5": 0, "h6": 1}
    assert page.dialogs == []
