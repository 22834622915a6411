"""Evaluate's runs: the list (this analyst's, or everyone's), the run this session follows with its
progress, errors by reason, Cancel and Resume, and its predictions. Redrawn every second while a
run is scoring.

The followed run is this session's own: the run it started, from the Start click on, or the one
picked here. It is resolved once and kept in a key no widget owns, so no redraw ever shows
another run beside this one's progress."""

import streamlit as st

from cope_eval.app import (
    EVERYONES_RUNS, MY_RUNS, any_running, escape_markdown, own_runs, resume_run, run_to_follow, run_view,
    runs_overview
)
from pages import _cached, _common, _news, _predictions, _state, _url_state


def draw(ws, store, manager, endpoint, author: str | None) -> None:
    """The section; ``author`` is the signed-in user, or None with sign-in off."""
    st.subheader("Runs")
    st.caption("Each run scores in a worker process of its own: it keeps going when you close this tab or restart "
               "the app, and a run that stopped (cancelled, or its server went away) can be resumed.")
    live = any_running(store, manager)
    st.session_state.setdefault(_state.EVAL_SCOPE, EVERYONES_RUNS if author is None else MY_RUNS)
    st.fragment(run_every=1.0 if live else None)(_runs)(ws, store, manager, endpoint, author, live)


def _follow() -> None:
    """The picker changed: follow the run picked (a callback, so only the analyst's own pick moves it)."""
    st.session_state[_state.EVAL_FOLLOW] = st.session_state[_state.EVAL_RUN]


def _runs(ws, store, manager, endpoint, author: str | None, live: bool) -> None:
    overview = runs_overview(store, manager)
    if overview.empty:
        st.info("No runs yet.")
        return
    everyone = overview["run"].tolist()
    own = own_runs(everyone, authors=store.run_authors(), author=author,
                   started=st.session_state[_state.EVAL_STARTED])
    scope = st.radio("Runs listed", [MY_RUNS, EVERYONES_RUNS], key=_state.EVAL_SCOPE, horizontal=True,
                     label_visibility="collapsed")
    offered = own if scope == MY_RUNS else everyone
    if not offered:
        st.info(f"No runs of yours yet: {EVERYONES_RUNS} lists every run in this workspace.")
        return
    shown = overview[overview["run"].isin(offered)]
    st.dataframe(shown, hide_index=True, key="eval_runs", height=min(400, 38 + 35 * len(shown)))
    run_id = run_to_follow(offered, followed=st.session_state[_state.EVAL_FOLLOW], own=own, author=author)
    st.session_state[_state.EVAL_FOLLOW] = run_id  # resolved once: never recomputed from the newest run
    _url_state.keep(_url_state.RUN, [run_id])  # in the address: a reload or a restart comes back to it
    st.session_state[_state.EVAL_RUN] = run_id  # the picker shows the run followed, whatever the browser last had
    st.selectbox("Follow run", offered, key=_state.EVAL_RUN, index=None, placeholder="No run followed: pick one",
                 on_change=_follow)
    if run_id is None:
        return
    _state.carry(_state.CURRENT_RUN, run_id)
    view = run_view(store, manager, run_id)
    st.progress(view.fraction, text=f"{run_id} · {view.status} · {view.summary()}")  # one run, named
    _news.golden(store, {f"run {run_id}": view.run.golden_hash})  # relabelled or split since
    if view.failure:
        st.error(escape_markdown(view.failure))
    version = store.predictions_version(run_id)  # keys what is cached of the run's predictions
    if view.errors:
        errors = _cached.errors(str(ws.private_dir), run_id, version)
        st.caption("Errors by reason (errored items are left out of every metric, never scored as 0):")
        st.dataframe(errors.table, hide_index=True, key="eval_error_reasons")
        with st.expander(f"The {errors.count:,} items with an error and their full messages"):
            st.dataframe(errors.items, hide_index=True, key="eval_error_items")
    if view.active:
        st.button("Cancel", key=_state.EVAL_CANCEL, on_click=manager.cancel, args=(run_id,), icon=":material/stop:")
    if view.resumable and st.button("Resume", key=_state.EVAL_RESUME, icon=":material/replay:"):
        if _common.attempt(resume_run, store, manager, run_id, endpoint):
            st.rerun(scope="app")
    if view.done:
        _predictions.draw(ws, run_id, version, view.run.golden_hash)
    if live and not (overview["status"] == "running").any():
        st.rerun(scope="app")  # the last run finished: stop polling
