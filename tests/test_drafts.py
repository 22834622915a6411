"""Policy drafts: kept in the workspace's private folder, one per policy, never a version."""

import json

import pytest

from cope_eval.errors import ValidationError
from cope_eval.policies import (
    discard_draft, list_drafts, list_policies, list_versions, read_draft, save_draft, save_version
)

V1 = "# Criteria\n- Threats.\n"
V2 = V1 + "- Quotes are not threats.\n"
STARTER = "# Criteria\n- \n"


def test_a_draft_is_kept_read_back_and_discarded(tmp_path):
    first = save_version(tmp_path, "violence", V1)
    draft = save_draft(tmp_path, "violence", V2, parent=first.id)

    assert (draft.policy, draft.text, draft.parent) == ("violence", V2, first.id)
    assert read_draft(tmp_path, "violence") == draft
    assert json.loads((tmp_path / ".cope_eval" / "drafts" / "violence.json").read_text())["text"] == V2
    assert [v.text for v in list_versions(tmp_path, "violence")] == [V1], "a draft is never a version"

    discard_draft(tmp_path, "violence")
    assert read_draft(tmp_path, "violence") is None
    discard_draft(tmp_path, "violence")  # none left: nothing happens


def test_a_draft_equal_to_its_parent_is_no_draft(tmp_path):
    first = save_version(tmp_path, "violence", V1)
    save_draft(tmp_path, "violence", V2, parent=first.id)

    assert save_draft(tmp_path, "violence", V1.replace("\n", "\r\n"), parent=first.id) is None  # same text
    assert read_draft(tmp_path, "violence") is None


def test_a_new_policy_draft_is_no_draft_when_blank_or_the_starter_text(tmp_path):
    assert save_draft(tmp_path, None, " \n", template=STARTER) is None
    assert save_draft(tmp_path, None, STARTER, template=STARTER) is None
    assert read_draft(tmp_path, None) is None

    draft = save_draft(tmp_path, None, V1, template=STARTER)
    assert read_draft(tmp_path, None) == draft and draft.parent is None
    assert list_drafts(tmp_path) == [] and list_policies(tmp_path) == [], "a new policy's draft is no policy"


def test_a_draft_whose_parent_cannot_be_read_is_kept(tmp_path):
    assert save_draft(tmp_path, "violence", V1, parent="sha256:" + "0" * 64).text == V1


def test_list_drafts_newest_first_skipping_unreadable_files(tmp_path):
    save_draft(tmp_path, "a", V1)
    save_draft(tmp_path, "b", V2)
    folder = tmp_path / ".cope_eval" / "drafts"
    for name, older in (("a", "2026-01-01T00:00:00+00:00"), ("b", "2026-02-01T00:00:00+00:00")):
        data = json.loads((folder / f"{name}.json").read_text())
        (folder / f"{name}.json").write_text(json.dumps({**data, "saved_at": older}))
    (folder / "c.json").write_text("{not json")
    (folder / "Bad Name.json").write_text(json.dumps({"text": "x", "parent": None, "saved_at": "2027"}))

    assert [d.policy for d in list_drafts(tmp_path)] == ["b", "a"]
    assert read_draft(tmp_path, "c") is None


def test_a_draft_is_written_atomically_and_leaves_no_temporary_file(tmp_path):
    save_draft(tmp_path, "violence", V1)
    save_draft(tmp_path, "violence", V2)
    assert sorted(p.name for p in (tmp_path / ".cope_eval" / "drafts").iterdir()) == ["violence.json"]


@pytest.mark.parametrize("slug", ["../escape", ".hidden", "Con"])
def test_a_draft_name_is_a_safe_slug(tmp_path, slug):
    with pytest.raises(ValidationError):
        save_draft(tmp_path, slug, V1)
    with pytest.raises(ValidationError):
        read_draft(tmp_path, slug)
