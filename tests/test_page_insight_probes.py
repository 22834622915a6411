"""The Insight page's Steerability probes tab: no runs, a base run (and its own server), a probe
started from the tab, and the report of a completed probe."""

from types import SimpleNamespace

import pytest

from cope_eval.insight import create_probe_study, execute_study
from cope_eval.insight._probe_policies import OFF_TOPIC_POLICY
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store
from pages import _insight_probes, _state
from tests.apptest import messages, open_page, table, texts, until
from tests.factories import make_golden, make_policy
from tests.label_reader import ignores_policy, label_reader
from tests.policy_stub import policy_following
from tests.stub_server import StubServer
from tests.test_probes import POLICY
from tests.test_probes import texts as item_texts

TAB = {_state.INSIGHT_TAB: _insight_probes.TITLE}
"""Only the open tab is drawn: open this one."""


HOSTILE = "threats <script>alert(1)</script> **bold** [link](javascript:alert(2))"


@pytest.fixture
def stub():
    with StubServer(policy_following(label_reader)) as server:
        yield server


def base_run(workspace, server, n=12):
    endpoint = Endpoint(server.base_url, "stub")
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=make_policy(POLICY), golden=make_golden(texts=[HOSTILE] + item_texts(n - 1)),
                         endpoint=endpoint)
        execute_run(store, run.id, endpoint, workspace_root=workspace.root)
    return run, endpoint


def own_server(stub):
    return SimpleNamespace(base_url=stub.base_url, model="stub", is_local=False)


def test_no_completed_run_says_so(workspace, monkeypatch):
    at = open_page("insight", monkeypatch, tabs=TAB)
    assert not at.exception
    assert "score a policy on the Evaluate page, then probe it here" in texts(at)


def test_a_base_run_needs_its_own_server_to_be_probed(workspace, stub, monkeypatch):
    run, _ = base_run(workspace, stub)
    at = open_page("insight", monkeypatch, tabs=TAB)

    assert not at.exception
    assert at.selectbox(key=_state.PROBES_RUN).value == run.id
    assert any(f"Run {run.id} was scored by 'stub'" in m for m in messages(at, "warning"))
    assert at.button(key=_state.PROBES_START).disabled
    assert "No probe of this run yet" in texts(at)
    assert "At most 2 × 12 = 24 requests" in texts(at), "a sample of 100 is cut to the 12 scored items"


def test_run_probes_from_the_tab_and_read_the_report(workspace, stub, monkeypatch):
    base_run(workspace, stub, n=40)
    at = open_page("insight", monkeypatch, tabs=TAB, server=own_server(stub))
    at.radio(key=_state.PROBES_ITEMS).set_value("all").run()
    assert not at.button(key=_state.PROBES_START).disabled
    before = len(stub.requests)
    at.button(key=_state.PROBES_START).click().run()
    assert not at.exception

    at = until(at, lambda at: "The model follows the policy on these items." in texts(at), timeout_s=60)
    assert sum(path.endswith("/chat/completions") for path, _, _ in stub.requests[before:]) == 80
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Flip rate"], metrics["Off-topic flags"], metrics["Errors"]) == ("100%", "0%", "0")
    assert "Flip rate below 50%" in texts(at), "the limits are explained"
    assert OFF_TOPIC_POLICY.strip() in [c.value.strip() for c in at.code], "the texts that were scored are shown"
    assert table(at, "inverted_score").empty, "a policy-following model leaves no item unflipped"
    at.radio(key=_state.PROBES_SHOW).set_value("flipped").run()
    rows = table(at, "inverted_score")
    assert len(rows) == 40 and HOSTILE in rows["text"].tolist()


def test_a_completed_probe_of_a_model_that_ignores_the_policy_shows_the_warnings(workspace, monkeypatch):
    with StubServer(policy_following(ignores_policy)) as server:
        run, endpoint = base_run(workspace, server, n=20)
        with Store(workspace.private_dir) as store:
            study = create_probe_study(store, run.id)
            execute_study(store, study.id, endpoint, workspace_root=workspace.root)
    at = open_page("insight", monkeypatch, tabs=TAB)

    assert not at.exception
    assert at.selectbox(key=_state.PROBES_STUDY).value == study.id
    warnings = " ".join(messages(at, "warning"))
    assert "barely reacts to inverting the policy" in warnings and "unrelated policy" in warnings
    assert {m.label: m.value for m in at.metric}["Flip rate"] == "0%"
    unflipped = table(at, "inverted_score")
    assert len(unflipped) == 20 and HOSTILE in unflipped["text"].tolist()
    assert "<script>" not in "".join(str(m.value) for m in at.markdown), "golden text never reaches Markdown"


def test_a_completed_probes_report_is_read_again_after_a_resend_of_a_variants_errors(workspace, monkeypatch):
    with StubServer(policy_following(label_reader)) as server:
        run, _ = base_run(workspace, server, n=12)
    with Store(workspace.private_dir) as store:
        study = create_probe_study(store, run.id)
        for member in study.runs:  # answered by hand: the inverted variant's first item failed
            variant = store.run(member.run_id)
            ids = store.golden_set(variant.golden_hash).items["id"].tolist()
            failed = ids[0] if member.role == "inverted" else None
            store.add_predictions(variant.id, [(i, None, None, "", "HTTP 500", 1.0, 0) if i == failed else
                                               (i, 0.5, None, "", None, 1.0, 0) for i in ids])
            store.mark_run(variant.id, "completed")
    at = open_page("insight", monkeypatch, tabs=TAB)
    assert not at.exception and {m.label: m.value for m in at.metric}["Errors"] == "1"

    with Store(workspace.private_dir) as store:  # the error sent again and answered: the study stays completed
        inverted = next(m.run_id for m in study.runs if m.role == "inverted")
        [failed] = store.prediction_errors(inverted)["item_id"].tolist()
        assert store.delete_errors(inverted) == 1
        store.add_predictions(inverted, [(failed, 0.5, None, "", None, 1.0, 0)])
    at.run()

    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Errors"] == "0"
