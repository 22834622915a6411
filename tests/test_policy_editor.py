"""What the Policies page decides about its editor (cope_eval.app._policy_editor), without Streamlit."""

from cope_eval.app import draft_base, draft_notice, editor_text, newer_version, opening_policy, saved_message
from cope_eval.policies import list_versions, save_draft, save_version
from cope_eval.records import short_id

V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats.\n"
V2 = V1 + "- Threats made in jest.\n"
EDIT = V1 + "- Threats in quotes.\n"


def _two(workspace):
    first = save_version(workspace.root, "violence", V1, note="first", created="2026-01-01T00:00:00Z")
    second = save_version(workspace.root, "violence", V2, parent=first.id, note="jest", author="bo",
                          created="2026-01-02T09:30:00Z")
    return first, second, list_versions(workspace.root, "violence")


def test_newer_version_is_announced_only_for_an_edit_that_would_be_a_sibling(workspace):
    first, second, versions = _two(workspace)

    newer = newer_version(versions, first.id, EDIT, seen=first.id)  # loaded when v1 was the newest

    assert newer.newest == second
    assert newer.message.startswith(f"v2 · {short_id(second.id, 8)} was saved after you started editing from "
                                     f"v1 · {short_id(first.id, 8)} (by bo, 2026-01-02 09:30 UTC). Saving makes")
    assert "+" in newer.diff.unified and "Threats in quotes" in newer.diff.unified
    assert "-- v2" in newer.diff.unified.splitlines()[0]  # the newest is the diff's old side
    assert newer_version(versions, second.id, EDIT, seen=first.id) is None  # editing from the newest
    assert newer_version(versions, first.id, V1, seen=first.id) is None  # nothing edited: nothing saved
    assert newer_version(versions, first.id, V2, seen=first.id) is None  # the newest's text
    assert newer_version(versions, None, EDIT, seen=None) is None  # a new policy
    on_purpose = newer_version(versions, first.id, EDIT, seen=second.id)  # v2 was there when it loaded
    assert "is newer than v1" in on_purpose.message and "saved after" not in on_purpose.message


def test_a_fresh_session_opens_on_the_newest_draft(workspace):
    assert opening_policy(workspace.root, None) == (False, None)
    assert opening_policy(workspace.root, "violence") == (False, "violence")
    first, _, _ = _two(workspace)
    save_draft(workspace.root, "violence", EDIT, parent=first.id)
    assert opening_policy(workspace.root, None) == (False, "violence")
    save_draft(workspace.root, None, EDIT)
    assert opening_policy(workspace.root, None) in ((True, None), (False, "violence"))  # same second: either


def test_the_draft_notice_names_its_version_by_label(workspace):
    first, second, versions = _two(workspace)
    draft = save_draft(workspace.root, "violence", EDIT, parent=first.id)
    by_id = {v.id: v for v in versions}

    notice = draft_notice(draft, versions, first.id)
    assert notice.startswith(f"Unsaved draft (edited from v1 · {short_id(first.id, 8)}, ") and notice.endswith(").")
    assert "pick v1 · " in draft_notice(draft, versions, second.id)
    assert editor_text(draft, by_id, first.id, "starter") == EDIT
    assert editor_text(draft, by_id, second.id, "starter") == V2
    assert draft_base(draft, by_id, "violence", ("other", None), picked=True)  # another policy was shown
    assert not draft_base(draft, by_id, "violence", ("violence", second.id), picked=True)  # v2 picked on purpose


def test_saved_message_names_the_version_by_its_title(workspace):
    first, second, _ = _two(workspace)
    assert saved_message(workspace.root, "violence", second.id, existed=False) == \
        f'Saved version violence v2 · "jest" ({short_id(second.id, 8)}).'
    assert saved_message(workspace.root, "violence", first.id, existed=True).startswith(
        "This text is already saved as version violence v1 ")
