"""Evaluate: score policy versions over a golden set in the background, follow, cancel and
resume runs, and check one item by hand."""

import streamlit as st

from cope_eval.app import CHECK_UPLOAD_TYPES, check_item, escape_markdown, golden_set_labels, start_runs
from cope_eval.policies import list_policies, list_versions, version_titles
from cope_eval.scoring import ANSWER_MODES, TEMPLATES
from pages import _common, _eval_runs, _state, _url_state
from pages._auth import current_author
from pages._sidebar import session_endpoint

_state.require_app()

st.title("Evaluate")
ws, store, manager = _common.workspace(), _common.store(), _common.run_manager()
endpoint = session_endpoint()
author = current_author()  # None with sign-in off: "My runs" are then this session's
slugs, sets = list_policies(ws.root), store.golden_sets()
if not slugs:
    st.info("No policies yet: write one on the Policies page.")
    st.stop()
if sets.empty:
    st.info("No golden sets yet: add one on the Golden sets page.")
    st.stop()

st.subheader("Start a run")
left, right = st.columns(2)
_state.prefer(_state.EVAL_POLICY, _state.CURRENT_POLICY, slugs)
slug = left.selectbox("Policy", slugs, key=_state.EVAL_POLICY)
_state.carry(_state.CURRENT_POLICY, slug)
by_id = {v.id: v for v in list_versions(ws.root, slug)}
titles = version_titles(by_id.values())
ids = list(reversed(by_id))  # newest first
remembered = [i for i in st.session_state.get(_state.EVAL_VERSIONS) or [] if i in by_id]
st.session_state[_state.EVAL_VERSIONS] = remembered or ids[:1]
chosen = left.multiselect("Versions (one run each)", ids, key=_state.EVAL_VERSIONS,
                          format_func=titles.get)
labels = golden_set_labels(sets)
_state.prefer(_state.EVAL_GOLDEN, _state.CURRENT_GOLDEN, labels)
golden_hash = right.selectbox("Golden set", list(labels), key=_state.EVAL_GOLDEN, format_func=labels.get)
_state.carry(_state.CURRENT_GOLDEN, golden_hash)
template_col, mode_col, concurrency_col = right.columns(3)
template = template_col.selectbox("Template", list(TEMPLATES), key=_state.EVAL_TEMPLATE,
                                  help="\n".join(f"- {t.name}: {t.description}" for t in TEMPLATES.values()))
mode = mode_col.selectbox("Answer mode", ANSWER_MODES, key=_state.EVAL_ANSWER_MODE)
concurrency = concurrency_col.number_input(
    "Concurrency", 1, 512, key=_state.EVAL_CONCURRENCY, placeholder="auto",
    help="Requests in flight per server. Empty: adaptive, it finds what the server can take; a number fixes it.")
if endpoint is None:
    st.warning("No healthy model server: choose one in the sidebar to start runs or check items.")
else:
    st.text(f"Model {endpoint.model} at {endpoint.base_url} (change it in the sidebar)")
if st.button("Start", key=_state.EVAL_START, type="primary", disabled=endpoint is None, icon=":material/play_arrow:"):
    started = _common.attempt(start_runs, store, manager, versions=[by_id[i] for i in chosen], golden_hash=golden_hash,
                              endpoint=endpoint, template=template, answer_mode=mode, concurrency=concurrency,
                              author=author)
    if started:  # followed from this script run on: no redraw shows another run beside this one's progress
        ids = [run.id for run in started]
        st.session_state[_state.EVAL_STARTED] = ids + st.session_state[_state.EVAL_STARTED]
        st.session_state[_state.EVAL_FOLLOW] = ids[0]

_url_state.open_linked_run(store, author)  # ?run=<id>: a reconnecting tab, a reload or a link
_eval_runs.draw(ws, store, manager, endpoint, author)

st.subheader("Check one item")
policy = by_id[chosen[0]] if chosen else by_id[ids[0]]
st.caption(f"Scored with {escape_markdown(titles[policy.id])} and the template and answer mode above.")
text = st.text_area("Content", key=_state.CHECK_TEXT, height=120)
upload = st.file_uploader("Image or video (optional)", type=list(CHECK_UPLOAD_TYPES), key=_state.CHECK_UPLOAD)
if st.button("Check", key=_state.CHECK_BUTTON, disabled=endpoint is None):
    result = _common.attempt(check_item, endpoint, policy=policy.text, text=text,
                             upload=upload.getvalue() if upload else None, upload_name=upload.name if upload else "",
                             template=template, answer_mode=mode, workspace_root=ws.root)
    if result is not None:
        shown = f"{result.answer.score:.3f}" if result.has_probability else str(result.answer.hard_label)
        st.metric('P("1")' if result.has_probability else "Label (this template gives no probability)", shown)
        st.text(f"answer: {result.answer.raw!r} · {result.latency_ms:.0f} ms")
