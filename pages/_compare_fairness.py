"""Compare's Fairness tab: error rates per group of a metadata column for each picked run, the
gaps between groups with intervals, and for two runs whether B narrowed or widened each gap, at
the page's threshold (``cope-eval fairness`` prints the same)."""

import streamlit as st

from cope_eval.app import fairness_view, group_columns, group_table, page_of
from pages import _cached, _common, _state

NUMBERS = {c: st.column_config.NumberColumn(format="%.3f") for c in ("estimate", "low", "high", "A", "B", "B - A")}


@st.cache_data(show_spinner="Rating the groups…", max_entries=8)
def _view(private_dir: str, run_ids: tuple[str, ...], versions: tuple[int, ...], names: tuple[str, ...],
          by: tuple[str, ...], cut: float | None, threshold: float, min_items: int):
    frames = {n: _cached.scores(private_dir, r, v) for n, r, v in zip(names, run_ids, versions)}
    return fairness_view(frames, by=by, cut=cut, threshold=threshold, min_items=min_items)


def show(picked, *, threshold: float) -> None:
    """The tab for the runs ``picked`` (RunInfo, A first) at ``threshold``."""
    private = str(_common.workspace().private_dir)
    columns = group_columns(_cached.scores(private, picked[0].run.id, picked[0].version))
    if not columns:
        st.info("This golden set has no metadata columns to group items by. Every extra column of an uploaded "
                "file is kept as one (a language, a region, a targeted group), so upload a file that has them.")
        return
    st.session_state[_state.FAIRNESS_BY] = [c for c in st.session_state.get(_state.FAIRNESS_BY) or [] if c in columns]
    by = st.multiselect("Group items by", columns, key=_state.FAIRNESS_BY,
                        help="One column: each value is a group. Several columns: tick the cut below.")
    cut_col, value_col, few_col = st.columns([2, 1, 1], vertical_alignment="bottom")
    use_cut = cut_col.checkbox("Each column is a group: the items whose value is at least the cut",
                               key=_state.FAIRNESS_USE_CUT)
    cut = value_col.number_input("Cut", step=0.1, key=_state.FAIRNESS_CUT, disabled=not use_cut)
    min_items = few_col.number_input("Fewest items a group needs", 1, step=10, key=_state.FAIRNESS_MIN_ITEMS,
                                     help="Groups with fewer scored items are shown but never ranked.")
    if not by:
        st.info("Pick a metadata column to see each group's precision, recall, false positive and false negative "
                "rates and flag rate, and the gaps between groups.")
        return
    view = _common.attempt(_view, private, tuple(r.run.id for r in picked), tuple(r.version for r in picked),
                           tuple(r.name for r in picked), tuple(by), cut if use_cut else None, threshold,
                           int(min_items))
    if view is None:
        return
    if view.comparison is not None:
        st.subheader("Did B narrow or widen the gaps?")
        st.dataframe(view.comparison, hide_index=True, key="fairness_comparison", column_config=NUMBERS)
        st.caption("B - A on the items both runs scored, in A's groups; paired bootstrap, 95% interval. "
                   "A gap narrowed when it fell, the flag-rate ratio when it rose towards 1.")
    st.subheader("Gaps between groups")
    st.dataframe(view.disparities, hide_index=True, key="fairness_disparities", column_config=NUMBERS)
    st.caption("FPR and FNR gaps: highest minus lowest group rate; flag-rate ratio: lowest over highest. "
               "Intervals are simultaneous over the groups (95%): a gap whose interval includes none is noise.")
    _state.keep_valid(_state.FAIRNESS_RUN, list(view.rates))
    run_col, page_col = st.columns([3, 1])
    name = run_col.selectbox("Groups of", list(view.rates), key=_state.FAIRNESS_RUN)
    rows, pages = page_of(group_table(view.rates[name]), st.session_state[_state.FAIRNESS_PAGE], 100)
    st.session_state[_state.FAIRNESS_PAGE] = min(st.session_state[_state.FAIRNESS_PAGE], pages)
    page_col.number_input(f"Page (of {pages:,})", 1, pages, key=_state.FAIRNESS_PAGE)
    rates = view.rates[name]
    st.dataframe(rows, hide_index=True, key="fairness_groups")
    st.caption(f"{len(rates.rows):,} groups, {int(rates.rows['too_few'].sum()):,} with too few items "
               f"(under {rates.min_items}); {rates.errors:,} errored items left out; rates with 95% Wilson intervals; "
               "n/a: no flagged, gold-1 or gold-0 item in the group.")
