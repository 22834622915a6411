"""The Model card table page's progress: one bar per area and side, cancel and continue."""

import streamlit as st

from cope_eval.app import continue_suite, escape_markdown, suite_progress
from pages import _common, _state


def draw(store, manager, runs, endpoint) -> bool:
    """Follow the suite's runs (polling while any scores); True when every run is complete."""
    st.subheader("Progress")
    rows = suite_progress(store, manager, runs)
    live = any(view is not None and view.active for _, view, _ in rows)

    @st.fragment(run_every=1.0 if live else None)
    def _bars() -> None:
        now = suite_progress(store, manager, runs)
        for member, view, golden in now:
            label = f"{member.side} · {member.area}"
            if view is None:
                st.caption(escape_markdown(f"{label}: no golden set, shown without figures"))
                continue
            st.progress(view.fraction, text=escape_markdown(
                f"{label} · {golden} · {view.status} · {view.summary()} · run {member.run_id}"))
            if view.failure:
                st.error(escape_markdown(f"{label}: {view.failure}"))
        if live and not any(view is not None and view.active for _, view, _ in now):
            st.rerun(scope="app")  # the last run finished: stop polling, draw the table

    _bars()
    if live:
        st.button("Cancel the suite", key=_state.SUITE_CANCEL, icon=":material/stop:",
                  on_click=lambda: [manager.cancel(m.run_id) for m, v, _ in rows if v is not None and v.active])
    elif any(view is not None and view.resumable for _, view, _ in rows):
        st.caption("Some areas stopped before the end; continue them, answers already scored are kept.")
        if st.button("Continue the suite", key=_state.SUITE_CONTINUE, icon=":material/replay:"):
            if _common.attempt(continue_suite, store, manager, runs, endpoint,
                               b_api_key=st.session_state.get(_state.SUITE_B_KEY) or None):
                st.rerun()
    return all(view is None or view.status == "completed" for _, view, _ in rows)
