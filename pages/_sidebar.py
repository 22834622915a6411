"""The sidebar every page shares: who is signed in (when sign-in is on), workspace, model server,
model and its health.

The server, model and API key can be changed for this session. The key lives in session memory
only (or comes from COPE_API_KEY / Streamlit secrets for the configured server); it is never
written to the store, and a key given for one server is never sent to another.
"""

import os

import streamlit as st

from cope_eval import local
from cope_eval.app import escape_markdown
from cope_eval.config import normalise_base_url, server_from_env, workspace_from_env
from cope_eval.errors import CopeEvalError
from cope_eval.records import Endpoint
from cope_eval.scoring import probe
from pages import _auth, _state

LOCAL_NOTE = "Local stand-in: SmolLM2-135M on CPU. Its labels mean nothing; set COPE_BASE_URL for real scores."


@st.cache_data(ttl=10, show_spinner=False)
def _probe(base_url: str, _api_key: str | None):
    return probe(base_url, _api_key)


def _secret_key() -> str | None:
    try:
        return st.secrets.get("COPE_API_KEY") if st.secrets.load_if_toml_exists() else None
    except Exception:  # noqa: BLE001 - a broken secrets file must not break the sidebar
        return None


def current_server() -> tuple[str | None, str | None, str | None, bool]:
    """(base URL, model, api key, is the local stand-in) for this session."""
    setting = server_from_env()
    chosen = st.session_state[_state.SERVER_URL]
    if chosen is not None:  # chosen in this session: only the key given with it goes there
        is_local = os.environ.get("COPE_LOCAL_SERVER") == "1" and chosen == setting.base_url
        return chosen, st.session_state[_state.SERVER_MODEL], st.session_state[_state.SERVER_API_KEY], is_local
    base_url = setting.base_url
    is_local = os.environ.get("COPE_LOCAL_SERVER") == "1"
    if base_url is None:
        running = local.status()
        base_url, is_local = (running.base_url, True) if running else (None, False)
    model = st.session_state[_state.SERVER_MODEL] or setting.model
    return base_url, model, setting.api_key or _secret_key(), is_local


def session_endpoint() -> Endpoint | None:
    """Where this session's runs and checks go; None without a healthy server serving the model."""
    base_url, model, api_key, _ = current_server()
    if base_url is None:
        return None
    info = _probe(base_url, api_key).model(model)
    return Endpoint(base_url, info.id, api_key) if info else None


def _use_server() -> None:
    try:
        url = normalise_base_url(st.session_state[_state.SERVER_URL_INPUT] or "")
    except CopeEvalError as error:
        st.session_state[_state.SERVER_ERROR] = str(error)
        return
    key = st.session_state[_state.SERVER_KEY_INPUT] or None
    st.session_state.update({_state.SERVER_URL: url, _state.SERVER_API_KEY: key, _state.SERVER_MODEL: None,
                             _state.SERVER_ERROR: None, _state.SERVER_KEY_INPUT: ""})


def _reset_server() -> None:
    st.session_state.update({_state.SERVER_URL: None, _state.SERVER_API_KEY: None, _state.SERVER_MODEL: None,
                             _state.SERVER_ERROR: None, _state.SERVER_KEY_INPUT: ""})


def _use_model() -> None:
    st.session_state[_state.SERVER_MODEL] = st.session_state[_state.SERVER_MODEL_INPUT]


def _switcher(base_url: str | None) -> None:
    # A form sends the URL and key together on "Use": outside one, a key typed and then left with
    # Tab (onto the field's show/hide button) was never committed and the server got no key.
    with st.expander("Change server, model or key"), st.form("server_switch", clear_on_submit=True, border=False):
        st.text_input("Base URL", key=_state.SERVER_URL_INPUT, placeholder=base_url or "http://host:8000/v1")
        st.text_input("API key (kept in memory for this session)", key=_state.SERVER_KEY_INPUT, type="password")
        left, right = st.columns(2)
        left.form_submit_button("Use", key=_state.SERVER_USE, on_click=_use_server)
        right.form_submit_button("Reset", key=_state.SERVER_RESET, on_click=_reset_server)
        if st.session_state[_state.SERVER_ERROR]:
            st.error(escape_markdown(st.session_state[_state.SERVER_ERROR]))


def draw() -> None:
    workspace = workspace_from_env()
    base_url, model, api_key, is_local = current_server()
    with st.sidebar:
        _auth.draw_user()
        st.caption("Workspace")
        st.text(str(workspace.root))
        st.caption("Model server")
        if base_url is None:
            st.error("No model server. Start the app with `make run`, or set COPE_BASE_URL.")
            _switcher(base_url)
            return
        status = _probe(base_url, api_key)
        st.text(base_url)
        info = status.model(model) if status.healthy else None
        if not status.healthy:
            st.error(f"Unhealthy: {escape_markdown(status.error)}")
        elif info is None:
            served = ", ".join(m.id for m in status.models)
            st.error(escape_markdown(f"Model {model!r} is not served here; it serves {served}."))
        else:
            context = f", context {info.max_model_len:,} tokens" if info.max_model_len else ""
            st.success(f"Healthy · model `{info.id.replace('`', '')}`{context}", icon=":material/check_circle:")
            ids = [m.id for m in status.models]
            if len(ids) > 1:
                st.selectbox("Model", ids, index=ids.index(info.id), key=_state.SERVER_MODEL_INPUT,
                             on_change=_use_model)
            if is_local:
                st.info(LOCAL_NOTE, icon=":material/info:")
        _switcher(base_url)
