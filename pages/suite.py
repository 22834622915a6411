"""Model card table: each sample harm-area policy over its sample golden set on this app's server
(side A) and, when asked, a second server or model (side B), as the CoPE model card's benchmark
table; downloaded as CSV or Markdown.

The suite's runs score in workers of their own (as Evaluate's do). This session keeps their ids
(``SUITE_RUNS``), so a page switch comes back to the same suite; a reload or an app restart starts
a session without one, while the runs keep scoring and stay on Evaluate, and running the suite
again with the same choices takes every answer already scored from the cache.
"""

import streamlit as st

from cope_eval.app import cost_note, sample_areas, start_suite, suite_plan, suite_sides
from cope_eval.insight import AREAS, SAMPLE_SETS
from cope_eval.scoring import ANSWER_MODES, TEMPLATES
from pages import _common, _state, _suite_controls, _suite_progress, _suite_table
from pages._sidebar import session_endpoint

_state.require_app()

st.title("Model card table")
st.caption("The model card's benchmark table for your deployment: each harm area's sample policy over its "
           "sample golden set, precision, recall and F1 with 95% intervals, and their unweighted mean; side by "
           "side with a second server or model when you give one. Every area is an ordinary run (Evaluate lists it).")
ws, store, manager = _common.workspace(), _common.store(), _common.run_manager()
endpoint = session_endpoint()
samples = sample_areas(ws.root)
if st.session_state[_state.SUITE_AREAS] is None:
    st.session_state[_state.SUITE_AREAS] = samples

left, right = st.columns(2)
areas = left.multiselect(
    "Areas", list(AREAS), key=_state.SUITE_AREAS,
    help=f"Areas without a sample golden set ({', '.join(a for a in AREAS if SAMPLE_SETS[a] is None)}) show "
         "without figures unless you give one under Own golden sets.")
limit = left.number_input("Items per area", 1, None, key=_state.SUITE_LIMIT, placeholder="all",
                          help="At most this many items per area: a seeded sample, the same on every side and "
                               "every repeat. Empty: every item.")
mode = left.radio("Threshold", ["own", "given"], key=_state.SUITE_THRESHOLD_MODE, horizontal=True,
                  format_func={"own": "Each run's own", "given": "One for every run"}.get)
threshold = left.number_input("Threshold for every run", 0.0, 1.0, step=0.05, key=_state.SUITE_THRESHOLD,
                              disabled=mode == "own", help="score ≥ threshold is “1”; 0 is a threshold too.")
own_text = left.text_area("Own golden sets", key=_state.SUITE_OWN_GOLDEN, height=80,
                          placeholder="drugs=golden_sets/my-drugs.csv",
                          help="One AREA=PATH a line (a path in the workspace): your set for an area, in place "
                               "of its sample or where it has none.")
template_col, mode_col = right.columns(2)
template = template_col.selectbox("Template (A)", list(TEMPLATES), key=_state.SUITE_TEMPLATE)
answer_mode = mode_col.selectbox("Answer mode (A)", ANSWER_MODES, key=_state.SUITE_ANSWER_MODE)
if endpoint is None:
    right.warning("No healthy model server: choose one in the sidebar. Side A runs there.")
else:
    right.text(f"Side A: model {endpoint.model} at {endpoint.base_url} (change it in the sidebar)")
side_b = _suite_controls.side_b(right)

plan = _common.attempt(suite_plan, ws.root, areas, own_text) if areas else None
if not areas:
    st.info("Choose at least one area (this workspace has the sample policy and golden set of "
            f"{', '.join(samples) or 'none of them'}).")
if plan is not None:
    sizes = _suite_table.sizes(str(ws.root), tuple((a, str(p)) for a, p in plan.items() if p is not None))
    st.caption(cost_note(sizes, limit, 2 if side_b else 1))
if st.button("Run the suite", key=_state.SUITE_START, type="primary", icon=":material/play_arrow:",
             disabled=endpoint is None or plan is None):
    sides = _common.attempt(suite_sides, endpoint, template, answer_mode, side_b)
    runs = sides and _common.attempt(start_suite, store, manager, ws.root, sides, plan,
                                     threshold=threshold if mode == "given" else 0.5, limit=limit)
    if runs:
        st.session_state[_state.SUITE_RUNS] = runs
        st.session_state[_state.SUITE_SIDES] = {side.name: side.describe() for side in sides}

runs = st.session_state[_state.SUITE_RUNS]
if not runs:
    st.info("No suite in this session yet: choose the areas and press “Run the suite”.")
    st.stop()
if _suite_progress.draw(store, manager, runs, endpoint):
    _suite_table.draw(ws, runs, threshold if mode == "given" else None, st.session_state[_state.SUITE_SIDES])
