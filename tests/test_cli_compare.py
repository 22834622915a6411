"""`python -m cope_eval compare`: deltas, flips, refusing different golden sets unless asked."""

import json

import pytest

from cope_eval.cli import main
from cope_eval.golden import correct_label
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import Reply, StubServer, chat_reply, instant


def by_policy(path, body):
    """Policy 'strict' says 1 to everything; 'lenient' says 1 only to even-numbered posts."""
    if "chat" not in path:
        return instant(path, body)
    request = json.loads(body)["messages"][0]["content"]
    says_one = "strict" in request or any(f"post number {i}\u0000" in request + "\u0000" for i in range(0, 20, 2))
    return Reply(body=chat_reply("1" if says_one else "0", {"1": -0.05, "0": -3.0} if says_one else {"0": -0.05, "1": -3.0}))


@pytest.fixture
def two_runs(workspace):
    return score_two_policies(workspace)


def score_two_policies(workspace):
    """(golden set, [run ids]): 'strict' says 1 to all 20 items; 'lenient' says 0 (P("1") = e^-3)
    to the odd ones."""
    golden = make_golden(20)
    with StubServer(by_policy) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        ids = []
        for text in ("strict policy", "lenient policy"):
            run = create_run(store, policy=make_policy(text), golden=golden, endpoint=endpoint)
            execute_run(store, run.id, endpoint, workspace_root=workspace.root)
            ids.append(run.id)
    return golden, ids


def test_compare_prints_deltas_and_flips(two_runs, capsys):
    _, (a, b) = two_runs
    assert main(["compare", a, b, "--flips", "3"]) == 0
    out = capsys.readouterr().out
    # Gold label is 1 for odd items: strict gets all 10 positives and 10 false positives; lenient
    # flags only the even (gold 0) items: it fixes nothing... and breaks every positive.
    assert "both runs cover the same 20 items" in out
    assert "fixed 0, broken 10, both wrong 10, both right 0" in out
    assert out.count(" broken ") + out.count("both_wrong") >= 3


def test_compare_json_has_the_paired_statistics(two_runs, capsys):
    _, (a, b) = two_runs
    main(["compare", a, b, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["broken"] == 10 and data["mcnemar"]["only_a_right"] == 10
    assert data["deltas"]["recall"]["estimate"] == pytest.approx(-1.0)


def test_runs_on_different_golden_versions_are_not_compared_silently(two_runs, workspace, capsys):
    golden, (a, _) = two_runs
    with StubServer(by_policy) as server, Store(workspace.private_dir) as store:
        relabeled = correct_label(store, golden.hash, "item-00001", 0, author="t", reason="test")
        endpoint = Endpoint(server.base_url, "stub")
        c = create_run(store, policy=make_policy("lenient policy"), golden=relabeled, endpoint=endpoint)
        execute_run(store, c.id, endpoint, workspace_root=workspace.root)
    assert main(["compare", a, c.id]) == 2
    assert "different golden sets" in capsys.readouterr().err
    assert main(["compare", a, c.id, "--intersect"]) == 0
    assert "19 items match" in capsys.readouterr().out
