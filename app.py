"""cope-eval web app: routes to the pages and draws the shared sidebar, nothing else.

A user-caused error (``CopeEvalError``) that a page did not catch itself still reaches the user
as one message, never a traceback. When sign-in is on (an [auth] section in the secrets), a visitor
who is not signed in gets the sign-in screen at every page's address: no sidebar, no page.
Each run first gives the memory earlier runs freed back to the system (``pages/_shared_cache.py``).
"""

import streamlit as st

from cope_eval._util import free_memory
from cope_eval.errors import CopeEvalError
from pages import _auth, _common, _shared_cache, _sidebar, _state

st.set_page_config(page_title="cope-eval", layout="wide")
_state.init_session_state()

app_pages = [
    st.Page("pages/home.py", title="Workspace", icon=":material/home:", default=True),
    st.Page("pages/policies.py", title="Policies", icon=":material/edit_document:"),
    st.Page("pages/golden_sets.py", title="Golden sets", icon=":material/fact_check:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/play_circle:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/suite.py", title="Model card table", icon=":material/table_chart:"),
    st.Page("pages/insight.py", title="Insight", icon=":material/lightbulb:"),
    st.Page("pages/export.py", title="Export", icon=":material/ios_share:"),
]
if not _auth.admitted():  # every address of the app shows the sign-in screen, and nothing else
    st.navigation(_auth.locked(app_pages), position="hidden").run()
    st.stop()
navigation = st.navigation(app_pages)
# What earlier runs freed (their pages' objects go when a run ends) goes back to the system before
# this one allocates: a team's pages over 1M-item runs otherwise grow the app past its memory bound.
free_memory.arrow_on_the_system_allocator()
_shared_cache.free_what_runs_dropped()
try:
    _sidebar.draw()
    navigation.run()
except CopeEvalError as error:
    _common.show_error(error)
