"""Workspace overview: the policies and golden sets this workspace holds."""

import streamlit as st

from cope_eval.app import escape_markdown, summarise
from cope_eval.config import workspace_from_env
from pages import _state

_state.require_app()

st.title("cope-eval")
st.write("Write a content policy, score it against a labeled golden set, compare versions, export the one you trust.")

summary = summarise(workspace_from_env())
left, right = st.columns(2)
with left:
    st.subheader(f"Policies ({len(summary.policies)})")
    if summary.policies:
        st.dataframe(summary.policies_frame(), hide_index=True, key="home_policies")
    else:
        st.info("No policies yet.")
with right:
    st.subheader(f"Golden sets ({len(summary.golden_sets)})")
    if summary.golden_sets:
        st.dataframe(summary.golden_sets_frame(), hide_index=True, key="home_golden_sets")
    else:
        st.info("No golden sets yet.")
if summary.problems:
    st.warning(f"Left out of the list above ({len(summary.problems)}):\n\n"
               + "\n".join(f"- {escape_markdown(problem)}" for problem in summary.problems), icon=":material/warning:")
