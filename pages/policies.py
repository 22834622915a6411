"""Policies: pick or create one, edit its text, save versions, see history, diffs and tokens."""

import contextlib

import streamlit as st

from cope_eval.app import (
    draft_base, draft_notice, draft_shown, editor_text, newer_version, opening_policy, save_edit, saved_message
)
from cope_eval.errors import CopeEvalError
from cope_eval.policies import list_policies, list_versions, read_draft, slugify, version_titles
from pages import _auth, _common, _news, _policy_edits, _policy_gaps, _policy_history, _policy_tokens, _state

_state.require_app()

st.title("Policies")
root = _common.workspace().root
saved = st.session_state[_state.POLICY_SAVED]
if saved:  # the last run saved a version: select it and say so, once
    st.session_state[_state.POLICY_SAVED] = None
    slug, version_id, existed = saved
    st.session_state.update({_state.POLICY_SLUG: slug, _state.POLICY_BASE: version_id, _state.POLICY_NOTE: ""})
    (st.info if existed else st.success)(saved_message(root, slug, version_id, existed=existed))
slugs = list_policies(root)
if saved or not slugs:
    st.session_state[_state.POLICY_CREATING] = not slugs  # a first policy, or the one just saved
creating = st.session_state[_state.POLICY_CREATING]
if not creating and _state.POLICY_SLUG not in st.session_state:  # a fresh session, or back from another page
    creating, remembered = opening_policy(root, st.session_state[_state.POLICY_CHOICE])
    st.session_state[_state.POLICY_CREATING] = creating
    if remembered is not None:
        st.session_state[_state.POLICY_SLUG] = remembered

pick_col, new_col = st.columns([5, 1], vertical_alignment="bottom")
slug = None
if creating:
    new_name = pick_col.text_input("Name of the new policy", key=_state.POLICY_NEW_NAME, placeholder="e.g. Hate speech")
    if slugs:
        new_col.button("Cancel", key=_state.POLICY_NEW_CANCEL, on_click=_policy_edits.creating, args=(False,))
    with contextlib.suppress(CopeEvalError):  # a name with no letter at all: saving says why
        # The folder name may differ from what was typed: "con" and "日本語" cannot be folder names.
        st.caption(f"Saved as the policy `{slugify(new_name)}` (folder policies/{slugify(new_name)}/).")
else:
    _state.keep_valid(_state.POLICY_SLUG, slugs)
    slug = pick_col.selectbox("Policy", slugs, key=_state.POLICY_SLUG)
    st.session_state[_state.POLICY_CHOICE] = slug
    new_col.button("New policy", key=_state.POLICY_NEW, icon=":material/add:", on_click=_policy_edits.creating, args=(True,))
versions = [] if creating else list_versions(root, slug)
by_id, titles = {v.id: v for v in versions}, version_titles(versions)
ids = [v.id for v in reversed(versions)]  # newest first
draft = read_draft(root, slug)  # slug None: the new policy's draft
base_id = None
if not creating:
    picked = _state.POLICY_BASE in st.session_state
    if draft_base(draft, by_id, slug, st.session_state[_state.POLICY_LOADED], picked=picked):
        st.session_state[_state.POLICY_BASE] = draft.parent  # another policy picked: open on its draft
    _state.keep_valid(_state.POLICY_BASE, ids)
    base_id = st.selectbox("Edit from version", ids, key=_state.POLICY_BASE, format_func=titles.get)
if st.session_state[_state.POLICY_LOADED] != (slug, base_id) or _state.POLICY_EDITOR not in st.session_state:
    # another policy or version, or back from another page (which drops the editor's text): load it
    st.session_state[_state.POLICY_EDITOR] = editor_text(draft, by_id, base_id, _policy_edits.STARTER)
    st.session_state.update({_state.POLICY_LOADED: (slug, base_id), _state.POLICY_SEEN: ids[0] if ids else None})
else:  # send the text on every run: a run that loaded it may never reach the browser (a click that
    # came on top of a reload or a page switch), and the browser would then show an empty editor
    _state.redraw_choice(_state.POLICY_EDITOR)

_news.policy(versions, base_id)  # saved by others since the version edited from
draft_save = False
# Always drawn, filled only when there is a draft: the first edit adds the notice without moving the
# widgets below it, so a field typed into while that rerun runs is not redrawn empty.
draft_slot = st.container()
if draft is not None:
    notice_col, save_draft_col, discard_col = draft_slot.columns([6, 1, 1], vertical_alignment="center")
    notice_col.warning(draft_notice(draft, versions, base_id), icon=":material/edit_note:")
    if draft_shown(draft, by_id, base_id):
        draft_save = save_draft_col.button("Save", key=_state.POLICY_DRAFT_SAVE, help="Save it as a new version")
    discard_col.button("Discard", key=_state.POLICY_DRAFT_DISCARD, on_click=_policy_edits.discard, args=(root, slug),
                       help="Throw the draft away")

editor_col, gaps_col = st.columns([3, 1])
text = editor_col.text_area("Policy text", key=_state.POLICY_EDITOR, height=460, on_change=_policy_edits.keep_draft,
                            args=(root, slug, base_id))
with gaps_col:  # beside the editor: the policy gaps error triage found (Insight page)
    _policy_gaps.draw(_common.store(), slug)
newer = newer_version(versions, base_id, text, seen=st.session_state.get(_state.POLICY_SEEN))
if newer is not None:  # saved from another tab or session meanwhile: saving makes a sibling of it
    st.warning(newer.message, icon=":material/call_split:")
    st.html(newer.diff.html)  # policy_diff escapes every piece of policy text it places in HTML
note_col, author_col, save_col = st.columns([3, 2, 1.3], vertical_alignment="bottom")
note = note_col.text_input("Note for this version", key=_state.POLICY_NOTE, placeholder="what changed, and why")
author = _auth.current_author()  # signed in: the version records that user, whatever a field says
if author is None:
    author = author_col.text_input("Author", key=_state.POLICY_AUTHOR)
else:
    author_col.text_input("Author", value=author, disabled=True, help="The signed-in user")
save = save_col.button("Save as new version", key=_state.POLICY_SAVE, type="primary", icon=":material/save:")
if save or draft_save:
    new_name = st.session_state.get(_state.POLICY_NEW_NAME) or ""
    version = _common.attempt(save_edit, root, slug, text, new_name=new_name, parent=base_id, note=note, author=author)
    if version is not None:
        st.session_state[_state.POLICY_SAVED] = (version.policy, version.id, version.id in by_id)
        st.rerun()

_policy_tokens.draw(text)
if versions:
    _policy_history.draw(_common.store(), versions)
