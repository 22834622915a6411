"""The Workspace page's "Interrupted runs": what a restart, a killed worker or a server that went
away left stopped, with one "Resume all" and a way to follow them on Evaluate."""

from datetime import datetime

import streamlit as st

from cope_eval.app import escape_markdown, interrupted_frame, interrupted_runs, resume_all
from pages import _common, _state
from pages._sidebar import session_endpoint


def draw(store, now: datetime) -> None:
    """The section, when a run is interrupted or the last "Resume all" has something to say."""
    manager = _common.run_manager()
    runs = interrupted_runs(store, manager)
    outcomes = st.session_state[_state.HOME_RESUMED]
    if not runs and not outcomes:
        return
    st.subheader("Interrupted runs")
    if runs:
        st.caption("These runs stopped without being asked to (the app restarted, their worker died or their "
                   "server went away). Resume all continues each from where it stopped, against its own server. "
                   "Runs you cancelled are left alone: resume them one by one on Evaluate.")
        st.dataframe(interrupted_frame(runs, now), hide_index=True, key="home_interrupted")
        if st.button(f"Resume all ({len(runs)})", key=_state.HOME_RESUME_ALL, icon=":material/replay:"):
            st.session_state[_state.HOME_RESUMED] = resume_all(store, manager, [r.run_id for r in runs],
                                                               session_endpoint())
            st.rerun()
    resumed = [o.run_id for o in outcomes if o.error is None]
    if outcomes:
        st.success(f"Resumed {len(resumed)} of {len(outcomes)} run{'s' * (len(outcomes) != 1)}.")
    for outcome in outcomes:
        if outcome.error is not None:
            st.error(f"Run {outcome.run_id} was not resumed: {escape_markdown(outcome.error)}")
    if resumed and st.button("Follow them on Evaluate", key=_state.HOME_FOLLOW, icon=":material/arrow_forward:"):
        st.session_state[_state.EVAL_STARTED] = resumed + [r for r in st.session_state[_state.EVAL_STARTED]
                                                           if r not in resumed]
        st.session_state[_state.EVAL_FOLLOW] = resumed[0]
        _state.carry(_state.CURRENT_RUN, resumed[0])
        st.switch_page("pages/evaluate.py")
