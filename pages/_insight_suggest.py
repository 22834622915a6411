"""Insight tab: suggested edits. Ask a chat model for a minimal policy edit fixing a run's confident
misses on dev, read it as a diff with its rationale and the exact prompt, score it on dev in the
background, and keep it as the policy's draft (never a version until the analyst saves it)."""

import streamlit as st

from cope_eval.app import (
    REPLACE_DRAFT, ChatChoice, changed_page, chat_endpoint, completed_runs, escape_markdown,
    score_table, start_scoring, status_line, suggestion_diff, who_answers
)
from cope_eval.insight import (
    compare_suggestions, save_suggestion_as_draft, stored_suggestions, suggest_edits, suggestion_score, suggestion_study
)
from pages import _auth, _cached, _common, _state
from pages._study_progress import StudyKeys, study_progress

TITLE = "Suggested edits"
SHOWN = 3
"""The run's newest suggestions drawn in full; the table compares them all."""
FORMAT = {"run": "{:.3f}", "suggested": "{:.3f}", "Δ": "{:+.3f}", "low": "{:+.3f}", "high": "{:+.3f}"}


@st.cache_data(show_spinner=False, max_entries=8)
def _score(private_dir: str, suggestion_id: str, versions: tuple[int, ...]):
    return suggestion_score(_common.store_at(private_dir), suggestion_id)  # keyed by its runs' versions


def draw(ws, store, manager, endpoint) -> None:
    runs = completed_runs(store)
    if not runs:
        st.info("No completed runs yet: score a policy on the Evaluate page, then ask for an edit here.")
        return
    _state.keep_valid(_state.SUGGEST_RUN, list(runs))
    run_col, confidence_col, n_col = st.columns([3, 2, 1])
    run_id = run_col.selectbox("Run", list(runs), key=_state.SUGGEST_RUN,
                               format_func=lambda rid: f"{runs[rid].name} · {runs[rid].run.n_items} items · {rid}")
    confidence = confidence_col.slider("Minimum confidence of a miss", 0.0, 1.0, step=0.01,
                                       key=_state.SUGGEST_MIN_CONFIDENCE)
    n = n_col.number_input("Suggestions", 1, 3, key=_state.SUGGEST_N)
    st.caption("Only the run's confident misses on its **dev** items are quoted to the model (as data, never "
               "instructions); test items never reach the prompt.")
    other = st.toggle("Another chat server", key=_state.SUGGEST_OTHER, persist_state="session",
                      help="By default the session's scoring server and model write the suggestion")
    if other:
        url_col, model_col, key_col = st.columns(3)
        url_col.text_input("Chat server URL", key=_state.SUGGEST_URL, persist_state="session",
                           placeholder="http://host:8000/v1")
        model_col.text_input("Chat model", key=_state.SUGGEST_MODEL, persist_state="session",
                             placeholder="the server's first")
        key_col.text_input("Chat API key", key=_state.SUGGEST_KEY, type="password", persist_state="session",
                           help="Kept in this session's memory only; sent to that server only")
    choice = ChatChoice(other, st.session_state[_state.SUGGEST_URL], st.session_state[_state.SUGGEST_MODEL],
                        st.session_state[_state.SUGGEST_KEY])
    st.caption(escape_markdown(who_answers(endpoint, choice)))
    if st.button("Suggest an edit", key=_state.SUGGEST_ASK, type="primary", icon=":material/edit_note:"):
        chat = _common.attempt(chat_endpoint, endpoint, choice)
        if chat is not None:
            with st.spinner(f"Asking {escape_markdown(chat.model)}: one chat request per suggestion…"):
                _common.attempt(suggest_edits, store, run_id, chat, n=int(n), min_confidence=confidence)

    suggestions = stored_suggestions(store, run_id)
    if not suggestions:
        st.info("No suggestion for this run yet.")
        return
    if len(suggestions) > 1:
        st.subheader("All suggestions for this run")
        st.dataframe(compare_suggestions(store, suggestions), hide_index=True, key="suggest_compare")
    for s in reversed(suggestions[-SHOWN:]):
        with st.container(border=True):
            _suggestion(ws, store, manager, endpoint, runs[run_id].run, s)


def _suggestion(ws, store, manager, endpoint, run, s) -> None:
    st.markdown(f"**{escape_markdown(s.id)}** · {escape_markdown(status_line(s))}")
    for problem in s.problems:
        (st.error if s.status == "failed" else st.warning)(escape_markdown(problem), icon=":material/error:")
    for r in s.rationales:
        st.markdown(f"- **{escape_markdown(r.clause)}**: {escape_markdown(r.why)}")
    diff = suggestion_diff(s)
    if diff is not None and not diff.identical:
        st.html(diff.html)  # diff_texts escapes every piece of policy text it places in HTML
    with st.expander("The prompt sent"):
        st.caption(f"To {escape_markdown(s.model)} at {escape_markdown(s.base_url)}, with {s.request}")
        for message in s.messages:
            st.caption(escape_markdown(message["role"]))
            st.code(message["content"], language=None, wrap_lines=True)
        if s.raw_reply:
            st.caption("The reply")
            st.code(s.raw_reply, language=None, wrap_lines=True)
    if s.status != "suggested":
        return
    score_col, save_col, replace_col = st.columns([1, 1, 2])
    study = suggestion_study(store, s.id)
    if study is None and score_col.button("Score on dev", key=f"{_state.SUGGEST_SCORE}:{s.id}",
                                          icon=":material/play_arrow:"):
        study = _common.attempt(start_scoring, store, manager, endpoint, s, author=_auth.current_author() or "")
    replace = replace_col.checkbox(REPLACE_DRAFT, key=f"{_state.SUGGEST_REPLACE}:{s.id}",
                                   help="Let this suggestion replace the policy's existing unsaved draft")
    if save_col.button("Save as draft", key=f"{_state.SUGGEST_SAVE}:{s.id}", icon=":material/save:"):
        if _common.attempt(save_suggestion_as_draft, ws.root, s, replace=replace) is not None:
            st.success(f"Kept as the draft of policy {escape_markdown(s.policy)} (not a version): open it on the "
                       "Policies page to edit and save it.", icon=":material/check:")
    if study is not None:
        keys = StudyKeys("", "", f"{_state.SUGGEST_RESUME}:{s.id}", f"{_state.SUGGEST_CANCEL}:{s.id}")
        if study_progress(store, manager, study.id, endpoint, keys):
            _scored(ws, store, run, s, study.id)


def _scored(ws, store, run, s, study_id: str) -> None:
    score = _common.attempt(_score, str(ws.private_dir), s.id, _cached.study_versions(store, study_id))
    if score is None:
        return
    c = score.comparison
    st.caption(f"On {escape_markdown(score.note)} · {c.n:,} scored by both · {c.confidence:.0%} paired intervals "
               f"· threshold {run.threshold:g} · fixes {c.fixed:,}, breaks {c.broken:,}")
    st.table(score_table(score).set_index("metric").style.format(FORMAT))  # three rows, read as text
    if score.changed.empty:
        return
    page_key = f"{_state.SUGGEST_PAGE}:{s.id}"
    items = _cached.item_texts(str(ws.private_dir), run.golden_hash, score.changed["item_id"])
    frame, pages = changed_page(score, items, st.session_state.get(page_key, 1))
    st.dataframe(frame, hide_index=True, key=f"suggest_changed:{s.id}",
                 column_config={"text": st.column_config.TextColumn(width="large")})
    if pages > 1:
        st.number_input(f"Page (of {pages})", 1, pages, key=page_key)
