"""Compare's stored callables: the pickers' and the slider's callbacks and the run picker's labels.

Streamlit keeps a widget's callback (and its ``format_func``) until the session's next run. One
defined in the page script keeps the whole script's namespace alive with it: the matched runs,
curves and view at a threshold of a pair of 1M-item runs, about 0.3 GB, per session, after the
shared cache has dropped them (two analysts comparing two pairs in turn held both pairs twice).
These hold only what they are given: run records and the cache's keys.
"""

from __future__ import annotations

import streamlit as st

from cope_eval.app import pick_threshold
from pages import _compare_data, _state


def run_label(runs, run_id: str) -> str:
    """The run picker's label of ``run_id`` (``runs``: run id to its ``scored_runs`` record)."""
    run = runs[run_id]
    return f"{run.name} · {run.run.template} on {run.run.model} · {run.run.n_items} items · {run_id}"


def pick(rule: str, target_key: str | None, keys: tuple, picked: list) -> None:
    """A picker's click: the threshold ``rule`` finds on the focus run (its target from the widget
    ``target_key``), among ``picked``, whose matched runs are ``_compare_data.basis(*keys)``."""
    focus = next(r for r in picked if r.name == st.session_state[_state.COMPARE_FOCUS])
    target = st.session_state[target_key] if target_key else None
    frames = _compare_data.basis(*keys).results
    choice = pick_threshold(frames[focus.name], rule, target=target, hard_label=focus.hard_label)
    if choice.found:
        st.session_state[_state.COMPARE_THRESHOLD] = choice.threshold
        st.session_state[_state.COMPARE_CHOICE] = {"value": choice.threshold, "rule": rule, "target": target,
                                                   "run_id": focus.run.id}
    st.session_state[_state.PICK_NOTE] = f"{focus.name}: {choice.note}" + (
        f" (threshold {choice.threshold:.4f})" if choice.found else "")


def slid() -> None:
    """The slider moved: its value is the choice, picked by no rule."""
    value = st.session_state[_state.COMPARE_THRESHOLD]
    st.session_state[_state.COMPARE_CHOICE] = {"value": value, "rule": None, "target": None, "run_id": None}
