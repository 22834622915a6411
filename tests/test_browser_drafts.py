"""An unsaved policy edit in a real browser: it survives a page switch and a reload, as a draft."""

import pytest
from playwright.sync_api import TimeoutError, expect

from cope_eval.policies import list_versions, save_version
from tests.browser import WAIT, goto, running_app

pytestmark = [pytest.mark.browser]

V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person.\n"
EDIT = V1 + "- Threats made in jest still count.\n"
NO_SERVER = "http://127.0.0.1:9/v1"
"""Nothing answers here: the page needs no model server."""


def _leave_for(page, title: str) -> None:
    """Click another page in the sidebar, as someone who just typed would: the first click only ends
    the edit (the text area sends its text on blur, and Streamlit reruns), so click again if needed."""
    link = page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True)
    heading = page.get_by_role("heading", name=title).first
    for _ in range(3):
        link.click()
        try:
            heading.wait_for(timeout=5_000)
            return
        except TimeoutError:
            continue
    heading.wait_for(timeout=WAIT)


def test_an_unsaved_edit_survives_a_page_switch_and_a_reload(page, tmp_path):
    workspace = tmp_path / "ws"
    save_version(workspace, "another", V1, note="first")
    save_version(workspace, "violence", V1, note="first")
    with running_app({"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": NO_SERVER}) as url:
        page.goto(url)
        goto(page, "Policies")
        page.get_by_role("combobox", name="Policy", exact=True).click()
        page.get_by_role("option", name="violence").click()
        editor = page.get_by_label("Policy text")
        expect(editor).to_have_value(V1, timeout=WAIT)

        editor.fill(EDIT)  # then straight to another page: no blur, no Ctrl+Enter first
        _leave_for(page, "Evaluate")
        goto(page, "Policies")

        expect(page.get_by_label("Policy text")).to_have_value(EDIT, timeout=WAIT)  # lost before
        page.get_by_text("Unsaved draft (edited from v1").wait_for(timeout=WAIT)

        page.reload()
        goto(page, "Policies")
        expect(page.get_by_label("Policy text")).to_have_value(EDIT, timeout=WAIT)
    assert [v.text for v in list_versions(workspace, "violence")] == [V1], "a draft is never a version"
    assert page.dialogs == []
