"""Insight tab: steerability probes. Score a run's items under its policy inverted and under an
off-topic policy, in the background, and see whether the model follows the policy at all."""

import streamlit as st

from cope_eval.app import completed_runs, escape_markdown
from cope_eval.insight import (
    PROBES, SHOWN_ITEMS, probe_items, probe_policy_texts, probe_report, probe_table, threshold_notes
)
from pages import _cached, _common, _state
from pages._study_progress import StudyKeys, study_tab

TITLE = "Steerability probes"
ITEMS = {"all": "All scored items", "sample": "A seeded random sample", "near": "The items nearest the threshold"}
SCORES = ("base_score", "inverted_score", "off_topic_score")
COLUMNS = {"text": st.column_config.TextColumn(width="large"),
           **{c: st.column_config.NumberColumn(format="%.3f") for c in SCORES}}
SHOWN = 500
KEYS = StudyKeys(_state.PROBES_START, _state.PROBES_STUDY, _state.PROBES_RESUME, _state.PROBES_CANCEL)


@st.cache_data(show_spinner=False, max_entries=4)
def _probe(private_dir: str, study_id: str, versions: tuple[int, ...]):
    store = _common.store_at(private_dir)  # keyed by its runs' predictions versions
    study = store.study(study_id)
    return probe_report(store, study), probe_table(store, study), probe_policy_texts(store, study)


def draw(ws, store, manager, endpoint) -> None:
    runs = completed_runs(store)
    if not runs:
        st.info("No completed runs yet: score a policy on the Evaluate page, then probe it here.")
        return
    st.caption("Does the model read the policy? A model that follows it flips nearly every decision when the policy "
               "is inverted, and flags almost nothing under a policy about chess notation.")
    _state.keep_valid(_state.PROBES_RUN, list(runs))
    run_id = st.selectbox("Base run", list(runs), key=_state.PROBES_RUN,
                          format_func=lambda rid: f"{runs[rid].name} · {runs[rid].run.n_items} items · {rid}")
    run = runs[run_id].run
    items_col, limit_col, seed_col = st.columns([2, 1, 1])
    items = items_col.radio("Items to probe", PROBES.selections, key=_state.PROBES_ITEMS,
                            format_func=ITEMS.get)
    limit = limit_col.number_input("How many", 1, 1_000_000, key=_state.PROBES_LIMIT, disabled=items == "all")
    seed = seed_col.number_input("Seed", 0, 2**31 - 1, key=_state.PROBES_SEED, disabled=items != "sample")
    n_items = runs[run_id].stored if items == "all" else min(limit, runs[run_id].stored)
    st.caption(f"At most 2 × {n_items:,} = {2 * n_items:,} requests; answers already in the cache cost none.")
    study_id = study_tab(store, manager, endpoint, PROBES, run, keys=KEYS, start="Run probes", picker="Probe",
                         none_yet="No probe of this run yet.",
                         options=dict(items=items, limit=None if items == "all" else int(limit),
                                      seed=int(seed)))
    if study_id is None:
        return
    found = _common.attempt(_probe, str(ws.private_dir), study_id, _cached.study_versions(store, study_id))
    if found is None:
        return
    report, table, texts = found
    _report(report)
    for label, text in texts.items():
        with st.expander(f"The {label} that was scored"):
            st.code(text, language="markdown")
    show = st.radio("Items", SHOWN_ITEMS, key=_state.PROBES_SHOW, horizontal=True)
    rows = probe_items(table, show)
    st.caption(f"{len(rows):,} items" + (f"; the first {SHOWN} shown" if len(rows) > SHOWN else ""))
    st.dataframe(rows.head(SHOWN), hide_index=True, key="probes_items", column_config=COLUMNS)


def _report(report) -> None:
    flips, off_topic, base = report.flip_rate, report.off_topic_flag_rate, report.base_flag_rate
    columns = st.columns(5)
    columns[0].metric("Flip rate", f"{flips.estimate:.0%}", help=f"{flips.count:,} of {flips.n:,} decisions "
                      f"flipped; 95% interval {flips.low:.0%}-{flips.high:.0%}", border=True)
    columns[1].metric("Mean |ΔP|", f"{report.mean_abs_delta:.3f}", help="Mean change of P(\"1\") when inverted",
                      border=True)
    columns[2].metric("Off-topic flags", f"{off_topic.estimate:.0%}", help=f"{off_topic.count:,} of {off_topic.n:,}; "
                      f"95% interval {off_topic.low:.0%}-{off_topic.high:.0%}", border=True)
    columns[3].metric("Base flag rate", f"{base.estimate:.0%}", help=f"{base.count:,} of {base.n:,} items",
                      border=True)
    columns[4].metric("Errors", f"{sum(report.errors.values()):,}", border=True,
                      help=" · ".join(f"{role}: {n:,}" for role, n in report.errors.items()))
    st.caption(f"{report.items:,} items at the base run's threshold {report.threshold:g}.")
    for warning in report.warnings:
        st.warning(escape_markdown(warning.message), icon=":material/warning:")
    if not report.warnings:
        st.success("The model follows the policy on these items.", icon=":material/check:")
    with st.expander("What the limits mean"):
        st.markdown("\n".join(f"- {escape_markdown(note)}" for note in threshold_notes()))
