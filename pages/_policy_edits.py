"""The Policies page's callbacks: a new policy's form opened or closed, the draft discarded, every
edit kept as the draft. Defined here, not in the page script: Streamlit keeps a widget's callback
until the session's next run, and one defined in the script would keep the script's every object."""

import streamlit as st

from cope_eval.policies import discard_draft, save_draft
from pages import _common, _state

STARTER = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- \n\n#### Excludes\n- \n"
"""A new policy's text."""


def creating(on: bool) -> None:
    st.session_state[_state.POLICY_CREATING] = on


def discard(root, policy: str | None) -> None:
    discard_draft(root, policy)
    st.session_state[_state.POLICY_LOADED] = None  # the editor shows the saved text again


def keep_draft(root, policy: str | None, parent: str | None) -> None:
    """Every edit is kept as the policy's draft: Streamlit cannot warn before a tab or page is left (no
    beforeunload hook), so the draft on disk brings it back after a page switch, a reload or a restart."""
    _common.attempt(save_draft, root, policy, st.session_state[_state.POLICY_EDITOR], parent=parent,
                    template=STARTER)
