"""Golden sets: add one from a file through the import step (delimiter, encoding, columns, label
rule; every bad row shown before anything is saved), browse it with thumbnails, check the label
balance, see how it was imported, split it into dev and test, correct a label with a reason."""

import streamlit as st

from cope_eval.app import (
    GOLDEN_PAGE_SIZE, categories, escape_markdown, golden_set_labels, label_balance, page_note, summarise, upload_note
)
from cope_eval.golden import correct_label, import_note, with_thumbnails
from cope_eval.records import short_id
from pages import _auth, _cached, _common, _golden_import, _golden_split, _state, _video

_state.require_app()

TYPES = ["csv", "tsv", "jsonl", "json", "parquet"]
COLUMNS = _golden_import.COLUMNS

st.title("Golden sets")
ws, store = _common.workspace(), _common.store()
pending = st.session_state[_state.GOLDEN_PENDING]
if pending:  # a save or a correction on the last run: select the new version and say so, once
    st.session_state[_state.GOLDEN_HASH], message = pending
    st.session_state[_state.GOLDEN_PENDING] = None
    st.success(message, icon=":material/check:")

add, browse = st.tabs(["Add a golden set", "Browse and correct labels"])
with add:
    upload = st.file_uploader("Upload CSV, TSV, JSONL, Zentropi JSON or Parquet", type=TYPES, key=_state.GOLDEN_UPLOAD)
    # An upload is held whole in the app's memory; a file in golden_sets/ is read from disk, so say how to use that.
    st.caption(upload_note(st.get_option("server.maxUploadSize"), ws.golden_sets_dir))
    files = [None] + [name for name, _ in summarise(ws).golden_sets]
    chosen = st.selectbox("…or load a file from the workspace's golden_sets/ folder", files, key=_state.GOLDEN_FILE,
                          format_func=_common.dash_for_none)
    if upload is not None:
        _golden_import.draw(f"upload:{upload.file_id}", upload.name, upload.getvalue(), f"upload {upload.name}",
                            ws.root, store)
    elif chosen is not None:
        path = ws.golden_sets_dir / chosen
        _golden_import.draw(f"{path}:{path.stat().st_mtime_ns}", chosen, path, str(path), ws.root, store)

with browse:
    sets = store.golden_sets()
    if sets.empty:
        st.info("No golden sets saved yet: add one from a file first.")
    else:
        labels = golden_set_labels(sets)
        _state.prefer(_state.GOLDEN_HASH, _state.CURRENT_GOLDEN, labels)
        golden_hash = st.selectbox("Golden set", list(labels), key=_state.GOLDEN_HASH, format_func=labels.get)
        _state.carry(_state.CURRENT_GOLDEN, golden_hash)
        summary = _cached.golden_summary(str(ws.private_dir), golden_hash)  # label, category, split: no text
        st.caption(f"Imported from {escape_markdown(import_note(store, golden_hash) or 'an unrecorded source')}")
        balance = label_balance(summary)
        st.caption(f"{balance['items'][0]:,} items: {balance['gold 1'][0]:,} labeled 1, {balance['gold 0'][0]:,} labeled 0")
        st.dataframe(balance, hide_index=True, key="golden_balance",
                     column_config={"share 1": st.column_config.NumberColumn(format="percent")})
        _golden_split.draw(store, golden_hash, summary)
        search_col, label_col, category_col = st.columns([3, 1, 2])
        search = search_col.text_input("Search text or id", key=_state.GOLDEN_SEARCH)
        label = label_col.selectbox("Gold label", [_state.ALL, 1, 0], key=_state.GOLDEN_LABEL_FILTER)
        cats = [_state.ALL] + categories(summary)
        _state.keep_valid(_state.GOLDEN_CATEGORY_FILTER, cats)
        category = category_col.selectbox("Category", cats, key=_state.GOLDEN_CATEGORY_FILTER)
        shown = _cached.golden_page(str(ws.private_dir), golden_hash, st.session_state[_state.GOLDEN_PAGE], search,
                                    None if label == _state.ALL else label,
                                    None if category == _state.ALL else category)
        st.session_state[_state.GOLDEN_PAGE] = shown.page
        rows = shown.rows
        summary_col, page_col = st.columns([3, 1], vertical_alignment="bottom")
        summary_col.caption(f"{page_note(shown.matching, shown.page, GOLDEN_PAGE_SIZE)} · "
                            f"{shown.matching:,} of {len(summary):,} items match")
        page_col.number_input(f"Page (of {shown.pages:,})", 1, shown.pages, key=_state.GOLDEN_PAGE)
        st.dataframe(with_thumbnails(rows, ws.root).drop(columns=["image", "video", "video_digest"]), hide_index=True,
                     column_config=COLUMNS, placeholder="")
        _video.draw(rows["id"], rows, ws.root, _state.GOLDEN_VIDEO_ITEM)

        st.subheader("Correct a label")
        if len(rows):
            item_col, new_col = st.columns([3, 1])
            item_id = item_col.selectbox("Item (from the page above)", rows["id"].tolist(), key=_state.RELABEL_ITEM)
            new_label = new_col.radio("New label", [1, 0], key=_state.RELABEL_LABEL, horizontal=True)
            reason = st.text_input("Why is the label wrong?", key=_state.RELABEL_REASON)
            author = _auth.current_author()  # signed in: the change records that user, whatever a field says
            if author is None:
                author = st.text_input("Your name", key=_state.RELABEL_AUTHOR)
            else:
                st.text_input("Your name", value=author, disabled=True, help="The signed-in user")
            if st.button("Save correction as a new version", key=_state.RELABEL_SAVE):
                changed = _common.attempt(correct_label, store, golden_hash, item_id, new_label, author=author,
                                          reason=reason)
                if changed is not None:
                    note = (f"Item {escape_markdown(item_id)} is now labeled {new_label}: "
                            f"version {short_id(changed.hash)}.")
                    st.session_state[_state.GOLDEN_PENDING] = (changed.hash, note)
                    st.rerun()
        history = store.label_history(golden_hash)
        if len(history):
            st.caption("Label corrections that led to this version")
            st.dataframe(history.drop(columns=["old_hash", "new_hash"]), hide_index=True, key="golden_history")
