"""What every study tab of the Insight page shares: the start button, the picker of the base run's
studies, and the picked study's progress (a live bar while it is scored, cancel, and resume after
a stop: a restart, a cancel, a server that went away)."""

from dataclasses import dataclass

import streamlit as st

from cope_eval.app import escape_markdown, start_study, study_choices, study_view
from cope_eval.insight import StudyKind, endpoint_mismatch
from cope_eval.records import Endpoint, Run
from cope_eval.store import Store
from pages import _auth, _common, _state


@dataclass(frozen=True)
class StudyKeys:
    """A tab's widget keys (constants of ``_state``)."""

    start: str
    study: str
    """The picked study's id."""
    resume: str
    cancel: str


def study_tab(store: Store, manager, endpoint: Endpoint | None, kind: StudyKind, base_run: Run, *,
              keys: StudyKeys, start: str, picker: str, none_yet: str, options: dict,
              match: dict | None = None) -> str | None:
    """Draw the start button (``start`` is its label; ``options`` go to ``kind.create``), the picker of
    ``base_run``'s studies of ``kind`` whose params include ``match``, and the picked study's progress.
    The picked study's id once it is complete (draw its report), else None."""
    problem = endpoint_mismatch(base_run, endpoint)
    if problem:
        st.warning(escape_markdown(problem))  # it quotes the server URL and model name
    if st.button(start, key=keys.start, type="primary", disabled=problem is not None,
                 icon=":material/play_arrow:"):
        study = _common.attempt(start_study, store, manager, endpoint, kind, base_run,
                                author=_auth.current_author() or "", **options)
        if study is not None:
            st.session_state[keys.study] = study.id

    studies = study_choices(store, manager, kind, base_run.id, **(match or {}))
    if not studies:
        st.info(none_yet)
        return None
    _state.keep_valid(keys.study, list(studies))
    _state.redraw_choice(keys.study)  # its label says the status, which changes
    study_id = st.selectbox(picker, list(studies), key=keys.study, format_func=studies.get)
    return study_id if study_progress(store, manager, study_id, endpoint, keys) else None


def study_progress(store: Store, manager, study_id: str, endpoint: Endpoint | None, keys: StudyKeys) -> bool:
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
            st.button("Cancel", key=keys.cancel, on_click=manager.cancel, args=(study_id,),
                      icon=":material/stop:")
        elif view.status != "completed":
            problem = endpoint_mismatch(base_run, endpoint)
            if st.button("Resume", key=keys.resume, disabled=problem is not None, icon=":material/replay:",
                         help=problem and escape_markdown(problem)):
                manager.start_study(study_id, endpoint)
                st.rerun(scope="app")
        if started.active and not view.active:
            st.rerun(scope="app")  # it stopped: draw the report, or stop polling

    live()
    return False
