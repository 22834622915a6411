"""The test split, on purpose: Compare's figures are on each golden set's dev split; a button
reveals the runs' test-split figures at the page's threshold, and each reveal is recorded for
the policy (who, when, which run), counted on the export card. Until then nothing on a page
shows a test item or a figure that counts one."""

import streamlit as st

from cope_eval.app import at_threshold
from cope_eval.store import reveal_test
from pages import _auth, _cached, _common, _compare_data, _state

NUMBERS = {m: st.column_config.NumberColumn(format="%.3f") for m in ("precision", "recall", "f1", "accuracy")}


def _reveal(run_ids: list[str]) -> None:
    who = _auth.current_author()
    store = _common.store()
    for run_id in run_ids:
        _common.attempt(reveal_test, store, run_id, who="" if who is None else who, place="page")
    st.session_state[_state.REVEALED] = sorted(set(st.session_state[_state.REVEALED]) | set(run_ids))


def show(picked, *, threshold: float) -> None:
    """Below Compare's metrics, for the runs ``picked`` (RunInfo) at ``threshold``."""
    private = str(_common.workspace().private_dir)
    sizes = {r.run.id: _compare_data.split_sizes(private, r.run.golden_hash) for r in picked}
    split = [r for r in picked if sizes[r.run.id] is not None]
    if not split:
        return
    hidden = [r.run.id for r in split if r.run.id not in st.session_state[_state.REVEALED]]
    dev, test = sizes[split[0].run.id]
    st.caption(f"Figures on the dev split ({dev:,} items of {dev + test:,}): the test split's {test:,} items stay "
               "hidden so the policy is not tuned on them. Reveal them once you trust a version; each reveal is "
               "recorded and counted on the export card.")
    if hidden:
        st.button("Reveal test metrics", key=_state.REVEAL_TEST, on_click=_reveal, args=(hidden,),
                  icon=":material/visibility:")
        return
    frames = {r.name: _cached.test_results(private, r.run.id, r.version) for r in split}
    view = _common.attempt(at_threshold, frames, threshold=threshold, focus=split[-1].name)
    if view is not None:
        st.subheader("Test split (revealed)")
        st.dataframe(view.metrics, key="compare_test_metrics", column_config=NUMBERS)
