"""Every session-state key the pages use, initialised in one place.

Session state holds selections and ids only; data of record lives in the workspace store.
"""

import streamlit as st

SERVER_URL = "server_url"
SERVER_MODEL = "server_model"
SERVER_API_KEY = "server_api_key"

_DEFAULTS = {SERVER_URL: None, SERVER_MODEL: None, SERVER_API_KEY: None}


def init_session_state() -> None:
    for key, value in _DEFAULTS.items():
        st.session_state.setdefault(key, value)
