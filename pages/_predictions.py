"""The predictions browser on the Evaluate page: one run's items with their outcome at a
threshold, filtered by outcome, category and text, sorted by score, downloadable as CSV.

The threshold is the Compare page's (0.5 until Compare sets one), so this table agrees with
Compare and Export; typing one here changes this table only, until Compare picks another."""

from functools import partial

import pandas as pd
import streamlit as st

from cope_eval.app import (
    PREDICTION_OUTCOMES, SORTS, categories, matching_rows, outcome_counts, prediction_rows, predictions_csv,
    predictions_page, with_outcomes
)
from pages import _cached, _common, _state, _video
from pages._shared_cache import shared

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


@shared("Reading the run's predictions…")
def _rows(private_dir: str, run_id: str, version: int, golden_hash: str) -> tuple[pd.DataFrame, list[str]]:
    """The run's ``prediction_rows`` and its items' categories, read once per run and kept (read-only):
    a threshold, a filter or a page reads them, never the run again until its predictions ``version`` moves."""
    results = _cached.scores(private_dir, run_id, version)  # the frame Compare and Insight share
    items = _cached.golden_lookup(private_dir, golden_hash).frame()
    return prediction_rows(results, items), categories(results)


def _matching(table: pd.DataFrame, outcome: str, category: str, search: str, sort: str):
    """The rows of ``table`` the filters keep, in the chosen order (``_state.ALL``: no filter)."""
    return matching_rows(table, outcomes=None if outcome == _state.ALL else [outcome],
                         category=None if category == _state.ALL else category, search=search, sort=sort)


def _csv(keys: tuple, threshold: float, filters: tuple) -> bytes:
    """The download, built when clicked from the cache's keys, never from this run's frames: Streamlit
    keeps a download's callable until the session's next run, and frames given to it would keep a
    million rows alive after the pages' cache dropped them."""
    table = with_outcomes(_rows(*keys)[0], threshold=threshold)
    return predictions_csv(table.iloc[_matching(table, *filters)])


def draw(ws, run_id: str, version: int, golden_hash: str) -> None:
    """The browser for run ``run_id`` (``version``: its predictions version, which keys the cache)."""
    private = str(ws.private_dir)
    st.subheader("Predictions")
    threshold_col, outcome_col, category_col, sort_col = st.columns(4)
    with threshold_col:
        threshold = _threshold()
    read = _common.attempt(_rows, private, run_id, version, golden_hash)
    if read is None:
        return
    base, run_categories = read
    table = with_outcomes(base, threshold=threshold)
    counts = outcome_counts(table)
    outcome = outcome_col.selectbox("Outcome", [_state.ALL, *PREDICTION_OUTCOMES], key=_state.PREDICTIONS_OUTCOME,
                                    format_func=lambda o: f"{o} ({counts[o]:,})" if o in counts else o)
    options = [_state.ALL, *run_categories]
    _state.keep_valid(_state.PREDICTIONS_CATEGORY, options)
    category = category_col.selectbox("Category", options, key=_state.PREDICTIONS_CATEGORY)
    sort = sort_col.selectbox("Sort", list(SORTS), key=_state.PREDICTIONS_SORT, format_func=SORTS.get)
    search = st.text_input("Search text or id", key=_state.PREDICTIONS_SEARCH)
    order = _matching(table, outcome, category, search, sort)
    shown, pages = predictions_page(table, ws.root, page=st.session_state[_state.PREDICTIONS_PAGE], order=order)
    st.session_state[_state.PREDICTIONS_PAGE] = min(st.session_state[_state.PREDICTIONS_PAGE], pages)
    summary_col, page_col = st.columns([3, 1], vertical_alignment="bottom")
    summary_col.caption(f"{len(order):,} of {len(table):,} items at threshold {threshold:.4f}")
    page_col.number_input(f"Page (of {pages:,})", 1, pages, key=_state.PREDICTIONS_PAGE)
    st.dataframe(shown, hide_index=True, key="eval_predictions", column_config=COLUMNS, placeholder="")
    _video.draw(shown["item_id"], _cached.golden_lookup(private, golden_hash).rows(shown["item_id"].tolist()), ws.root,
                _state.PREDICTIONS_VIDEO_ITEM)
    # Built when clicked (a callable), not on every rerun: a million rows' CSV is about 150 MB.
    st.download_button(f"Download these {len(order):,} rows (.csv)",
                       partial(_csv, (private, run_id, version, golden_hash), threshold, (outcome, category, search, sort)),
                       file_name=f"predictions-{run_id}.csv", mime="text/csv", key=_state.PREDICTIONS_DOWNLOAD,
                       on_click="ignore", icon=":material/download:")
