"""Compare: runs side by side. Metrics with intervals, a live threshold with pickers (on run B by
default), one chart at a time (metrics by threshold, the overlaid PR and ROC curves, calibration,
the focus run's confusion matrix), per-category table; then three tabs: what changed
from A to B (metric deltas, the policy diff, the items whose decision changed), fairness across
a metadata column, and B's threshold that keeps A's operating point. Of each group of tabs only
the open one is drawn (``_tabs``)."""

from functools import partial

import streamlit as st

from cope_eval.app import at_threshold, escape_markdown, pair_ending_with, scored_runs
from cope_eval.charts import calibration_figure, confusion_matrix_figure, pr_figure, roc_figure, sweep_figure
from pages import (
    _common, _compare_changes, _compare_data, _compare_fairness, _compare_picks, _compare_transfer, _news, _state,
    _tabs, _test_reveal, _url_state
)

_state.require_app()

st.title("Compare")
ws, store = _common.workspace(), _common.store()
private = str(ws.private_dir)
runs = scored_runs(store)
if not runs:
    st.info("No scored runs yet: start one on the Evaluate page.")
    st.stop()
_url_state.open_linked_runs(runs)  # ?runs=<a>,<b>: a reconnecting tab, a reload or a link
current, last = st.session_state[_state.CURRENT_RUN], st.session_state[_state.COMPARE_PAIR]
st.session_state[_state.COMPARE_RUNS] = [i for i in st.session_state.get(_state.COMPARE_RUNS) or [] if i in runs] or (
    [i for i in last if i in runs] if last and last[-1] == current else []) or pair_ending_with(runs, current)
chosen = st.multiselect("Runs (the first is A, the second B)", list(runs), key=_state.COMPARE_RUNS,
                        format_func=partial(_compare_picks.run_label, runs),
                        on_change=st.session_state.pop, args=(_state.COMPARE_FOCUS, None))  # new runs: pick on B
_state.carry(_state.CURRENT_RUN, chosen[-1] if chosen else None)
st.session_state[_state.COMPARE_PAIR] = chosen
_url_state.keep(_url_state.RUNS, chosen)
if not chosen:
    st.info("Pick one or more runs.")
    st.stop()
picked = [runs[i] for i in chosen]
_news.golden(store, {r.name: r.run.golden_hash for r in picked})  # a newer version of a run's set
keys = (private, tuple(chosen), tuple(r.version for r in picked), tuple(r.name for r in picked))
basis = _compare_data.basis(*keys)
frames = basis.results
overlay, sweeps = _compare_data.curves(*keys, tuple(r.hard_label for r in picked))


def _confusion(name: str, metrics) -> None:
    st.caption(escape_markdown(f"{name}, the run thresholds are picked on"))
    st.plotly_chart(confusion_matrix_figure(metrics), key="compare_confusion")


_state.keep_valid(_state.COMPARE_FOCUS, list(frames), default=list(frames)[min(1, len(frames) - 1)])  # B, the edit
focus_col, precision_col, recall_col = st.columns(3)
focus = focus_col.selectbox("Pick thresholds on", list(frames), key=_state.COMPARE_FOCUS)
focus_col.button("Max F1", key=_state.PICK_F1, on_click=_compare_picks.pick, args=("max_f1", None, keys, picked))
precision_col.number_input("Target precision", 0.0, 1.0, step=0.05, key=_state.TARGET_PRECISION)
precision_col.button("Reach precision", key=_state.PICK_PRECISION, on_click=_compare_picks.pick,
                     args=("min_precision", _state.TARGET_PRECISION, keys, picked))
recall_col.number_input("Target recall", 0.0, 1.0, step=0.05, key=_state.TARGET_RECALL)
recall_col.button("Reach recall", key=_state.PICK_RECALL, on_click=_compare_picks.pick,
                  args=("min_recall", _state.TARGET_RECALL, keys, picked))
if st.session_state[_state.PICK_NOTE]:
    st.caption(st.session_state[_state.PICK_NOTE])
# Streamlit dropped the slider's key if another page ran: set it again from the choice, which outlives that.
st.session_state[_state.COMPARE_THRESHOLD] = st.session_state[_state.COMPARE_CHOICE]["value"]
threshold = st.slider("Threshold (score ≥ threshold is “1”)", 0.0, 1.0, step=0.001, format="%.4f",
                      key=_state.COMPARE_THRESHOLD, on_change=_compare_picks.slid)
view = _common.attempt(at_threshold, basis, threshold=threshold, focus=focus)
if view is None:
    st.stop()
if view.note:
    st.warning(view.note)
st.dataframe(view.metrics, key="compare_metrics", column_config={
    m: st.column_config.NumberColumn(format="%.3f") for m in ("precision", "recall", "f1", "accuracy")})
_test_reveal.show(picked, threshold=threshold)
_tabs.draw_open(_state.COMPARE_CURVES, {  # one chart per visit: only the open tab is drawn
    "Metrics by threshold": lambda: st.plotly_chart(sweep_figure(sweeps, threshold=threshold), key="compare_sweep"),
    "Precision-recall": lambda: st.plotly_chart(pr_figure(overlay), key="compare_pr"),
    "ROC": lambda: st.plotly_chart(roc_figure(overlay), key="compare_roc"),
    "Calibration": lambda: st.plotly_chart(calibration_figure(overlay), key="compare_calibration"),
    "Confusion matrix": lambda: _confusion(focus, view.focus)})
st.subheader("Per category")
st.dataframe(view.categories, key="compare_categories")

_tabs.draw_open(_state.COMPARE_DETAIL, {
    "What changed": lambda: _compare_changes.show(view, picked),
    "Fairness": lambda: _compare_fairness.show(picked, threshold=threshold),
    "Carry a threshold": lambda: _compare_transfer.show(picked, threshold=threshold)})
