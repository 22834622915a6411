"""The Golden sets page's dev / test split of the chosen version: how it is split, or a button
that draws a seeded, stratified split and stores it as a new version (cope-eval split)."""

import streamlit as st

from cope_eval.app import escape_markdown, split_sizes
from cope_eval.golden import split_golden_set
from cope_eval.records import short_id
from pages import _common, _state


def draw(store, golden_hash: str, items) -> None:
    """The split of ``golden_hash`` (its ``items``), or the controls to make one."""
    sizes = split_sizes(items)
    if sizes is not None:
        st.caption(f"Split: {sizes[0]:,} dev items to iterate on, {sizes[1]:,} test items held out. Pages and "
                   "commands report dev; test figures are shown only when revealed, and each reveal is recorded.")
        return
    with st.expander("Split into dev and test (keeps a held-out test split)"):
        st.caption("Iterating on one set until its numbers look good overfits it. A split keeps a share of the "
                   "items out of every figure until you reveal them. Stratified by label and category, seeded; "
                   "stored as a new version, and relabels keep each item in its split.")
        fraction_col, seed_col, go_col = st.columns([2, 1, 2], vertical_alignment="bottom")
        fraction = fraction_col.number_input("Test share", 0.05, 0.95, step=0.05, key=_state.SPLIT_FRACTION)
        seed = seed_col.number_input("Seed", 0, step=1, key=_state.SPLIT_SEED)
        if go_col.button("Split into a new version", key=_state.SPLIT_SAVE, icon=":material/call_split:"):
            made = _common.attempt(split_golden_set, store, golden_hash, test_fraction=fraction, seed=int(seed))
            if made is not None:
                counts = made.to_dict()["items"]
                note = (f"Split {escape_markdown(made.golden.name)} into {counts['dev']:,} dev and {counts['test']:,} "
                        f"test items: version {short_id(made.golden.hash)}.")
                st.session_state[_state.GOLDEN_PENDING] = (made.golden.hash, note)
                st.rerun()
