"""The page and its runs in the browser's address, so a tab that reconnects after the app
restarts, a reload or a copied link opens on the same page and the same runs: Evaluate keeps the
run it follows in ``?run=<id>``, Compare its runs in ``?runs=<a>,<b>``.

A page reads its parameter only while it has no choice of its own (a new session: a reconnect,
a reload, a link opened), before its defaults are computed. After that the page's choice wins:
every rerun carries the address as it was before a widget changed, so reading it again would undo
the change. The page writes its choice back on every run (``keep``).

Not here: "this browser's runs" with sign-in off. That needs an id that outlives the session, and
the only place besides the address is a cookie, which Streamlit can read (``st.context.cookies``)
but not set; an id in the address would travel with every link an analyst shares.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from cope_eval.app import EVERYONES_RUNS, linked_runs, link_value, own_runs
from pages import _state

RUN = "run"
"""Evaluate's parameter: the run followed."""
RUNS = "runs"
"""Compare's parameter: the runs compared, A first."""
MOST_COMPARED = 6
"""Runs a link opens Compare on at most: each one's results are loaded."""


def open_linked_run(store, author: str | None) -> None:
    """Evaluate, before its runs are drawn: a session that follows no run yet follows the one the
    address names, listed under everyone's runs when it is not this analyst's own."""
    if st.session_state[_state.EVAL_FOLLOW] is not None or RUN not in st.query_params:
        return
    linked = linked_runs(st.query_params.get(RUN), {run.id for run in store.runs(variants=False)}, most=1)
    _say(linked.note())
    if linked.runs:
        [run_id] = linked.runs
        st.session_state[_state.EVAL_FOLLOW] = run_id
        if not own_runs(linked.runs, authors=store.run_authors(), author=author,
                        started=st.session_state[_state.EVAL_STARTED]):
            st.session_state[_state.EVAL_SCOPE] = EVERYONES_RUNS


def open_linked_runs(runs) -> None:
    """Compare, before its runs' defaults: a picker with no choice of its own (a new session, or back
    from another page) opens on the runs the address names, among ``runs`` (the scored runs)."""
    if _state.COMPARE_RUNS in st.session_state or RUNS not in st.query_params:
        return
    linked = linked_runs(st.query_params.get(RUNS), runs, most=MOST_COMPARED)
    _say(linked.note("scored run"))
    if linked.runs:
        st.session_state[_state.COMPARE_RUNS] = linked.runs


def keep(param: str, run_ids) -> None:
    """Put the page's runs (Nones left out) in the address as ``param``; none: the parameter goes."""
    value = link_value(run_ids)
    if st.query_params.get(param) == value:
        return
    if value is None:
        del st.query_params[param]
    else:
        st.query_params[param] = value


def run_through_app() -> None:
    """A page file ran on its own (``_state.require_app``): run this address again through app.py.

    On a fresh server, until st.navigation has run once, Streamlit runs the page file an address
    names on its own (its old multipage mode, because this folder is called ``pages/``). That is the
    first request of every tab reconnecting after a restart. Ending that mode (as app.py's
    st.navigation would) and rerunning keeps the page and its parameters, where switching to app.py
    lands on the Workspace page with an empty address."""
    if PagesManager.uses_pages_directory:  # Streamlit's own flag; st.navigation clears it the same way
        PagesManager.uses_pages_directory = False
        st.rerun()
    st.switch_page("app.py")


def _say(note: str | None) -> None:
    if note:
        st.caption(note)
