"""Beside the policy editor: the policy gaps error triage found for this policy, as a checklist.

Ticking a gap marks it done in the store (who: the signed-in user, else the page's Author field;
when); unticking a done one puts it back.
"""

import streamlit as st

from cope_eval.app import escape_markdown
from cope_eval.insight import mark_gap_done, policy_gaps
from cope_eval.records import short_id
from cope_eval.store import Store
from pages import _auth, _common, _state


def draw(store: Store, policy: str | None) -> None:
    st.markdown("**Policy gaps**", help="Items tagged as policy gaps on the Insight page's Error triage tab")
    gaps = policy_gaps(store, policy) if policy else None
    if gaps is None or gaps.empty:
        st.caption("None tagged yet: tag confident disagreements on the Insight page's Error triage tab.")
        return
    st.caption(f"{(gaps['status'] == 'open').sum()} open · {(gaps['status'] == 'done').sum()} done")
    for gap in gaps.itertuples():
        key = f"{_state.GAP_DONE}:{gap.id}"
        st.session_state[key] = gap.status == "done"  # the store decides what is ticked, not a stale widget
        note = " ".join(gap.note.split()) or "(no note)"
        st.checkbox(escape_markdown(note), key=key, on_change=_toggle, args=(store, gap.id, key), wrap=True)
        text = " ".join(str(gap.text).split())
        st.caption(escape_markdown(f"{gap.item_id}: {text[:160]}{'…' if len(text) > 160 else ''}")
                   + f" · run {escape_markdown(gap.run_id[-6:])} · version {short_id(gap.policy_version_id, 8)}")


def _toggle(store: Store, gap_id: int, key: str) -> None:
    author = _auth.current_author() or st.session_state.get(_state.POLICY_AUTHOR) or ""  # as the click saw it
    _common.attempt(mark_gap_done, store, gap_id, author=author, done=st.session_state[key])
