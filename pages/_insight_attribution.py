"""Insight tab: change attribution. For two runs of the same policy (old A, new B) on one golden
set and model, revert each hunk of the edit A → B alone and see which items it moved."""

from functools import partial

import streamlit as st

from cope_eval.app import completed_runs, default_pair, hunk_table, signed_colours, with_text
from cope_eval.insight import ATTRIBUTION, attribution_candidates, attribution_report
from cope_eval.policies import diff_hunks
from pages import _cached, _common, _state
from pages._study_progress import StudyKeys, study_tab

TITLE = "Change attribution"
ITEMS = {"all": "All scored items", "moved": "Items that moved most from A to B", "near": "Items nearest B's threshold"}
TEXT = {"text": st.column_config.TextColumn(width="large")}
SHOWN = 200
KEYS = StudyKeys(_state.ATTRIBUTION_START, _state.ATTRIBUTION_STUDY, _state.ATTRIBUTION_RESUME,
                 _state.ATTRIBUTION_CANCEL)


@st.cache_data(show_spinner=False, max_entries=4)
def _report(private_dir: str, study_id: str, versions: tuple[int, ...]):
    return attribution_report(_common.store_at(private_dir), study_id)  # keyed by its runs' versions


def draw(ws, store, manager, endpoint) -> None:
    runs = completed_runs(store)
    if not runs:
        st.info("No completed runs yet: score two versions of a policy on the Evaluate page.")
        return
    b_col, a_col = st.columns(2)
    _state.keep_valid(_state.ATTRIBUTION_RUN_B, list(runs), default=default_pair(runs)[-1])  # the newer version
    b_id = b_col.selectbox("New version's run (B)", list(runs), key=_state.ATTRIBUTION_RUN_B,
                           format_func=lambda rid: f"{runs[rid].name} · {rid}")
    run_b = runs[b_id].run
    candidates = {r.id: r for r in attribution_candidates(store, run_b)}
    if not candidates:
        st.info("No completed run of another version of this policy on the same golden set, model and template: "
                "score the old version on the Evaluate page.")
        return
    _state.keep_valid(_state.ATTRIBUTION_RUN_A, list(candidates))
    a_id = a_col.selectbox("Old version's run (A)", list(candidates), key=_state.ATTRIBUTION_RUN_A,
                           format_func=lambda rid: f"{runs[rid].name} · {rid}" if rid in runs else rid)
    run_a = candidates[a_id]
    hunks = diff_hunks(*(store.policy_version(r.policy_version_id).text for r in (run_a, run_b)))
    if not hunks:
        st.info("The two versions have the same lines: there is no edit to attribute.")
        return
    st.caption("Hunks of the edit A → B: each variant is B with one hunk put back as it was in A.")
    st.dataframe(hunk_table(hunks), hide_index=True, key="attribution_hunk_table")

    items_col, limit_col = st.columns([2, 1])
    items = items_col.radio("Items to rescore", ATTRIBUTION.selections, key=_state.ATTRIBUTION_ITEMS,
                            format_func=ITEMS.get, horizontal=True)
    limit = limit_col.number_input("How many", 1, 1_000_000, key=_state.ATTRIBUTION_LIMIT, disabled=items == "all")
    study_id = study_tab(store, manager, endpoint, ATTRIBUTION, run_b, keys=KEYS, start="Run attribution",
                         picker="Attribution", none_yet="No attribution of this pair yet.",
                         options=dict(run_a=run_a, items=items, limit=None if items == "all" else limit),
                         match={"run_a": run_a.id})
    if study_id is None:
        return
    report = _common.attempt(_report, str(ws.private_dir), study_id, _cached.study_versions(store, study_id))
    if report is None:
        return
    st.info(report.note)
    texts = partial(_cached.item_texts, str(ws.private_dir), run_b.golden_hash)  # the ids a table shows
    hunk_col, top_col = st.columns([3, 1])
    hunk_ids = [e.hunk.id for e in report.effects]
    _state.keep_valid(_state.ATTRIBUTION_HUNK, hunk_ids)
    hunk_id = hunk_col.selectbox("Hunk", hunk_ids, key=_state.ATTRIBUTION_HUNK,
                                 format_func=lambda hid: f"{hid} · {report.effect(hid).hunk.kind} · "
                                                         f"{report.effect(hid).hunk.where}")
    top = top_col.number_input("Items shown", 1, 1000, key=_state.ATTRIBUTION_TOP)
    effect = report.effect(hunk_id)
    st.code(effect.hunk.patch(), language="diff")
    st.caption("ΔP = P(\"1\") in B − P(\"1\") in B with this hunk reverted: how far this edit alone moved the item; "
               "total_move = B − A.")
    top_items = effect.top(top)
    st.dataframe(signed_colours(with_text(top_items, texts(top_items["item_id"])), ["delta_p", "total_move"]),
                 hide_index=True,
                 key="attribution_top", column_config=TEXT)
    st.subheader("How much of each item's move the hunks explain")
    st.caption(f"The {SHOWN} items that moved most from A to B; one ΔP column per hunk, explained = their sum.")
    explained = report.explained.head(SHOWN)
    explained = with_text(explained, texts(explained["item_id"]))
    st.dataframe(signed_colours(explained, ["total_move", "explained", "residual"]), hide_index=True,
                 key="attribution_explained", column_config=TEXT)
