"""Workspace overview: what to do next, the newest runs, the policies and golden sets."""

from datetime import datetime, timezone

import streamlit as st

from cope_eval.app import escape_markdown, next_step, recent_runs, recent_runs_frame, summarise
from pages import _cached, _common, _home_interrupted, _state

_state.require_app()

PAGES = {"policies": "pages/policies.py", "golden_sets": "pages/golden_sets.py", "evaluate": "pages/evaluate.py",
         "compare": "pages/compare.py", "export": "pages/export.py"}

st.title("cope-eval")
st.write("Write a content policy, score it against a labeled golden set, compare versions, export the one you trust.")

ws, store, now = _common.workspace(), _common.store(), datetime.now(timezone.utc)
summary = summarise(ws)
step = next_step(summary, store)
text_col, go_col = st.columns([5, 1], vertical_alignment="center")
text_col.info(f"**Next step:** {escape_markdown(step.text)}", icon=":material/arrow_forward:")
if go_col.button("Go", key=_state.HOME_NEXT, type="primary", icon=":material/arrow_forward:"):
    _state.carry(_state.CURRENT_POLICY, step.policy)  # the page opens on what the suggestion names
    _state.carry(_state.CURRENT_GOLDEN, step.golden_hash)
    st.switch_page(PAGES[step.page])

_home_interrupted.draw(store, now)
runs = recent_runs(store, f1=lambda run_id, version: _cached.f1_at_half(str(ws.private_dir), run_id, version))
if runs:
    st.subheader("Recent runs")
    st.dataframe(recent_runs_frame(runs, now), hide_index=True, key="home_runs",
                 column_config={"F1 at 0.5": st.column_config.NumberColumn(format="%.3f")}, placeholder="—")
left, right = st.columns(2)
with left:
    st.subheader(f"Policies ({len(summary.policies)})")
    if summary.policies:
        st.dataframe(summary.policies_frame(now), hide_index=True, key="home_policies")
    else:
        st.info("No policies yet.")
with right:
    sets = summary.golden_sets_frame(store.golden_sets(), ws.golden_sets_dir, now)
    st.subheader(f"Golden sets ({len(sets)})")
    if len(sets):
        st.dataframe(sets, hide_index=True, key="home_golden_sets", placeholder="")  # not loaded: no count
    else:
        st.info("No golden sets yet.")
if summary.problems:
    st.warning(f"Left out of the list above ({len(summary.problems)}):\n\n"
               + "\n".join(f"- {escape_markdown(problem)}" for problem in summary.problems), icon=":material/warning:")
