"""Two tabs on one policy in a real browser: a version saved in one tab is announced in the other,
with its diff, before that tab saves a sibling that would lack its changes."""

import pytest
from playwright.sync_api import expect

from cope_eval.policies import list_versions, save_version
from tests.browser import WAIT, idle, running_app

pytestmark = [pytest.mark.browser]

V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person.\n"
TAB1 = V1 + "- Threats made in jest still count.\n"
TAB2 = V1 + "- Threats in song lyrics count too.\n"
NO_SERVER = "http://127.0.0.1:9/v1"
"""Nothing answers here: the page needs no model server."""


def _open_policies(page, url: str) -> None:
    page.goto(url)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Policies", exact=True).click()
    page.get_by_role("heading", name="Policies").first.wait_for(timeout=WAIT)
    expect(page.get_by_label("Policy text")).to_have_value(V1, timeout=WAIT)


def test_a_save_in_one_tab_is_announced_in_the_other_before_it_saves(page, tmp_path):
    workspace = tmp_path / "ws"
    first = save_version(workspace, "violence", V1, note="first")
    with running_app({"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": NO_SERVER}) as url:
        tab1, tab2 = page, page.context.new_page()
        _open_policies(tab1, url)
        _open_policies(tab2, url)  # both start editing from v1

        tab1.get_by_label("Policy text").fill(TAB1)
        tab1.get_by_label("Policy text").blur()
        tab1.get_by_label("Note for this version").fill("jest clause")
        tab1.get_by_label("Author").fill("bo")
        tab1.get_by_label("Author").press("Tab")
        idle(tab1)
        tab1.get_by_role("button", name="Save as new version").click()
        tab1.get_by_text('Saved version violence v2 · "jest clause"').wait_for(timeout=WAIT)

        tab2.get_by_label("Policy text").fill(TAB2)
        tab2.get_by_label("Policy text").blur()  # the edit reruns tab 2, which now sees v2
        notice = tab2.get_by_text("was saved after you started editing from v1")
        notice.wait_for(timeout=WAIT)
        assert "(by bo, " in notice.inner_text() and "it will not have v2's changes" in notice.inner_text()
        diff = tab2.locator("table.policy-diff").first
        expect(diff).to_contain_text("Threats in song lyrics count too.", timeout=WAIT)  # your text
        expect(diff).to_contain_text("Threats made in jest still count.")  # against v2's
        assert tab2.get_by_role("button", name="Save as new version").is_enabled()

        idle(tab2)
        tab2.get_by_role("button", name="Save as new version").click()  # saving stays possible
        tab2.get_by_text("Saved version violence v3").wait_for(timeout=WAIT)
    versions = list_versions(workspace, "violence")
    assert [v.text for v in versions] == [V1, TAB1, TAB2]
    assert [v.parent for v in versions] == [None, first.id, first.id], "tab 2's save is a sibling of v2"
    assert page.dialogs == []
