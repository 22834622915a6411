"""Under the policy editor: how much of the model's context the policy and prompt template take."""

import streamlit as st

from cope_eval.app import policy_tokens, token_caption
from cope_eval.records import Endpoint
from pages._sidebar import session_endpoint


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def _tokens(base_url: str, model: str, _api_key: str | None, text: str):
    return policy_tokens(Endpoint(base_url, model, _api_key), text)


def draw(text: str) -> None:
    endpoint = session_endpoint()
    if endpoint is None:
        st.caption("Token count: no healthy model server (see the sidebar).")
    elif text.strip():
        count = _tokens(endpoint.base_url, endpoint.model, endpoint.api_key, text)
        if count.share is None:
            st.caption(token_caption(count))
        else:
            st.progress(min(count.share, 1.0), text=token_caption(count))
