"""The Insight page's Agreement tab: runs grouped by policy version and golden set, the kappa
matrix and tables, and the disputed items with their text."""

import pytest

from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _insight_agreement, _state
from tests.apptest import open_page, table, texts
from tests.factories import make_golden, make_policy

TAB = {_state.INSIGHT_TAB: _insight_agreement.TITLE}
"""Only the open tab is drawn: open this one."""


HOSTILE = "<img src=x onerror=alert(1)> **bold**"


def stored_run(store, golden, scores, *, model, policy="# Criteria\n- Threats.\n"):
    endpoint = Endpoint("http://127.0.0.1:9/v1", model)
    run = create_run(store, policy=make_policy(policy), golden=golden, endpoint=endpoint)
    store.add_predictions(run.id, [(i, float(s), None, "", None, 1.0, 0) for i, s in zip(golden.items["id"], scores)])
    store.mark_run(run.id, "completed")
    return run


@pytest.fixture
def runs(workspace):
    golden = make_golden(texts=["calm", HOSTILE, "quiet", "threat", "walk", "hello"])
    with Store(workspace.private_dir) as store:
        a = stored_run(store, golden, [0.1, 0.9, 0.2, 0.8, 0.3, 0.7], model="model-a")
        b = stored_run(store, golden, [0.2, 0.3, 0.1, 0.9, 0.6, 0.8], model="model-b")
        c = stored_run(store, golden, [0.1, 0.9, 0.1, 0.9, 0.1, 0.9], model="<i>model-c</i>")  # names come from servers
        stored_run(store, golden, [0.5] * 6, model="model-a", policy="# Criteria\n- Other.\n")  # a group of one
    return a, b, c


def test_no_comparable_runs_says_what_is_needed(workspace, monkeypatch):
    at = open_page("insight", monkeypatch, tabs=TAB)
    assert not at.exception
    assert "two or more completed runs of the same policy version on the same golden set" in texts(at)


def test_kappa_tables_and_disputed_items(runs, monkeypatch):
    a, b, c = runs
    at = open_page("insight", monkeypatch, tabs=TAB)

    assert not at.exception
    assert len(at.selectbox(key=_state.AGREEMENT_GROUP).options) == 1, "only versions with two runs or more"
    assert set(at.multiselect(key=_state.AGREEMENT_RUNS).value) == {a.id, b.id, c.id}
    pairs = table(at, "run B")
    assert len(pairs) == 3 and pairs["items"].tolist() == [6, 6, 6]
    assert table(at, "kappa vs gold")["left out"].tolist() == [0, 0, 0]
    disputed = table(at, "dispute")
    assert disputed["item_id"].tolist() == ["item-00001", "item-00004"] and HOSTILE in disputed["text"].tolist()
    [chart] = at.get("plotly_chart")
    assert "Cohen" in chart.proto.spec and "<i>" not in chart.proto.spec and "&lt;i&gt;model-c" in chart.proto.spec


def test_one_run_picked_asks_for_another(runs, monkeypatch):
    a, _, _ = runs
    at = open_page("insight", monkeypatch, tabs=TAB)
    at.multiselect(key=_state.AGREEMENT_RUNS).set_value([a.id]).run()
    assert not at.exception
    assert "Pick two runs or more." in texts(at)


def test_the_report_is_computed_once_until_a_runs_predictions_change(workspace, monkeypatch):
    from pages import _cached

    golden = make_golden(texts=["calm", "threat", "quiet", "walk"])
    with Store(workspace.private_dir) as store:
        stored_run(store, golden, [0.1, 0.9, 0.2, 0.3], model="model-a")
        b = create_run(store, policy=make_policy("# Criteria\n- Threats.\n"), golden=golden,
                       endpoint=Endpoint("http://127.0.0.1:9/v1", "model-b"))
        store.add_predictions(b.id, [(i, 0.8, None, "", None, 1.0, 0) for i in golden.items["id"][:3]]
                              + [("item-00003", None, None, "", "HTTP 500", 1.0, 0)])
        store.mark_run(b.id, "completed")
    calls = []
    real = _cached.run_agreement
    monkeypatch.setattr(_cached, "run_agreement", lambda store, ids: calls.append(list(ids)) or real(store, ids))
    at = open_page("insight", monkeypatch, tabs=TAB)
    at.run()
    at.run()
    assert not at.exception and len(calls) == 1, "a redraw reads no run again"
    assert table(at, "dispute")["item_id"].tolist() == ["item-00000", "item-00002"]

    with Store(workspace.private_dir) as store:  # B's error sent again: the same count, a new answer
        store.delete_errors(b.id)
        store.add_predictions(b.id, [("item-00003", 0.9, None, "", None, 1.0, 0)])
    at.run()

    assert len(calls) == 2
    assert table(at, "dispute")["item_id"].tolist() == ["item-00000", "item-00002", "item-00003"]
