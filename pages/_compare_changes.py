"""Compare's "What changed" tab: B against A (metric deltas, McNemar), the policy diff, and the
items whose decision changed, a page at a time."""

import streamlit as st

from cope_eval.app import FLIP_FILTERS, deltas_note, deltas_table, flip_labels, flips_page
from cope_eval.policies import diff_versions, version_labels
from pages import _common, _compare_data, _state

COLUMNS = {"thumbnail": _common.PREVIEW_COLUMN,
           "text": st.column_config.TextColumn(width="large")}


def show(view, picked) -> None:
    """The tab for the Compare page's ``ThresholdView`` of the runs ``picked`` (RunInfo, A first)."""
    if view.comparison is None:
        st.info("Pick a second run to see what changed: metric deltas, flipped items and the policy diff.")
        return
    ws, store = _common.workspace(), _common.store()
    a, b = picked[0].run, picked[1].run
    st.subheader("B against A")
    st.dataframe(deltas_table(view.comparison), key="compare_deltas")
    test = view.comparison.mcnemar
    st.caption(f"{view.comparison.n:,} items compared · {view.comparison.fixed} fixed · "
               f"{view.comparison.broken} broken · McNemar ({test.method}) p = {test.p_value:.3g}")
    if note := deltas_note(view):
        st.caption(note)
    old, new = store.policy_version(a.policy_version_id), store.policy_version(b.policy_version_id)
    diff = diff_versions(old, new, labels={**version_labels(ws.root, old.policy),
                                           **version_labels(ws.root, new.policy)})
    if diff.identical:
        st.info("Both runs scored the same policy text.")
    else:
        st.html(diff.html)  # full width; policy_diff escapes every piece of policy text it places in HTML

    st.subheader("Flips")  # open on the items whose decision changed (FLIP_FILTERS[0])
    labels = flip_labels(view.comparison)
    outcome_col, page_col = st.columns([3, 1])
    outcome = outcome_col.selectbox("Show", [*FLIP_FILTERS, _state.ALL], key=_state.FLIPS_OUTCOME,
                                    format_func=lambda o: labels.get(o, "every flip"))
    rows, pages = flips_page(view.flips, _compare_data.golden_rows(str(ws.private_dir), a.golden_hash), ws.root,
                             outcome=None if outcome == _state.ALL else outcome,
                             page=st.session_state[_state.FLIPS_PAGE])
    st.session_state[_state.FLIPS_PAGE] = min(st.session_state[_state.FLIPS_PAGE], pages)
    page_col.number_input(f"Page (of {pages:,})", 1, pages, key=_state.FLIPS_PAGE)
    st.dataframe(rows, hide_index=True, key="compare_flips", column_config=COLUMNS, placeholder="")
