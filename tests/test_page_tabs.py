"""Tabs that draw only the open one (``pages/_tabs.py``) on Insight and Compare: the hidden tabs
cost nothing, and what an analyst typed in a tab is still there after a switch. (The tab left
open is open again after another page: test_browser_insight, since only a click makes a tab's
state the widget's own, which Streamlit drops on a page switch.)"""

import pytest

from cope_eval.store import Store
from pages import _insight_probes, _insight_suggest, _insight_triage, _state
from tests.apptest import open_page
from tests.factories import make_golden
from tests.test_triage import SCORES, scored_run


@pytest.fixture
def two_runs(workspace):
    golden = make_golden(9)
    with Store(workspace.private_dir) as store:
        return scored_run(store, golden, SCORES), scored_run(store, golden, [None if s is None else s ** 0.5 for s in SCORES])


def test_insight_draws_the_first_tab_only(two_runs, monkeypatch):
    at = open_page("insight", monkeypatch)

    assert not at.exception
    assert at.session_state[_state.INSIGHT_TAB] == _insight_probes.TITLE
    assert at.selectbox(key=_state.PROBES_RUN).value is not None, "the open tab is drawn"
    for hidden in (_state.TRIAGE_RUN, _state.SUGGEST_RUN, _state.ABLATION_RUN, _state.ATTRIBUTION_RUN_B,
                   _state.AGREEMENT_GROUP):
        with pytest.raises(KeyError):
            at.selectbox(key=hidden)


def test_compare_draws_one_chart_and_one_lower_tab(two_runs, monkeypatch):
    a, b = two_runs
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()

    assert not at.exception
    charts = [e.proto.id for e in at.get("plotly_chart")]
    assert len(charts) == 1, "metrics by threshold: not PR, ROC, calibration or the confusion matrix"
    with pytest.raises(KeyError):
        at.multiselect(key=_state.FAIRNESS_BY)
    at.session_state[_state.COMPARE_DETAIL] = "Fairness"
    at.run()
    assert at.multiselect(key=_state.FAIRNESS_BY) is not None
    with pytest.raises(KeyError):
        at.radio(key=_state.FLIPS_OUTCOME)


def test_typed_text_outlives_a_tab_switch_and_a_page_switch(two_runs, monkeypatch):
    at = open_page("insight", monkeypatch, tabs={_state.INSIGHT_TAB: _insight_triage.TITLE})
    at.text_input(key=_state.TRIAGE_NOTE).input("the gold label misses sarcasm").run()
    at.session_state[_state.INSIGHT_TAB] = _insight_suggest.TITLE
    at.run()
    at.toggle(key=_state.SUGGEST_OTHER).set_value(True).run()
    at.text_input(key=_state.SUGGEST_URL).input("http://chat.example:8000/v1").run()

    at.session_state[_state.INSIGHT_TAB] = _insight_triage.TITLE
    at.run()
    assert at.text_input(key=_state.TRIAGE_NOTE).value == "the gold label misses sarcasm"
    at.switch_page("pages/policies.py").run()
    at.switch_page("pages/insight.py").run()
    at.session_state[_state.INSIGHT_TAB] = _insight_suggest.TITLE
    at.run()

    assert not at.exception
    assert at.toggle(key=_state.SUGGEST_OTHER).value is True
    assert at.text_input(key=_state.SUGGEST_URL).value == "http://chat.example:8000/v1"
