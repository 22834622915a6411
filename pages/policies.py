"""Policies: pick or create one, edit its text, save versions, see history, diffs and tokens."""

import contextlib

import streamlit as st

from cope_eval.app import policy_tokens, version_history, version_label
from cope_eval.errors import CopeEvalError
from cope_eval.policies import (
    diff_versions, discard_draft, list_policies, list_versions, newest_draft, read_draft, save_draft,
    save_version, slugify
)
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
if saved or not slugs:
    st.session_state[_state.POLICY_CREATING] = not slugs  # a first policy, or the one just saved
creating = st.session_state[_state.POLICY_CREATING]
if not creating and _state.POLICY_SLUG not in st.session_state:  # a fresh session, or back from another page
    remembered = st.session_state[_state.POLICY_CHOICE]
    if remembered is None:  # a fresh session (a reload, a restart): open on the newest draft
        newest = newest_draft(root)
        creating = st.session_state[_state.POLICY_CREATING] = newest is not None and newest.policy is None
        remembered = newest.policy if newest is not None else None
    if remembered is not None:
        st.session_state[_state.POLICY_SLUG] = remembered


def _creating(on: bool) -> None:
    st.session_state[_state.POLICY_CREATING] = on


def _discard(policy: str | None) -> None:
    discard_draft(root, policy)
    st.session_state[_state.POLICY_LOADED] = None  # the editor shows the saved text again


def _keep_draft(policy: str | None, parent: str | None) -> None:
    """Every edit is kept as the policy's draft. Streamlit cannot reliably warn before the tab or the
    page is left (no beforeunload hook; st.navigation switches pages without asking), so the draft
    on disk is the protection: it comes back on a page switch, a reload or an app restart."""
    _common.attempt(save_draft, root, policy, st.session_state[_state.POLICY_EDITOR], parent=parent,
                    template=STARTER)


pick_col, new_col = st.columns([5, 1], vertical_alignment="bottom")
slug = None
if creating:
    new_name = pick_col.text_input("Name of the new policy", key=_state.POLICY_NEW_NAME,
                                   placeholder="e.g. Hate speech")
    if slugs:
        new_col.button("Cancel", key=_state.POLICY_NEW_CANCEL, on_click=_creating, args=(False,))
    with contextlib.suppress(CopeEvalError):  # a name with no letter at all: saving says why
        # The folder name may differ from what was typed: "con" and "日本語" cannot be folder names.
        st.caption(f"Saved as the policy `{slugify(new_name)}` (folder policies/{slugify(new_name)}/).")
else:
    _state.keep_valid(_state.POLICY_SLUG, slugs)
    slug = pick_col.selectbox("Policy", slugs, key=_state.POLICY_SLUG)
    st.session_state[_state.POLICY_CHOICE] = slug
    new_col.button("New policy", key=_state.POLICY_NEW, icon=":material/add:", on_click=_creating,
                   args=(True,))
versions = [] if creating else list_versions(root, slug)
by_id = {v.id: v for v in versions}
number = {v.id: f"v{i} · {short_id(v.id)}" for i, v in enumerate(versions, start=1)}
ids = [v.id for v in reversed(versions)]  # newest first
draft = read_draft(root, slug)  # slug None: the new policy's draft
base_id = None
if not creating:
    loaded = st.session_state[_state.POLICY_LOADED]
    if draft is not None and draft.parent in by_id and (_state.POLICY_BASE not in st.session_state
                                                        or loaded is None or loaded[0] != slug):
        st.session_state[_state.POLICY_BASE] = draft.parent  # another policy picked: open on its draft
    _state.keep_valid(_state.POLICY_BASE, ids)
    base_id = st.selectbox("Edit from version", ids, key=_state.POLICY_BASE,
                           format_func=lambda vid: version_label(by_id[vid]))
draft_shown = draft is not None and (draft.parent == base_id or draft.parent not in by_id)
if st.session_state[_state.POLICY_LOADED] != (slug, base_id) or _state.POLICY_EDITOR not in st.session_state:
    # another policy or version, or back from another page (which drops the editor's text): load it
    st.session_state[_state.POLICY_EDITOR] = (draft.text if draft_shown else
                                              by_id[base_id].text if base_id else STARTER)
    st.session_state[_state.POLICY_LOADED] = (slug, base_id)
else:  # send the text on every run: a run that loaded it may never reach the browser (a click that
    # came on top of a reload or a page switch), and the browser would then show an empty editor
    _state.redraw_choice(_state.POLICY_EDITOR)

draft_save = False
# Always drawn, filled only when there is a draft: the first edit adds the notice without moving the
# widgets below it, so a field typed into while that rerun runs is not redrawn empty.
draft_slot = st.container()
if draft is not None:
    origin = number.get(draft.parent, short_id(draft.parent) if draft.parent else "the starter text")
    when = draft.saved_at[:16].replace("T", " ") + " UTC"
    notice_col, save_draft_col, discard_col = draft_slot.columns([6, 1, 1], vertical_alignment="center")
    if draft_shown:
        notice_col.warning(f"Unsaved draft (edited from {origin}, {when}).", icon=":material/edit_note:")
        draft_save = save_draft_col.button("Save", key=_state.POLICY_DRAFT_SAVE,
                                           help="Save it as a new version")
    else:
        notice_col.warning(f"Unsaved draft (edited from {origin}, {when}): pick {origin} under "
                           "\"Edit from version\" to open it; editing this version replaces it.",
                           icon=":material/edit_note:")
    discard_col.button("Discard", key=_state.POLICY_DRAFT_DISCARD, on_click=_discard, args=(slug,),
                       help="Throw the draft away")

editor_col, gaps_col = st.columns([3, 1])
text = editor_col.text_area("Policy text", key=_state.POLICY_EDITOR, height=460, on_change=_keep_draft,
                            args=(slug, base_id))
with gaps_col:  # beside the editor: the policy gaps error triage found (Insight page)
    _policy_gaps.draw(_common.store(), slug)
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
    version = _common.attempt(lambda: save_version(root, slugify(new_name) if creating else slug, text,
                                                   parent=base_id, note=note, author=author))
    if version is not None:
        discard_draft(root, slug)  # saved: the draft is a version now
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
