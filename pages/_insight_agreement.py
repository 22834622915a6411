"""Insight tab: agreement across models. Runs of one policy version on one golden set (different
models, servers, templates or answer modes): Cohen's kappa between each pair, agreement with
gold, and the items they disagree on."""

import streamlit as st

from cope_eval.app import agreement_groups, group_labels
from cope_eval.charts import kappa_figure
from pages import _cached, _common, _state

TITLE = "Agreement across models"
COLUMNS = {"text": st.column_config.TextColumn(width="large"),
           "kappa": st.column_config.NumberColumn(format="%.3f"),
           "kappa vs gold": st.column_config.NumberColumn(format="%.3f"),
           "agreement": st.column_config.NumberColumn(format="percent"),
           "agreement with gold": st.column_config.NumberColumn(format="percent")}
SHOWN = 500


def draw(ws, store, manager, endpoint) -> None:
    groups = agreement_groups(store)
    if not groups:
        st.info("Agreement needs two or more completed runs of the same policy version on the same golden set, "
                "e.g. with different models, templates or answer modes. Start them on the Evaluate page.")
        return
    labels = group_labels(store, groups)
    _state.keep_valid(_state.AGREEMENT_GROUP, list(groups))
    key = st.selectbox("Policy version and golden set", list(groups), key=_state.AGREEMENT_GROUP,
                       format_func=labels.get)
    runs = {info.run.id: info for info in groups[key]}
    st.session_state[_state.AGREEMENT_RUNS] = [i for i in st.session_state.get(_state.AGREEMENT_RUNS) or []
                                               if i in runs] or list(runs)
    chosen = st.multiselect("Runs", list(runs), key=_state.AGREEMENT_RUNS,
                            format_func=lambda rid: f"{runs[rid].run.model} · {runs[rid].run.template}/"
                                                    f"{runs[rid].run.answer_mode} · {rid}")
    if len(chosen) < 2:
        st.info("Pick two runs or more.")
        return
    report = _common.attempt(_cached.agreement, str(ws.private_dir), tuple(chosen), _cached.run_versions(store, chosen))
    if report is None:
        return
    st.caption("Each run decides \"1\" at its own threshold. Kappa counts agreement beyond chance: 1 is total, 0 is "
               "what chance gives, below 0 is systematic disagreement. Each pair uses the items both runs scored "
               "without error; kappa is undefined (blank) when both gave every item the same decision.")
    chart_col, tables_col = st.columns([2, 3])
    chart_col.plotly_chart(kappa_figure(report), key="agreement_kappa")
    tables_col.dataframe(report.pair_table(), hide_index=True, key="agreement_pairs", column_config=COLUMNS)
    tables_col.dataframe(report.gold_table(), hide_index=True, key="agreement_gold", column_config=COLUMNS)

    table = report.disagreements
    st.subheader("Where they disagree")
    if table.empty:
        st.success("The runs agree on every item they all scored.", icon=":material/check:")
        return
    st.caption(f"{len(table):,} of {report.items:,} items, most disputed first (an even split, then the widest score "
               "spread)" + (f"; the first {SHOWN} shown" if len(table) > SHOWN else "") + ".")
    st.dataframe(table.head(SHOWN), hide_index=True, key="agreement_disagreements", column_config=COLUMNS)
