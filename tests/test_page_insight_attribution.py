"""The Insight page's Change attribution tab: two runs of one policy, the hunks, a background study, the report."""

from types import SimpleNamespace

import pytest

from cope_eval.insight import create_attribution, execute_study
from cope_eval.records import Endpoint
from cope_eval.store import Store
from pages import _insight_attribution, _state
from tests.apptest import open_page, table, texts, until
from tests.policy_stub import keyword_rule, policy_following
from tests.stub_server import StubServer
from tests.test_ablation import scored_base
from tests.test_attribution import MOVES, two_runs

TAB = {_state.INSIGHT_TAB: _insight_attribution.TITLE}
"""Only the open tab is drawn: open this one."""


@pytest.fixture
def stub():
    with StubServer(policy_following(keyword_rule)) as server:
        yield server


@pytest.fixture
def runs(workspace, stub):
    with Store(workspace.private_dir) as store:
        return two_runs(store, workspace, Endpoint(stub.base_url, "stub"))


def session_server(stub):
    return SimpleNamespace(base_url=stub.base_url, model="stub", is_local=False)


def test_no_completed_run_says_so(workspace, monkeypatch):
    at = open_page("insight", monkeypatch, tabs=TAB)
    assert not at.exception
    assert "score two versions of a policy on the Evaluate page" in texts(at)


def test_a_run_without_another_version_says_what_is_missing(workspace, stub, monkeypatch):
    with Store(workspace.private_dir) as store:
        scored_base(store, workspace, Endpoint(stub.base_url, "stub"))
    at = open_page("insight", monkeypatch, tabs=TAB)
    assert not at.exception
    assert "No completed run of another version of this policy" in texts(at)


def test_the_pair_shows_its_hunks_and_needs_b_s_server(workspace, stub, runs, monkeypatch):
    a, b = runs
    at = open_page("insight", monkeypatch, tabs=TAB)

    assert not at.exception
    chosen = (at.selectbox(key=_state.ATTRIBUTION_RUN_B).value, at.selectbox(key=_state.ATTRIBUTION_RUN_A).value)
    assert chosen == (b.id, a.id), "B defaults to the run of the newer version"
    hunks = table(at, "hunk")
    assert hunks["hunk"].tolist() == ["hunk-1", "hunk-2", "hunk-3"]
    assert hunks["old (A)"].tolist()[0] == "- Insults about someone." and hunks["new (B)"].tolist()[2] == ""
    assert at.button(key=_state.ATTRIBUTION_START).disabled
    assert "No attribution of this pair yet" in texts(at)


def test_run_an_attribution_and_read_each_hunk_s_items(workspace, stub, runs, monkeypatch):
    at = open_page("insight", monkeypatch, tabs=TAB, server=session_server(stub))
    at.button(key=_state.ATTRIBUTION_START).click().run()
    assert not at.exception

    at = until(at, lambda at: any("explained" in d.value.columns for d in at.dataframe), timeout_s=60)
    top = table(at, "score_reverted")
    assert top["item_id"].tolist()[:2] == list(MOVES["hunk-1"])
    assert top["text"].tolist()[:2] == ["insults everywhere", "doxxing my neighbour"]
    assert "-- Insults about someone.\n+- Doxxing addresses." in [c.value for c in at.code]
    at.selectbox(key=_state.ATTRIBUTION_HUNK).set_value("hunk-2").run()
    assert set(table(at, "score_reverted")["item_id"].tolist()[:2]) == set(MOVES["hunk-2"])
    explained = table(at, "explained")
    assert {"hunk-1", "hunk-2", "hunk-3", "residual", "share"} <= set(explained.columns)
    assert "need not add up" in texts(at)


def test_a_completed_study_shows_without_a_server(workspace, stub, runs, monkeypatch):
    a, b = runs
    with Store(workspace.private_dir) as store:
        study = create_attribution(store, a, b, items="moved", limit=2)
        execute_study(store, study.id, Endpoint(stub.base_url, "stub"), workspace_root=workspace.root)
    at = open_page("insight", monkeypatch, tabs=TAB)

    assert not at.exception
    assert at.selectbox(key=_state.ATTRIBUTION_STUDY).value == study.id
    assert len(table(at, "explained")) == 2
    assert "Only 2 of the 6 items run B scored were rescored (moved)" in texts(at)
