"""Policies: pick or create one, edit its text, save versions, see history, diffs and tokens."""

import contextlib

import streamlit as st

from cope_eval.app import policy_tokens, version_history, version_label
from cope_eval.errors import CopeEvalError
from cope_eval.policies import diff_versions, list_policies, list_versions, save_version, slugify
from cope_eval.records import Endpoint, short_id
from pages import _auth, _common, _policy_gaps, _state
from pages._sidebar import session_endpoint

_state.require_app()

STARTER = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- \n\n#### Excludes\n- \n"


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def _tokens(base_url: str, model: str, _api_key: str | None, text: str):
    return policy_tokens(Endpoint(base_url, model, _api_key), text)


st.title("Policies")
root = _common.workspace().root
saved = st.session_state[_state.POLICY_SAVED]
if saved:  # the last run saved a version: select it and say so, once
    st.session_state[_state.POLICY_SAVED] = None
    slug, version_id, existed = saved
    st.session_state.update({_state.POLICY_SLUG: slug, _state.POLICY_BASE: version_id, _state.POLICY_NOTE: ""})
    if existed:
        st.info(f"This text is already saved as version {short_id(version_id)}; nothing new was saved.")
    else:
        st.success(f"Saved version {short_id(version_id)}.", icon=":material/check:")

slugs = list_policies(root)
choices = slugs + [_state.NEW_POLICY]
_state.keep_valid(_state.POLICY_SLUG, choices)
slug = st.selectbox("Policy", choices, key=_state.POLICY_SLUG)
is_new = slug == _state.NEW_POLICY
versions = [] if is_new else list_versions(root, slug)
by_id = {v.id: v for v in versions}
ids = [v.id for v in reversed(versions)]  # newest first
base_id = None
if is_new:
    new_name = st.text_input("Name of the new policy", key=_state.POLICY_NEW_NAME, placeholder="e.g. Hate speech")
    with contextlib.suppress(CopeEvalError):  # a name with no letter at all: saving says why
        # The folder name may differ from what was typed: "con" and "日本語" cannot be folder names.
        st.caption(f"Saved as the policy `{slugify(new_name)}` (folder policies/{slugify(new_name)}/).")
else:
    _state.keep_valid(_state.POLICY_BASE, ids)
    base_id = st.selectbox("Edit from version", ids, key=_state.POLICY_BASE,
                           format_func=lambda vid: version_label(by_id[vid]))
if st.session_state[_state.POLICY_LOADED] != (slug, base_id):  # another policy or version: load it
    st.session_state[_state.POLICY_EDITOR] = by_id[base_id].text if base_id else STARTER
    st.session_state[_state.POLICY_LOADED] = (slug, base_id)

editor_col, gaps_col = st.columns([3, 1])
text = editor_col.text_area("Policy text", key=_state.POLICY_EDITOR, height=460)
with gaps_col:  # beside the editor: the policy gaps error triage found (Insight page)
    _policy_gaps.draw(_common.store(), None if is_new else slug)
note_col, author_col, save_col = st.columns([3, 2, 1.3], vertical_alignment="bottom")
note = note_col.text_input("Note for this version", key=_state.POLICY_NOTE, placeholder="what changed, and why")
author = _auth.current_author()  # signed in: the version records that user, whatever a field says
if author is None:
    author = author_col.text_input("Author", key=_state.POLICY_AUTHOR)
else:
    author_col.text_input("Author", value=author, disabled=True, help="The signed-in user")
if save_col.button("Save as new version", key=_state.POLICY_SAVE, type="primary", icon=":material/save:"):
    new_name = st.session_state.get(_state.POLICY_NEW_NAME) or ""
    version = _common.attempt(lambda: save_version(root, slugify(new_name) if is_new else slug, text,
                                                   parent=base_id, note=note, author=author))
    if version is not None:
        st.session_state[_state.POLICY_SAVED] = (version.policy, version.id, version.id in by_id)
        st.rerun()

endpoint = session_endpoint()
if endpoint is None:
    st.caption("Token count: no healthy model server (see the sidebar).")
elif text.strip():
    count = _tokens(endpoint.base_url, endpoint.model, endpoint.api_key, text)
    if count.tokens is None:
        st.caption("Token count: this server cannot count tokens (no /tokenize endpoint).")
    elif count.share is None:
        st.caption(f"Policy and prompt template: {count.tokens:,} tokens (the server does not say its context).")
    else:
        st.progress(min(count.share, 1.0), text=f"Policy and prompt template: {count.tokens:,} tokens of the "
                    f"model's {count.max_model_len:,}-token context ({count.share:.0%})")

if not versions:
    st.stop()
st.subheader("Version history")
st.dataframe(version_history(versions, _common.store().runs()), hide_index=True, key="policy_history",
             column_config={"note": st.column_config.TextColumn(width="large")})

st.subheader("Compare two versions")
if len(ids) < 2:
    st.info("Save a second version to see what changed.")
    st.stop()
_state.keep_valid(_state.POLICY_DIFF_OLD, ids, default=ids[1])
_state.keep_valid(_state.POLICY_DIFF_NEW, ids, default=ids[0])
old_col, new_col = st.columns(2)
old = old_col.selectbox("Old", ids, key=_state.POLICY_DIFF_OLD, format_func=lambda vid: version_label(by_id[vid]))
new = new_col.selectbox("New", ids, key=_state.POLICY_DIFF_NEW, format_func=lambda vid: version_label(by_id[vid]))
diff = diff_versions(by_id[old], by_id[new])
if diff.identical:
    st.info("The two versions have the same text.")
else:
    st.caption(f"{diff.added} lines added · {diff.removed} removed · {diff.changed} changed")
    st.html(diff.html)  # policy_diff escapes every piece of policy text it places in HTML
    with st.expander("Unified diff"):
        st.code(diff.unified, language="diff")
