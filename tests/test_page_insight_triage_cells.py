"""The error-triage table shows an empty cell (no tag yet, no category) blank, never "None"."""

import pytest

from cope_eval.store import Store
from pages import _insight_triage, _state
from tests.apptest import open_page, table
from tests.factories import make_golden
from tests.test_triage import SCORES, scored_run

TAB = {_state.INSIGHT_TAB: _insight_triage.TITLE}
"""Only the open tab is drawn: open this one."""


@pytest.fixture
def run(workspace):
    golden = make_golden(9, categories=[None] * 9)
    with Store(workspace.private_dir) as store:
        return scored_run(store, golden, SCORES)


def test_untagged_items_and_missing_categories_show_blank_cells(run, monkeypatch):
    at = open_page("insight", monkeypatch, tabs=TAB)

    assert not at.exception
    items = table(at, "confidence")
    assert items["tag"].isna().all() and items["category"].isna().all(), "the cells this test is about are empty"
    [grid] = [d for d in at.dataframe if "confidence" in d.value.columns]
    assert grid.proto.HasField("placeholder") and grid.proto.placeholder == "", \
        "Streamlit writes None in an empty cell unless given a placeholder"
