"""The Workspace page (home): it lists everything it can, and says what it left out."""

import os

from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _state
from tests.apptest import messages, open_page, table
from tests.factories import POLICY_TEXT, make_golden


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
    assert table(at, "golden set")["golden set"].tolist() == ["set.csv"]
    [warning] = messages(at, "warning")
    assert "Left out of the list above (5)" in warning
    for entry in ("policies/violence/notes.json", "policies/violence/notes.txt", "policies/violence/old",
                  "policies/violence/draft-\\xff.md", "policies/日本語"):
        assert entry in warning


def test_a_fresh_workspace_is_told_to_write_a_policy(workspace, monkeypatch):
    at = open_page("home", monkeypatch)

    assert not at.exception
    [step] = messages(at, "info")[:1]
    assert step.startswith("**Next step:** Write a policy")


def test_recent_runs_show_f1_and_times_and_sets_show_items(workspace, monkeypatch):
    violence = save_version(workspace.root, "violence", POLICY_TEXT)
    golden = make_golden(4, name="violence")
    (workspace.golden_sets_dir / "later.csv").write_text("text,label\nhi,1\n")
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden, source="upload violence.csv")
        run = create_run(store, policy=violence, golden=golden, endpoint=Endpoint("http://h/v1", "m"))
        store.add_predictions(run.id, [(i, s, int(s >= 0.5), "", None, 1.0, 0)  # labels 0, 1, 0, 1
                                       for i, s in zip(golden.items["id"], [0.1, 0.9, 0.2, 0.8])])
        store.mark_run(run.id, "completed")

    at = open_page("home", monkeypatch)

    assert not at.exception
    runs = table(at, "F1 at 0.5")
    assert runs["F1 at 0.5"].tolist() == [1.0] and runs["started"].tolist() == ["just now"]
    assert runs["golden set"].tolist() == ["violence"] and runs["status"].tolist() == ["completed"]
    sets = table(at, "items")
    assert sets["golden set"].tolist() == ["violence", "later.csv"]
    assert sets["items"].tolist()[0] == 4 and "bytes" not in sets.columns
    assert sets["items"].isna().tolist()[1], "a file not loaded yet has no count"
    for column in ("items", "F1 at 0.5"):  # Streamlit writes "None" in an empty cell unless given a placeholder
        [grid] = [d for d in at.dataframe if column in d.value.columns]
        assert grid.proto.HasField("placeholder") and grid.proto.placeholder in ("", "—")
    assert messages(at, "info")[0].startswith("**Next step:** Edit violence and save a second version")

    at.button(key=_state.HOME_NEXT).click().run()  # goes there, on the policy and set it names
    assert not at.exception
    assert at.session_state[_state.CURRENT_POLICY] == "violence"
    assert at.session_state[_state.CURRENT_GOLDEN] == golden.hash
    assert at.selectbox(key=_state.POLICY_SLUG).value == "violence"
