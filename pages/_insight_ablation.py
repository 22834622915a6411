"""Insight tab: clause ablation. Remove each clause of a run's policy in turn, score the variants
in the background, and see per clause the change in precision, recall and F1 and the items it
decides."""

import streamlit as st

from cope_eval.app import clause_table, completed_runs, signed_colours, with_text
from cope_eval.insight import ABLATION, ablation_report
from cope_eval.policies import split_clauses
from pages import _cached, _common, _state
from pages._study_progress import StudyKeys, study_tab

TITLE = "Clause ablation"
ITEMS = {"all": "All scored items", "near": "Only the items nearest the threshold"}
TEXT = {"text": st.column_config.TextColumn(width="large")}
SHOWN = 500
KEYS = StudyKeys(_state.ABLATION_START, _state.ABLATION_STUDY, _state.ABLATION_RESUME, _state.ABLATION_CANCEL)


@st.cache_data(show_spinner=False, max_entries=4)
def _report(private_dir: str, study_id: str, versions: tuple[int, ...]):
    return ablation_report(_common.store_at(private_dir), study_id)  # keyed by its runs' versions


def draw(ws, store, manager, endpoint) -> None:
    runs = completed_runs(store)
    if not runs:
        st.info("No completed runs yet: score a policy on the Evaluate page, then ablate it here.")
        return
    _state.keep_valid(_state.ABLATION_RUN, list(runs))
    run_id = st.selectbox("Base run", list(runs), key=_state.ABLATION_RUN,
                          format_func=lambda rid: f"{runs[rid].name} · {runs[rid].run.n_items} items · {rid}")
    run = runs[run_id].run
    clauses = split_clauses(store.policy_version(run.policy_version_id).text)
    if not clauses:
        st.info("This run's policy has no list items or prose to remove.")
        return
    st.caption("Clauses: each list item (with its continuation lines) and each prose paragraph; headings are kept.")
    st.dataframe(clause_table(clauses), hide_index=True, key="ablation_clause_table", column_config=TEXT)

    ids = [c.id for c in clauses]
    st.session_state[_state.ABLATION_CLAUSES] = [i for i in st.session_state.get(_state.ABLATION_CLAUSES) or []
                                                 if i in ids]
    chosen = st.multiselect("Clauses to remove, one per variant (none chosen: every clause)", ids,
                            key=_state.ABLATION_CLAUSES)
    items_col, limit_col = st.columns([2, 1])
    items = items_col.radio("Items to rescore", ABLATION.selections, key=_state.ABLATION_ITEMS,
                            format_func=ITEMS.get, horizontal=True)
    limit = limit_col.number_input("How many nearest", 1, 1_000_000, key=_state.ABLATION_LIMIT,
                                   disabled=items != "near")
    n_variants = len(chosen or ids)
    n_items = runs[run_id].stored if items == "all" else min(limit, runs[run_id].stored)
    st.caption(f"At most {n_variants} × {n_items:,} = {n_variants * n_items:,} requests; answers already in the "
               "cache (a repeated ablation) cost none.")
    study_id = study_tab(store, manager, endpoint, ABLATION, run, keys=KEYS, start="Run ablation",
                         picker="Ablation", none_yet="No ablation of this run yet.",
                         options=dict(clause_ids=chosen or None, items=items,
                                      limit=limit if items == "near" else None))
    if study_id is None:
        return
    report = _common.attempt(_report, str(ws.private_dir), study_id, _cached.study_versions(store, study_id))
    if report is None:
        return
    if report.note:
        st.info(report.note)
    b = report.base
    st.caption(f"Base run at threshold {report.threshold:g}: precision {b.precision:.3f} · recall {b.recall:.3f} · "
               f"F1 {b.f1:.3f}. Δ = without the clause − base; green: removing it helps, red: it hurts.")
    st.dataframe(signed_colours(report.table(), ["Δ precision", "Δ recall", "Δ f1"]), hide_index=True,
                 key="ablation_effects", column_config=TEXT)

    if not report.deciding:
        st.info("Removing any one of these clauses flips no decision on the rescored items.")
        return
    _state.keep_valid(_state.ABLATION_CLAUSE, report.deciding)
    clause_id = st.selectbox("Items decided by", report.deciding, key=_state.ABLATION_CLAUSE,
                             format_func=lambda cid: f"{cid} · {report.effect(cid).clause.summary}")
    decided = report.effect(clause_id).decided.head(SHOWN)
    decided = with_text(decided, _cached.item_texts(str(ws.private_dir), run.golden_hash, decided["item_id"]))
    st.caption(f"Largest {SHOWN} changes first. fixed: right only without the clause · broken: right only with it · "
               "delta_p = P(\"1\") without − with.")
    st.dataframe(signed_colours(decided, ["delta_p"]), hide_index=True, key="ablation_decided", column_config=TEXT)
