"""The Model card table page's table: the card's layout per area and side, the runs behind it, and
its CSV and Markdown downloads."""

import streamlit as st

from cope_eval.app import area_size, escape_markdown, figures_frame, no_set_areas, runs_frame, suite_table
from cope_eval.export import card_table_csv, card_table_markdown
from cope_eval.insight import SuiteRun
from pages import _cached, _common, _state


@st.cache_data(show_spinner=False, max_entries=32)
def sizes(root: str, paths: tuple[tuple[str, str], ...]) -> dict[str, int]:
    """Each area's item count (for the cost note); keyed by the files, which the page does not change."""
    return {area: area_size(path, root) for area, path in paths}


@st.cache_data(show_spinner=False, max_entries=8)
def _table(private_dir: str, runs: tuple[tuple[str, str, str | None], ...], threshold: float | None,
           versions: tuple[int, ...]):
    """The card's table of finished runs, keyed by their predictions ``versions`` (a finished run's
    errors can be sent again)."""
    return suite_table(_common.store_at(private_dir), [SuiteRun(*r) for r in runs], threshold=threshold)


def draw(ws, runs, threshold: float | None, descriptions: dict[str, str]) -> None:
    st.subheader("The card's table")
    key = tuple((m.side, m.area, m.run_id) for m in runs)
    versions = _cached.run_versions(_common.store(), [m.run_id for m in runs if m.run_id is not None])
    table = _common.attempt(_table, str(ws.private_dir), key, threshold, versions)
    if table is None:
        return
    for side, text in descriptions.items():
        st.caption(escape_markdown(f"{side}: {text}"))
    st.dataframe(figures_frame(table), hide_index=True, key="suite_figures")
    counts = ", ".join(f"{s}: {int(table.mean.loc[s, 'areas_in_mean'])}" for s in table.sides)
    st.caption(f"The last row is the unweighted mean over the areas with figures (areas in it, {counts}): every area "
               f"weighs the same whatever its size. {table.confidence:.0%} bootstrap intervals, "
               f"{table.n_resamples:,} resamples; the mean's resamples each area on its own. "
               + ("Each run's own threshold." if threshold is None else f"Threshold {threshold:g} for every run."))
    missing = no_set_areas(table)
    if missing:
        st.info(escape_markdown(f"No sample golden set, so no figures: {', '.join(missing)}. Give your own set "
                                "for an area under Own golden sets."))
    st.dataframe(runs_frame(table), hide_index=True, key="suite_runs_table")
    csv_col, md_col = st.columns(2)
    csv_col.download_button("Download the table (.csv)", card_table_csv(table), file_name="model-card-table.csv",
                            mime="text/csv", key=_state.SUITE_CSV, icon=":material/download:")
    md_col.download_button("Download the table (.md)", card_table_markdown(table, descriptions=descriptions),
                           file_name="model-card-table.md", mime="text/markdown", key=_state.SUITE_MARKDOWN,
                           icon=":material/download:")
