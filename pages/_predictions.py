"""The predictions browser on the Evaluate page: one run's items with their outcome at a
threshold, filtered by outcome, category and text, sorted by score, downloadable as CSV.

The threshold is the Compare page's (0.5 until Compare sets one), so this table agrees with
Compare and Export; typing one here changes this table only, until Compare picks another."""

import streamlit as st

from cope_eval.app import (
    PREDICTION_OUTCOMES, SORTS, categories, filter_predictions, outcome_counts, predictions_csv, predictions_page,
    predictions_table
)
from pages import _common, _state, _video

COLUMNS = {
    "thumbnail": _common.PREVIEW_COLUMN,
    "score": st.column_config.NumberColumn(format="%.3f", help='P("1"); blank for an item with no score'),
    "label": st.column_config.NumberColumn("gold"),
    "text": st.column_config.TextColumn(width="large"),
    "error": st.column_config.TextColumn("error reason"),
}


def _typed() -> None:
    st.session_state[_state.PREDICTIONS_VALUE] = st.session_state[_state.PREDICTIONS_THRESHOLD]


def _threshold() -> float:
    """The browser's threshold input, following the Compare page's threshold when that changes."""
    compare = st.session_state[_state.COMPARE_CHOICE]["value"]
    if st.session_state[_state.PREDICTIONS_FOLLOWS] != compare:
        st.session_state.update({_state.PREDICTIONS_FOLLOWS: compare, _state.PREDICTIONS_VALUE: compare})
    st.session_state[_state.PREDICTIONS_THRESHOLD] = st.session_state[_state.PREDICTIONS_VALUE]
    return st.number_input("Threshold (score ≥ threshold is “1”)", 0.0, 1.0, step=0.01, format="%.4f",
                           key=_state.PREDICTIONS_THRESHOLD, on_change=_typed,
                           help="The Compare page's threshold until you type one here (this table only).")


def draw(ws, run_id: str, stored: int, golden_hash: str) -> None:
    """The browser for run ``run_id`` (``stored``: its prediction count, which keys the cache)."""
    private = str(ws.private_dir)
    results, items = _common.results(private, run_id, stored), _common.golden_items(private, golden_hash)
    st.subheader("Predictions")
    threshold_col, outcome_col, category_col, sort_col = st.columns(4)
    with threshold_col:
        threshold = _threshold()
    table = _common.attempt(predictions_table, results, items, threshold=threshold)
    if table is None:
        return
    counts = outcome_counts(table)
    outcome = outcome_col.selectbox("Outcome", [_state.ALL, *PREDICTION_OUTCOMES], key=_state.PREDICTIONS_OUTCOME,
                                    format_func=lambda o: f"{o} ({counts[o]:,})" if o in counts else o)
    options = [_state.ALL, *categories(items)]
    _state.keep_valid(_state.PREDICTIONS_CATEGORY, options)
    category = category_col.selectbox("Category", options, key=_state.PREDICTIONS_CATEGORY)
    sort = sort_col.selectbox("Sort", list(SORTS), key=_state.PREDICTIONS_SORT, format_func=SORTS.get)
    search = st.text_input("Search text or id", key=_state.PREDICTIONS_SEARCH)
    rows = filter_predictions(table, outcomes=None if outcome == _state.ALL else [outcome],
                              category=None if category == _state.ALL else category, search=search, sort=sort)
    shown, pages = predictions_page(rows, ws.root, page=st.session_state[_state.PREDICTIONS_PAGE])
    st.session_state[_state.PREDICTIONS_PAGE] = min(st.session_state[_state.PREDICTIONS_PAGE], pages)
    summary_col, page_col = st.columns([3, 1], vertical_alignment="bottom")
    summary_col.caption(f"{len(rows):,} of {len(table):,} items at threshold {threshold:.4f}")
    page_col.number_input(f"Page (of {pages:,})", 1, pages, key=_state.PREDICTIONS_PAGE)
    st.dataframe(shown, hide_index=True, key="eval_predictions", column_config=COLUMNS, placeholder="")
    _video.draw(shown["item_id"], items, ws.root, _state.PREDICTIONS_VIDEO_ITEM)
    st.download_button(f"Download these {len(rows):,} rows (.csv)", predictions_csv(rows),
                       file_name=f"predictions-{run_id}.csv", mime="text/csv", key=_state.PREDICTIONS_DOWNLOAD,
                       on_click="ignore", icon=":material/download:")
