"""The sidebar every page shares: workspace, model server, model and its health."""

import os

import streamlit as st

from cope_eval import local_server
from cope_eval.config import server_from_env, workspace_from_env
from cope_eval.server_info import probe
from pages import _state

LOCAL_NOTE = "Local stand-in: SmolLM2-135M on CPU. Its labels mean nothing; set COPE_BASE_URL for real scores."


@st.cache_data(ttl=10, show_spinner=False)
def _probe(base_url: str, _api_key: str | None):
    return probe(base_url, _api_key)


def current_server() -> tuple[str | None, str | None, str | None, bool]:
    """(base URL, model, api key, is the local stand-in) for this session."""
    setting = server_from_env()
    base_url = st.session_state[_state.SERVER_URL] or setting.base_url
    is_local = os.environ.get("COPE_LOCAL_SERVER") == "1"
    if base_url is None:
        running = local_server.status()
        base_url, is_local = (running.base_url, True) if running else (None, False)
    model = st.session_state[_state.SERVER_MODEL] or setting.model
    return base_url, model, st.session_state[_state.SERVER_API_KEY] or setting.api_key, is_local


def draw() -> None:
    workspace = workspace_from_env()
    base_url, model, api_key, is_local = current_server()
    with st.sidebar:
        st.caption("Workspace")
        st.text(str(workspace.root))
        st.caption("Model server")
        if base_url is None:
            st.error("No model server. Start the app with `make run`, or set COPE_BASE_URL.")
            return
        status = _probe(base_url, api_key)
        st.text(base_url)
        if not status.healthy:
            st.error(f"Unhealthy: {status.error}")
            return
        info = status.model(model)
        if info is None:
            st.error(f"Model {model!r} is not served here; it serves {', '.join(m.id for m in status.models)}.")
            return
        context = f", context {info.max_model_len:,} tokens" if info.max_model_len else ""
        st.success(f"Healthy · model `{info.id}`{context}", icon=":material/check_circle:")
        if is_local:
            st.info(LOCAL_NOTE, icon=":material/info:")
