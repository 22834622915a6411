"""Zentropi's hosted /v1/label as a scoring backend, checked against a local stand-in server."""

import json

import pytest

from cope_eval.errors import ConfigError
from cope_eval.records import Endpoint
from cope_eval.scoring import RetryPolicy, build_body, create_run, execute_run, get_template
from cope_eval.scoring._answers import AnswerError, read_answer
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import Reply, StubServer

ZENTROPI = get_template("zentropi")


def label_reply(label="1", confidence=0.94):
    return Reply(body=json.dumps({"label": label, "confidence": confidence, "compute_time": 0.34,
                                  "log_id": None, "explanation": None}).encode())


def test_request_body_matches_the_api():
    assert build_body(ZENTROPI, model="cope-b-a4b", policy="P", text="hi") == {
        "model": "cope-b-a4b", "criteria_text": "P", "content_text": "hi"}
    assert build_body(ZENTROPI, model="cope-b-a4b-mm", policy="P", text="", image_url="data:image/png;base64,AA") == {
        "model": "cope-b-a4b-mm", "criteria_text": "P", "content_image": "data:image/png;base64,AA"}
    with pytest.raises(ConfigError, match="no constrained mode"):
        build_body(ZENTROPI, model="m", policy="P", text="x", answer_mode="constrained")


@pytest.mark.parametrize("label, confidence, p1", [("1", 0.94, 0.94), ("0", 0.94, 0.06), ("0", 1.0, 0.0), ("1", 0.5, 0.5)])
def test_p1_is_derived_from_label_and_confidence(label, confidence, p1):
    answer = read_answer(ZENTROPI, {"label": label, "confidence": confidence})
    assert answer.score == pytest.approx(p1) and answer.hard_label == int(label) and "derived" in answer.raw


@pytest.mark.parametrize("reply, message", [
    ({"label": "maybe", "confidence": 0.9}, "label is not 0 or 1"), ({"label": "1"}, "confidence"),
    ({"label": "1", "confidence": 1.5}, "confidence"), ({"label": "1", "confidence": True}, "confidence"), ([], "not a JSON object"),
])
def test_malformed_label_replies_are_errors(reply, message):
    with pytest.raises(AnswerError, match=message):
        read_answer(ZENTROPI, reply)


def test_run_through_zentropi_retries_429_and_529_and_caps_concurrency(workspace):
    replies = iter([Reply(status=429, headers={"Retry-After": "0"}), Reply(status=529)] + [label_reply()] * 100)
    with StubServer(lambda path, body: next(replies)) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "cope-b-a4b", api_key="zt_test")
        run = create_run(store, policy=make_policy(), golden=make_golden(10), endpoint=endpoint,
                         template="zentropi", concurrency=32)
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root,
                             retry=RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02))
    assert run.concurrency == 8 and server.max_in_flight <= 8
    assert result.run.status == "completed" and result.progress.errors == 0
    labels = [(p, h, json.loads(b)) for p, h, b in server.requests if p.endswith("/label")]
    assert len(labels) == 12  # 10 items + the two retried refusals
    path, headers, body = labels[-1]
    assert path == "/v1/label" and headers["authorization"] == "Bearer zt_test"
    assert body["criteria_text"] == make_policy().text and body["model"] == "cope-b-a4b"
    assert any("context" in w for w in result.budget_warnings)
