"""Under the policy editor: the policy's version history, and any two of its versions side by side."""

import streamlit as st

from cope_eval.app import version_history
from cope_eval.policies import diff_versions, label_versions, version_titles
from cope_eval.records import PolicyVersion
from cope_eval.store import Store
from pages import _state


def draw(store: Store, versions: list[PolicyVersion]) -> None:
    """``versions`` oldest first (``list_versions``), at least one."""
    st.subheader("Version history")
    st.dataframe(version_history(versions, store.runs()), hide_index=True, key="policy_history",
                 column_config={"note": st.column_config.TextColumn(width="large")})
    st.subheader("Compare two versions")
    if len(versions) < 2:
        st.info("Save a second version to see what changed.")
        return
    by_id, titles = {v.id: v for v in versions}, version_titles(versions)
    ids = list(reversed(by_id))  # newest first
    _state.keep_valid(_state.POLICY_DIFF_OLD, ids, default=ids[1])
    _state.keep_valid(_state.POLICY_DIFF_NEW, ids, default=ids[0])
    old_col, new_col = st.columns(2)
    old = old_col.selectbox("Old", ids, key=_state.POLICY_DIFF_OLD, format_func=titles.get)
    new = new_col.selectbox("New", ids, key=_state.POLICY_DIFF_NEW, format_func=titles.get)
    diff = diff_versions(by_id[old], by_id[new], labels=label_versions(versions))
    if diff.identical:
        st.info("The two versions have the same text.")
        return
    st.caption(f"{diff.added} lines added · {diff.removed} removed · {diff.changed} changed")
    st.html(diff.html)  # policy_diff escapes every piece of policy text it places in HTML
    with st.expander("Unified diff"):
        st.code(diff.unified, language="diff")
