"""Insight: the questions analysts ask after a run, one tab each; only the open tab is drawn (``_tabs``).

Each tab lives in its own ``pages/_insight_*.py`` module exposing ``TITLE`` and ``draw(ws, store,
manager, endpoint)``; the library work behind it is in ``cope_eval`` (studies, probes, ablation,
attribution, triage, agreement), also reachable from the CLI.
"""

from functools import partial

import streamlit as st

from pages import (_common, _insight_ablation, _insight_agreement, _insight_attribution, _insight_probes,
                   _insight_suggest, _insight_triage, _state, _tabs)
from pages._sidebar import session_endpoint

_state.require_app()

# Tab modules, in the order an analyst uses them.
SECTIONS = [_insight_probes, _insight_ablation, _insight_attribution, _insight_triage, _insight_suggest,
            _insight_agreement]

st.title("Insight")
st.caption("Check that the model follows the policy, find which clauses and edits decide which items, "
           "triage confident disagreements, and see where models disagree. Every score here goes through "
           "the same runner, store and cache as the Evaluate page.")
ws, store, manager = _common.workspace(), _common.store(), _common.run_manager()
endpoint = session_endpoint()
for key in (_state.PROBES_RUN, _state.ABLATION_RUN, _state.ATTRIBUTION_RUN_B, _state.TRIAGE_RUN, _state.SUGGEST_RUN):
    _state.open_on(key, _state.CURRENT_RUN)  # the run just finished or picked, if the tab offers it
_tabs.draw_open(_state.INSIGHT_TAB, {s.TITLE: partial(s.draw, ws, store, manager, endpoint) for s in SECTIONS})
