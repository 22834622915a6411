"""cope-eval web app: routes to the pages and draws the shared sidebar, nothing else."""

import streamlit as st

from pages import _sidebar, _state

st.set_page_config(page_title="cope-eval", layout="wide")
_state.init_session_state()

navigation = st.navigation([
    st.Page("pages/home.py", title="Workspace", icon=":material/home:", default=True),
])
_sidebar.draw()
navigation.run()
