"""Others' changes, said where they matter: one call per page, the sentences from cope_eval.app."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

import streamlit as st

from cope_eval.app import escape_markdown, golden_notices, policy_news
from cope_eval.records import PolicyVersion
from cope_eval.store import Store


def policy(versions: Sequence[PolicyVersion], base_id: str | None) -> None:
    """Above the editor: a version newer than the one edited from, who saved it and when. The slot is
    always drawn, so the notice coming or going never moves the editor below it."""
    slot = st.container()
    line = policy_news(versions, base_id, now=datetime.now(timezone.utc))
    if line is not None:
        slot.info(escape_markdown(line), icon=":material/group:")


def golden(store: Store, runs: Mapping[str, str]) -> None:
    """For runs (name -> the golden set hash each scored) whose set has a newer version."""
    for line in golden_notices(store, runs, now=datetime.now(timezone.utc)):
        st.info(escape_markdown(line), icon=":material/new_releases:")
