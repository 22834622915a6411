"""The Export page's stored callables: the run picker's labels and "Build from the answers so far".
Defined here, not in the page script: Streamlit keeps a widget's callback and ``format_func`` until
the session's next run, and one defined in the script would keep the script's every object."""

import streamlit as st

from pages import _state


def run_label(runs, run_id: str) -> str:
    """The run picker's label of ``run_id`` (``runs``: run id to its ``scored_runs`` record)."""
    return f"{runs[run_id].name} · {runs[run_id].run.status} · {run_id}"


def build_partial(run_id: str) -> None:
    """This session asked for the bundle of a run still scoring: build it on this and later visits."""
    st.session_state[_state.EXPORT_PARTIAL] = [*st.session_state[_state.EXPORT_PARTIAL], run_id]
