"""The Insight page's Clause ablation tab: clauses of a run's policy, a background study, the report."""

from types import SimpleNamespace

import pytest

from cope_eval.insight import create_ablation, execute_study
from cope_eval.records import Endpoint
from cope_eval.store import ItemLookup, Store
from pages import _insight_ablation, _state
from tests.apptest import open_page, table, texts, until
from tests.policy_stub import keyword_rule, policy_following
from tests.stub_server import StubServer
from tests.test_ablation import DECIDES, ITEMS, scored_base

TAB = {_state.INSIGHT_TAB: _insight_ablation.TITLE}
"""Only the open tab is drawn: open this one."""


HOSTILE = "<script>alert(1)</script> doxxing **bold**"


@pytest.fixture
def stub():
    with StubServer(policy_following(keyword_rule)) as server:
        yield server


def base_run(workspace, stub):
    items = [*ITEMS[:2], (HOSTILE, 0), *ITEMS[3:]]
    with Store(workspace.private_dir) as store:
        return scored_base(store, workspace, Endpoint(stub.base_url, "stub"), items=items)


def test_no_completed_run_says_so(workspace, monkeypatch):
    at = open_page("insight", monkeypatch, tabs=TAB)
    assert not at.exception
    assert "score a policy on the Evaluate page, then ablate it here" in texts(at)


def test_a_run_shows_its_clauses_and_needs_its_own_server(workspace, stub, monkeypatch):
    base = base_run(workspace, stub)
    at = open_page("insight", monkeypatch, tabs=TAB)

    assert not at.exception
    clauses = table(at, "clause")
    assert clauses["clause"].tolist() == list(DECIDES) and clauses["section"].tolist()[1] == "Includes"
    assert f"Run {base.id} was scored by 'stub'" in texts(at)
    assert at.button(key=_state.ABLATION_START).disabled
    assert "No ablation of this run yet" in texts(at)


def test_run_an_ablation_in_the_background_and_read_the_report(workspace, stub, monkeypatch):
    base_run(workspace, stub)
    at = open_page("insight", monkeypatch, tabs=TAB, server=SimpleNamespace(base_url=stub.base_url, model="stub", is_local=False))
    at.multiselect(key=_state.ABLATION_CLAUSES).set_value(["includes-2", "includes-3"])
    at.radio(key=_state.ABLATION_ITEMS).set_value("near").run()
    assert "At most 2 × 6 = 12 requests" in texts(at)
    at.button(key=_state.ABLATION_START).click().run()
    assert not at.exception
    asked = []  # the items' texts come from the few a table shows, never the whole set (1M texts on every rerun)
    real_rows = ItemLookup.rows
    monkeypatch.setattr(ItemLookup, "rows", lambda self, ids: asked.append(list(ids)) or real_rows(self, ids))

    at = until(at, lambda at: any("Δ f1" in d.value.columns for d in at.dataframe), timeout_s=60)
    effects = table(at, "Δ f1")
    assert effects["clause"].tolist() == ["includes-2", "includes-3"]
    assert effects["fixed"].tolist() == [0, 1] and effects["broken"].tolist() == [1, 0]
    assert [o.split(" · ")[0] for o in at.selectbox(key=_state.ABLATION_CLAUSE).options] == ["includes-2", "includes-3"]
    at.selectbox(key=_state.ABLATION_CLAUSE).set_value("includes-3").run()
    assert not at.exception
    decided = table(at, "delta_p")
    assert decided["text"].tolist() == [HOSTILE], "golden text is data in a grid, never Markdown"
    assert asked and asked[-1] == decided["item_id"].tolist()
    assert decided["outcome"].tolist() == ["fixed"]
    assert not any(HOSTILE in str(m.value) for m in at.markdown)


def test_a_completed_near_threshold_study_shows_its_assumption(workspace, stub, monkeypatch):
    base = base_run(workspace, stub)
    with Store(workspace.private_dir) as store:
        study = create_ablation(store, base, items="near", limit=2)
        execute_study(store, study.id, Endpoint(stub.base_url, "stub"), workspace_root=workspace.root)
    at = open_page("insight", monkeypatch, tabs=TAB)

    assert not at.exception
    assert at.selectbox(key=_state.ABLATION_STUDY).value == study.id
    assert len(table(at, "Δ f1")) == len(DECIDES)
    assert "Only the 2 of 6 items nearest the threshold were rescored" in texts(at)


def test_a_stopped_study_offers_resume_on_its_own_server(workspace, stub, monkeypatch):
    base = base_run(workspace, stub)
    with Store(workspace.private_dir) as store:
        study = create_ablation(store, base, clause_ids=["includes-1"])
    at = open_page("insight", monkeypatch, tabs=TAB, server=SimpleNamespace(base_url=stub.base_url, model="stub", is_local=False))
    assert "pending · 0 / 6 scores" in "\n".join(p.proto.text for p in at.get("progress"))
    at.button(key=_state.ABLATION_RESUME).click().run()
    at = until(at, lambda at: any("Δ f1" in d.value.columns for d in at.dataframe), timeout_s=60)
    assert at.selectbox(key=_state.ABLATION_STUDY).value == study.id
