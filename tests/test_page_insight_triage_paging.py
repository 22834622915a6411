"""The Error triage tab pages through a run's disagreements: at most 50 rows at a time, with
"rows x–y of N", and the item picker offers the shown page only (a 1M-item run disagreed 250,232
times, all sent to the browser as one table)."""

import pytest

from cope_eval.store import Store
from pages import _insight_triage, _state
from tests.apptest import open_page, table, texts
from tests.factories import make_golden
from tests.test_triage import scored_run

TAB = {_state.INSIGHT_TAB: _insight_triage.TITLE}
"""Only the open tab is drawn: open this one."""


N = 120
# make_golden's gold labels are i % 2; every item disagrees, item i with confidence 0.90005 + i / 10_000,
# so the table lists item 119 first and item 0 last, and items 100 to 119 are at least 0.91 sure.
SCORES = [0.90005 + i / 10_000 if i % 2 == 0 else 0.09995 - i / 10_000 for i in range(N)]


def _ids(numbers):
    return [f"item-{i:05d}" for i in numbers]


@pytest.fixture
def at(workspace, monkeypatch):
    with Store(workspace.private_dir) as store:
        scored_run(store, make_golden(N), SCORES)
    at = open_page("insight", monkeypatch, tabs=TAB)
    assert not at.exception, at.exception
    return at


def _shown(at):
    return table(at, "confidence")["item_id"].tolist()


def _picker(at):
    return at.selectbox(key=_state.TRIAGE_ITEM).options


def test_the_first_page_shows_50_rows_and_the_totals(at):
    assert _shown(at) == _ids(range(119, 69, -1))
    assert "rows 1–50 of 120" in texts(at)
    assert f"{N} disagreement(s) (60 FP, 60 FN)" in texts(at)
    assert at.number_input(key=_state.TRIAGE_PAGE).label == "Page (of 3)"
    assert len(_picker(at)) == 50, "the item picker offers the shown page, not every disagreement"


def test_page_2_shows_the_next_rows_and_the_last_page_the_remainder(at):
    at.number_input(key=_state.TRIAGE_PAGE).set_value(2).run()
    assert not at.exception
    assert _shown(at) == _ids(range(69, 19, -1))
    assert "rows 51–100 of 120" in texts(at)

    at.number_input(key=_state.TRIAGE_PAGE).set_value(3).run()
    assert not at.exception
    assert _shown(at) == _ids(range(19, -1, -1))
    assert "rows 101–120 of 120" in texts(at)
    assert len(_picker(at)) == 20


def test_a_shorter_list_comes_back_to_its_one_page(at):
    at.number_input(key=_state.TRIAGE_PAGE).set_value(3).run()
    at.slider(key=_state.TRIAGE_MIN_CONFIDENCE).set_value(0.91).run()
    assert not at.exception
    assert _shown(at) == _ids(range(119, 99, -1))
    assert "rows " not in texts(at), "one page: no page input, no row span"
