"""Evaluate's runs: the list (this analyst's, or everyone's), the run this session follows with its
progress, errors by reason, Cancel and Resume, and its predictions.

While runs score, two parts of the section are drawn again on their own, and nothing else: the
followed run's progress every second while it scores (``PROGRESS_EVERY_S``), and the list every
``LIST_EVERY_S`` while a run it lists scores. The predictions browser is drawn with the page: while
the followed run scores it shows the predictions stored when it was drawn (its snapshot) until the
analyst asks for the ones stored now, and the run's end draws the page again. Redrawing it every
second rebuilt the run's rows (the predictions' version moves with each answer) and redrew its
table in every open tab: for a 1,000-item run, 0.07 s of the app's interpreter and 0.15 CPU-s of the
browser per second and per tab.

The followed run is this session's own: the run it started, from the Start click on, or the one
picked here. It is resolved once and kept in a key no widget owns, so no redraw ever shows
another run beside this one's progress."""

import streamlit as st

from cope_eval.app import (
    EVERYONES_RUNS, MY_RUNS, escape_markdown, own_runs, resume_run, run_statuses, run_to_follow, run_view,
    runs_overview
)
from pages import _cached, _common, _news, _predictions, _state, _url_state

PROGRESS_EVERY_S = 1.0
"""How often the followed run's progress is drawn again while it scores."""
LIST_EVERY_S = 5.0
"""How often the list is drawn again while a run it lists scores (others' progress, new runs)."""


def draw(ws, store, manager, endpoint, author: str | None) -> None:
    """The section; ``author`` is the signed-in user, or None with sign-in off."""
    st.subheader("Runs")
    st.caption("Each run scores in a worker process of its own: it keeps going when you close this tab or restart "
               "the app, and a run that stopped (cancelled, or its server went away) can be resumed.")
    statuses = run_statuses(store, manager)  # the list's own table is read where it is drawn, once
    if not statuses:
        st.info("No runs yet.")
        return
    st.session_state.setdefault(_state.EVAL_SCOPE, EVERYONES_RUNS if author is None else MY_RUNS)
    scope = st.radio("Runs listed", [MY_RUNS, EVERYONES_RUNS], key=_state.EVAL_SCOPE, horizontal=True,
                     label_visibility="collapsed")
    offered, own = _offered(store, list(statuses), author, scope)
    if not offered:
        st.info(f"No runs of yours yet: {EVERYONES_RUNS} lists every run in this workspace.")
        return
    live = any(statuses[r] == "running" for r in offered)
    st.fragment(run_every=LIST_EVERY_S if live else None)(_list)(store, manager, author, scope, offered, live)
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
    st.fragment(run_every=PROGRESS_EVERY_S if view.active else None)(_progress)(
        ws, store, manager, endpoint, run_id, view.active)
    if view.done:  # items stored: the finished run's predictions, or a snapshot of a scoring run's
        _browse(ws, store, run_id, view)


def _offered(store, everyone: list[str], author: str | None, scope: str) -> tuple[list[str], list[str]]:
    """(the runs of ``everyone`` the picker and the list offer, this analyst's own), newest first."""
    own = own_runs(everyone, authors=store.run_authors(), author=author,
                   started=st.session_state[_state.EVAL_STARTED])
    return (own if scope == MY_RUNS else everyone), own


def _follow() -> None:
    """The picker changed: follow the run picked (a callback, so only the analyst's own pick moves it)."""
    st.session_state[_state.EVAL_FOLLOW] = st.session_state[_state.EVAL_RUN]


def _list(store, manager, author: str | None, scope: str, offered: list[str], live: bool) -> None:
    """The runs listed, with their status and counts. Drawn again every ``LIST_EVERY_S`` while one of
    them scores; when a run appears (the picker must offer it) or the last one stops, the page."""
    overview = runs_overview(store, manager)
    now, _ = _offered(store, overview["run"].tolist(), author, scope)
    shown = overview[overview["run"].isin(now)]
    st.dataframe(shown, hide_index=True, key="eval_runs", height=min(400, 38 + 35 * len(shown)))
    if now != offered or (live and not (shown["status"] == "running").any()):
        st.rerun(scope="app")


def _progress(ws, store, manager, endpoint, run_id: str, was_active: bool) -> None:
    """The followed run's progress, errors by reason, Cancel and Resume. Drawn again every
    ``PROGRESS_EVERY_S`` while it scores; when it stops, the page is (its predictions, its status)."""
    view = run_view(store, manager, run_id)
    st.progress(view.fraction, text=f"{run_id} · {view.status} · {view.summary()}")  # one run, named
    _news.golden(store, {f"run {run_id}": view.run.golden_hash})  # relabelled or split since
    if view.failure:
        st.error(escape_markdown(view.failure))
    if view.errors:
        errors = _cached.errors(str(ws.private_dir), run_id, store.predictions_version(run_id))
        st.caption("Errors by reason (errored items are left out of every metric, never scored as 0):")
        st.dataframe(errors.table, hide_index=True, key="eval_error_reasons")
        with st.expander(f"The {errors.count:,} items with an error and their full messages"):
            st.dataframe(errors.items, hide_index=True, key="eval_error_items")
    if view.active:
        st.button("Cancel", key=_state.EVAL_CANCEL, on_click=manager.cancel, args=(run_id,), icon=":material/stop:")
    if view.resumable and st.button("Resume", key=_state.EVAL_RESUME, icon=":material/replay:"):
        if _common.attempt(resume_run, store, manager, run_id, endpoint):
            st.rerun(scope="app")
    if was_active and not view.active:
        st.rerun(scope="app")  # it stopped: its final predictions, and no more polling


def _browse(ws, store, run_id: str, view) -> None:
    """The predictions browser: the run's stored predictions, or while it scores, its snapshot."""
    version = store.predictions_version(run_id)  # keys what is cached of the run's predictions
    if view.active:
        snapshot = st.session_state[_state.EVAL_SNAPSHOT]
        if snapshot is None or snapshot["run"] != run_id:
            snapshot = _retake(store, run_id)
        version = snapshot["version"]
        st.info("The run is still scoring: this table shows the predictions stored when it was drawn. It is drawn "
                "again when the run stops.", icon=":material/hourglass_top:")
        st.button("Show the predictions stored now", key=_state.EVAL_RETAKE, on_click=_retake, args=(store, run_id))
    _predictions.draw(ws, run_id, version, view.run.golden_hash)


def _retake(store, run_id: str) -> dict:
    """Snapshot the run's predictions as stored now: {"run", "version"}."""
    snapshot = st.session_state[_state.EVAL_SNAPSHOT] = {"run": run_id, "version": store.predictions_version(run_id)}
    return snapshot
