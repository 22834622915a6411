"""The Insight page's Error triage tab: pick a run and a confidence, tag, send label errors."""

import pytest

from cope_eval.store import Store
from pages import _insight_triage, _state
from tests.apptest import messages, open_page, table, texts
from tests.factories import make_golden
from tests.test_triage import SCORES, scored_run

TAB = {_state.INSIGHT_TAB: _insight_triage.TITLE}
"""Only the open tab is drawn: open this one."""


HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script> [link](http://evil) **bold**"


@pytest.fixture
def run(workspace):
    golden = make_golden(9, texts=[HOSTILE] + [f"post number {i}" for i in range(1, 9)])
    with Store(workspace.private_dir) as store:
        return scored_run(store, golden, SCORES), golden


def _items(at):
    return table(at, "confidence")


def test_empty_workspace_says_what_is_missing(workspace, monkeypatch):
    at = open_page("insight", monkeypatch, tabs=TAB)

    assert not at.exception
    assert "No scored runs yet" in texts(at)


def test_lists_confident_misses_and_the_slider_widens_the_list(run, monkeypatch):
    run, _ = run
    at = open_page("insight", monkeypatch, tabs=TAB)

    assert not at.exception
    items = _items(at)
    assert items["item_id"].tolist() == ["item-00000", "item-00001", "item-00007", "item-00002"]
    assert items["kind"].tolist() == ["FP", "FN", "FN", "FP"]
    assert items["text"].iloc[0] == HOSTILE, "hostile text is data in a grid, never Markdown or HTML"
    assert not any(HOSTILE in str(m.value) for m in at.markdown)
    assert "4 disagreement(s) (2 FP, 2 FN) among 7 scored item(s)" in texts(at)

    at.slider(key=_state.TRIAGE_MIN_CONFIDENCE).set_value(0.6).run()
    assert _items(at)["item_id"].tolist()[-1] == "item-00004"
    at.slider(key=_state.TRIAGE_MIN_CONFIDENCE).set_value(1.0).run()
    assert not at.exception and "No disagreement this confident" in texts(at)


def test_tag_items_then_send_the_label_errors_to_relabeling(run, workspace, monkeypatch):
    run, golden = run
    at = open_page("insight", monkeypatch, tabs=TAB)
    at.selectbox(key=_state.TRIAGE_ITEM).select("item-00001")
    at.radio(key=_state.TRIAGE_TAG).set_value("policy_gap")
    at.text_input(key=_state.TRIAGE_NOTE).input("coded threats")
    at.text_input(key=_state.TRIAGE_AUTHOR).input("ana")
    at.button(key=_state.TRIAGE_SAVE).click().run()

    assert not at.exception
    assert any("item-00001 is tagged as a policy gap" in m for m in messages(at, "success"))
    assert at.text_input(key=_state.TRIAGE_NOTE).value == "", "a fresh note for the next tag"
    tagged = _items(at).set_index("item_id")
    assert tagged.loc["item-00001", ["tag", "note"]].tolist() == ["policy_gap", "coded threats"]

    at.selectbox(key=_state.TRIAGE_ITEM).select("item-00000")
    at.radio(key=_state.TRIAGE_TAG).set_value("label_error")
    at.text_input(key=_state.TRIAGE_NOTE).input("it is a real threat")
    at.button(key=_state.TRIAGE_SAVE).click().run()
    send = at.button(key=_state.TRIAGE_SEND)
    assert send.label == "Send 1 label error to relabeling"
    send.click().run()

    assert not at.exception
    assert any("Corrected 1 label(s)" in m for m in messages(at, "success"))
    with Store(workspace.private_dir) as store:
        [new_hash] = store.golden_leaves(golden.hash)
        history = store.label_history(new_hash)
        assert history[["item_id", "old_label", "new_label", "author"]].values.tolist() == [["item-00000", 0, 1, "ana"]]
        assert history["reason"][0].startswith("it is a real threat (error triage: run " + run.id)
        assert store.triage_tags("violence", tag="label_error")["status"].tolist() == ["done"]
    assert _items(at).set_index("item_id").loc["item-00000", "tag_status"] == "done"
    assert all(b.key != _state.TRIAGE_SEND for b in at.button), "nothing left to send"


def test_a_label_error_without_a_note_is_one_error(run, workspace, monkeypatch):
    at = open_page("insight", monkeypatch, tabs=TAB)
    at.radio(key=_state.TRIAGE_TAG).set_value("label_error")
    at.button(key=_state.TRIAGE_SAVE).click().run()

    assert not at.exception
    [error] = messages(at, "error")
    assert "needs a note" in error
    with Store(workspace.private_dir) as store:
        assert store.triage_tags("violence").empty


def test_clear_a_tag(run, workspace, monkeypatch):
    at = open_page("insight", monkeypatch, tabs=TAB)
    at.text_input(key=_state.TRIAGE_NOTE).input("gap")
    at.button(key=_state.TRIAGE_SAVE).click().run()
    assert _items(at)["tag"].notna().sum() == 1

    at.button(key=_state.TRIAGE_CLEAR).click().run()

    assert not at.exception and _items(at)["tag"].isna().all()
    assert any("has no tag now" in m for m in messages(at, "success"))
