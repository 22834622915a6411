"""Insight tab: error triage. A run's confident disagreements with the gold label; the analyst
tags each as a policy gap or a label error. Label errors go to the relabeling flow (a new golden
version with history); policy gaps become the checklist beside the editor on the Policies page."""

import streamlit as st

from cope_eval.app import escape_markdown, page_note, page_of, scored_runs
from cope_eval.insight import send_label_errors_to_relabeling, tag_item, triage_run, untag_item
from cope_eval.records import short_id
from pages import _auth, _cached, _common, _state

TITLE = "Error triage"
TAGS = {"policy_gap": "Policy gap", "label_error": "Label error"}
COLUMNS = {
    "kind": st.column_config.TextColumn("miss", help="FP: model 1, gold 0 · FN: model 0, gold 1"),
    "confidence": st.column_config.NumberColumn(format="%.3f", help="P(\"1\") for an FP, 1 - P(\"1\") for an FN"),
    "score": st.column_config.NumberColumn("P(\"1\")", format="%.3f"),
    "label": st.column_config.NumberColumn("gold"),
    "text": st.column_config.TextColumn(width="large"),
    "tag_status": st.column_config.TextColumn("status"),
}
PAGE_SIZE = 50
"""Rows of the table at a time: a run of a million items can disagree a quarter of a million times."""
ORDER = ["kind", "confidence", "score", "label", "category", "text", "tag", "note", "tag_status", "item_id"]


def draw(ws, store, manager, endpoint) -> None:
    runs = scored_runs(store)
    if not runs:
        st.info("No scored runs yet: start one on the Evaluate page.")
        return
    pending = st.session_state[_state.TRIAGE_PENDING]
    if pending:  # a tag saved or label errors sent on the last run: say so once, start a fresh note
        st.session_state.update({_state.TRIAGE_PENDING: None, _state.TRIAGE_NOTE: ""})
        st.success(pending, icon=":material/check:")
    _state.keep_valid(_state.TRIAGE_RUN, list(runs))
    run_col, confidence_col = st.columns([2, 1])
    run_id = run_col.selectbox("Run", list(runs), key=_state.TRIAGE_RUN,
                               format_func=lambda rid: f"{runs[rid].name} · {runs[rid].run.n_items} items · {rid}")
    confidence = confidence_col.slider("Minimum confidence", 0.5, 1.0, step=0.01, key=_state.TRIAGE_MIN_CONFIDENCE,
                                       help="How sure the model was of its wrong answer")
    results = _cached.scores(str(ws.private_dir), run_id, runs[run_id].version)
    triage = _common.attempt(triage_run, store, run_id, min_confidence=confidence, results=results)
    if triage is None:
        return
    st.caption(triage.note)
    rows = _page(triage.items)
    if len(triage.items):
        st.dataframe(rows, hide_index=True, column_order=ORDER, column_config=COLUMNS, key="triage_items",
                     placeholder="")  # no tag yet, no category: a blank cell, not "None"
    else:
        st.info("No disagreement this confident: lower the minimum confidence.")

    author = _auth.current_author()  # signed in: tags and corrections record that user
    if len(triage.items):
        st.subheader("Tag a disagreement")
        kinds = dict(zip(rows["item_id"], rows["kind"]))  # this page's items: the picker lists no more
        _state.keep_valid(_state.TRIAGE_ITEM, list(kinds))
        item_col, tag_col = st.columns([2, 1])
        item_id = item_col.selectbox("Item (from the table above)", list(kinds), key=_state.TRIAGE_ITEM,
                                     format_func=lambda i: f"{kinds[i]} · {i}")
        tag = tag_col.radio("Tag", list(TAGS), key=_state.TRIAGE_TAG, format_func=TAGS.get, horizontal=True)
        note = st.text_input("Note", key=_state.TRIAGE_NOTE, persist_state="session",
                             placeholder="what the policy misses, or why the gold label is wrong")
        author = _author_field(author)
        save_col, clear_col = st.columns([1, 4])
        if save_col.button("Save tag", key=_state.TRIAGE_SAVE, type="primary"):
            saved = _common.attempt(tag_item, store, run_id, item_id, tag, note=note, author=author)
            if saved is not None:
                _done(f"Item {escape_markdown(item_id)} is tagged as a {TAGS[tag].lower()}.")
        if clear_col.button("Clear tag", key=_state.TRIAGE_CLEAR):
            if _common.attempt(untag_item, store, run_id, item_id) is not None:
                _done(f"Item {escape_markdown(item_id)} has no tag now.")
    else:
        author = _author_field(author)

    if triage.open_label_errors:
        n = triage.open_label_errors
        st.caption("Each label error becomes a corrected golden-set version, with its note as the reason.")
        if st.button(f"Send {n} label error{'s' if n > 1 else ''} to relabeling", key=_state.TRIAGE_SEND):
            done = _common.attempt(send_label_errors_to_relabeling, store, run_id, author=author)
            if done is not None:
                _done(f"Corrected {len(done.changes)} label(s): golden set version {short_id(done.golden.hash)} "
                      "carries them (see the Golden sets page). Score it to see the effect; unchanged texts "
                      "come from the cache.")


def _page(items):
    """The rows of the page asked for, under "rows x–y of N" and the page number input."""
    rows, pages = page_of(items, st.session_state[_state.TRIAGE_PAGE], PAGE_SIZE)
    st.session_state[_state.TRIAGE_PAGE] = min(st.session_state[_state.TRIAGE_PAGE], pages)
    if len(items) > PAGE_SIZE:
        summary_col, page_col = st.columns([3, 1], vertical_alignment="bottom")
        summary_col.caption(page_note(len(items), st.session_state[_state.TRIAGE_PAGE], PAGE_SIZE))
        page_col.number_input(f"Page (of {pages:,})", 1, pages, key=_state.TRIAGE_PAGE)
    return rows


def _author_field(author: str | None) -> str:
    if author is not None:
        st.caption(f"Signed in as {escape_markdown(author)}: tags and corrections record that name.")
        return author
    return st.text_input("Your name", key=_state.TRIAGE_AUTHOR, persist_state="session")


def _done(message: str) -> None:
    st.session_state[_state.TRIAGE_PENDING] = message
    st.rerun()
