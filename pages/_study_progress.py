"""A study's progress on an Insight tab: a live bar while it is scored, cancel, and resume after
a stop (a restart, a cancel, a server that went away)."""

import streamlit as st

from cope_eval.app import escape_markdown, study_view
from cope_eval.insight import endpoint_mismatch
from cope_eval.records import Endpoint
from cope_eval.store import Store


def study_progress(store: Store, manager, study_id: str, endpoint: Endpoint | None, *, resume_key: str,
                   cancel_key: str) -> bool:
    """Draw how the study stands unless it is complete; True when it is (its report can be drawn)."""
    started = study_view(store, manager, study_id)
    if started.status == "completed":
        return True
    base_run = store.run(started.study.base_run_id)

    @st.fragment(run_every=1.0 if started.active else None)
    def live() -> None:
        view = study_view(store, manager, study_id)
        st.progress(view.fraction, text=f"{view.status} · {view.summary()}")
        if view.failure:
            st.error(escape_markdown(view.failure))
        if view.active:
            st.button("Cancel", key=cancel_key, on_click=manager.cancel, args=(study_id,), icon=":material/stop:")
        elif view.status != "completed":
            problem = endpoint_mismatch(base_run, endpoint)
            if st.button("Resume", key=resume_key, disabled=problem is not None, icon=":material/replay:",
                         help=problem and escape_markdown(problem)):
                manager.start_study(study_id, endpoint)
                st.rerun(scope="app")
        if started.active and not view.active:
            st.rerun(scope="app")  # it stopped: draw the report, or stop polling

    live()
    return False
