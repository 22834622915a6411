"""The Workspace page (home): it lists everything it can, and says what it left out."""

import os

from cope_eval.policies import save_version
from tests.apptest import messages, open_page, table
from tests.factories import POLICY_TEXT


def test_a_stray_entry_in_a_policy_folder_does_not_blank_the_page(workspace, monkeypatch):
    save_version(workspace.root, "violence", POLICY_TEXT)
    save_version(workspace.root, "drugs", POLICY_TEXT)
    folder = workspace.policies_dir / "violence"
    (folder / "notes.json").write_text("not a version")  # read as version metadata before: the page crashed
    (folder / "notes.txt").write_bytes(b"\xff\xfe not UTF-8")
    (folder / "old").mkdir()
    with open(os.fsencode(folder) + b"/draft-\xff.md", "wb") as fh:  # a file name that is not UTF-8
        fh.write(b"x")
    (workspace.policies_dir / "日本語").mkdir()  # a folder name that is no policy name
    (workspace.golden_sets_dir / "set.csv").write_text("text,label\nhi,1\n")

    at = open_page("home", monkeypatch)

    assert not at.exception
    assert table(at, "policy")["policy"].tolist() == ["drugs", "violence"]
    assert table(at, "file")["file"].tolist() == ["set.csv"]
    [warning] = messages(at, "warning")
    assert "Left out of the list above (5)" in warning
    for entry in ("policies/violence/notes.json", "policies/violence/notes.txt", "policies/violence/old",
                  "policies/violence/draft-\\xff.md", "policies/日本語"):
        assert entry in warning
