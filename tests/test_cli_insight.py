"""`python -m cope_eval probe` and `agreement`: reports in the terminal and as JSON, exit codes,
which key goes where, and golden text that cannot drive the terminal."""

import json

import pytest

from cope_eval.cli import main
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.label_reader import ignores_policy, label_reader
from tests.policy_stub import parse_prompt, policy_following
from tests.stub_server import Reply, StubServer, chat_reply
from tests.test_probes import POLICY, texts

HOSTILE = "threats \x1b[2J\x1b]0;pwned\x07 and \r carriage"


def scored_run(workspace, server, golden, **options):
    endpoint = Endpoint(server.base_url, "stub")
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=make_policy(POLICY), golden=golden, endpoint=endpoint, **options)
        execute_run(store, run.id, endpoint, workspace_root=workspace.root)
    return run.id


def test_probe_of_a_policy_following_model_passes(workspace, capsys):
    with StubServer(policy_following(label_reader)) as server:
        run_id = scored_run(workspace, server, make_golden(texts=texts(40)))
        assert main(["probe", run_id]) == 0
    out = capsys.readouterr().out
    assert "no warnings: the model follows the policy" in out
    assert "flip rate         100.0%  (40 of 40" in out and "off-topic flags     0.0%  (0 of 40" in out
    assert "Flip rate below 50%" in out, "the limits are explained"


def test_probe_of_a_model_that_ignores_the_policy_fails_and_lists_items_safely(workspace, capsys):
    with StubServer(policy_following(ignores_policy)) as server:
        run_id = scored_run(workspace, server, make_golden(texts=[HOSTILE] + texts(9)))
        assert main(["probe", run_id, "--show", "3"]) == 1
    out = capsys.readouterr().out
    assert "barely reacts to inverting the policy" in out and "not flipped (10):" in out
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out
    assert "threats  [2J ]0;pwned  and   carriage" in out


def test_probe_json_and_item_selection(workspace, capsys):
    with StubServer(policy_following(label_reader)) as server:
        run_id = scored_run(workspace, server, make_golden(texts=texts(20)))
        assert main(["probe", run_id, "--items", "sample", "--limit", "4", "--seed", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 4 and report["flip_rate"]["count"] == 4
    assert report["errors"] == {"inverted": 0, "off-topic": 0}
    assert [w["code"] for w in report["warnings"]] == ["uncertain"], "4 items cannot show the off-topic rate is low"


def test_probe_exits_0_when_only_the_sample_is_small(workspace, capsys):
    with StubServer(policy_following(label_reader)) as server:
        run_id = scored_run(workspace, server, make_golden(texts=texts(6)))
        assert main(["probe", run_id]) == 0
    assert "Probe more items" in capsys.readouterr().out


def test_probe_with_failed_items_counts_them_and_fails(workspace, capsys):
    reader = policy_following(label_reader)

    def off_topic_fails_on_walks(path, body):
        if path.endswith("/chat/completions") and "Chess Notation" in parse_prompt(body)[0] \
                and "walk" in parse_prompt(body)[1]:
            return Reply(body=chat_reply("The", {"The": -0.1}))
        return reader(path, body)

    with StubServer(reader) as server:
        run_id = scored_run(workspace, server, make_golden(texts=texts(10)))
        server.behaviour = off_topic_fails_on_walks
        assert main(["probe", run_id]) == 1
    out = capsys.readouterr().out
    assert "errors            inverted 0, off-topic 2" in out and "off-topic flags     0.0%  (0 of 8" in out
    assert "2 of 10 items failed under the off-topic policy (chess notation)" in out


@pytest.mark.parametrize("configured, sent", [("same", "Bearer sk-probe"), ("other", None)])
def test_the_configured_key_goes_only_to_its_own_server(workspace, monkeypatch, configured, sent):
    with StubServer(policy_following(label_reader)) as server:
        run_id = scored_run(workspace, server, make_golden(texts=texts(3)))
        before = len(server.requests)
        monkeypatch.setenv("COPE_BASE_URL", server.base_url if configured == "same" else "http://127.0.0.1:9/v1")
        monkeypatch.setenv("COPE_API_KEY", "sk-probe")
        main(["probe", run_id, "--json"])
        headers = [h.get("authorization") for _, h, _ in server.requests[before:]]
    assert headers and set(headers) == {sent}


def test_probe_with_a_named_key_variable_that_is_not_set_is_an_error(workspace, capsys):
    with StubServer(policy_following(label_reader)) as server:
        run_id = scored_run(workspace, server, make_golden(texts=texts(3)))
        assert main(["probe", run_id, "--api-key-env", "NO_SUCH_VARIABLE_SET"]) == 2
    assert "NO_SUCH_VARIABLE_SET" in capsys.readouterr().err


def test_agreement_prints_kappa_and_disputes_and_json(workspace, capsys):
    golden = make_golden(texts=[HOSTILE] + texts(7))
    with StubServer(policy_following(label_reader)) as a, StubServer(policy_following(ignores_policy)) as b:
        run_a, run_b = scored_run(workspace, a, golden), scored_run(workspace, b, golden, answer_mode="constrained")
    assert main(["agreement", run_a, run_b]) == 0
    out = capsys.readouterr().out
    assert "stub · cope-b/logprobs" in out and "stub · cope-b/constrained" in out
    assert "items disputed, most disputed first:" in out and "\x1b" not in out and "\r" not in out
    assert main(["agreement", run_a, run_b, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    [pair] = report["pairs"]
    assert pair["n"] == 8 and len(report["disagreements"]) == 8 - pair["agreement"]["count"]
    assert list(report["runs"].values()) == [run_a, run_b]


def test_agreement_refuses_a_single_run_or_different_golden_sets(workspace, capsys):
    with StubServer(policy_following(label_reader)) as server:
        run_a = scored_run(workspace, server, make_golden(texts=texts(4)))
        run_b = scored_run(workspace, server, make_golden(texts=texts(5)))
    assert main(["agreement", run_a]) == 2 and "at least two runs" in capsys.readouterr().err
    assert main(["agreement", run_a, run_b]) == 2 and "different golden sets" in capsys.readouterr().err
