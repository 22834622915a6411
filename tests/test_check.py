"""Single checks go through the run's transport with the very body a run sends."""

import json

import pytest

from cope_eval.errors import ServerError
from cope_eval.records import Endpoint
from cope_eval.scoring import check_one, get_template
from cope_eval.scoring._jobs import JobBuilder
from tests.stub_server import Reply, StubServer


def test_single_check_sends_the_run_body(tmp_path):
    with StubServer() as server:
        result = check_one(Endpoint(server.base_url, "stub", "sk-x"), policy="P", text="hello", workspace_root=tmp_path)
    (path, headers, body), = server.requests
    expected = JobBuilder(get_template("cope-b"), model="stub", policy="P", answer_mode="logprobs", workspace_root=tmp_path)
    assert path == "/v1/chat/completions" and json.loads(body) == json.loads(expected.body("hello", None))
    assert headers["authorization"] == "Bearer sk-x"
    assert 0 < result.answer.score < 1 and result.has_probability


def test_single_check_surfaces_server_errors():
    with StubServer(lambda p, b: Reply(status=400, body=b'{"error":{"message":"stub is not a multimodal model"}}')) as server:
        with pytest.raises(ServerError, match="HTTP 400"):
            check_one(Endpoint(server.base_url, "stub"), policy="P", text="x")


@pytest.mark.model
def test_single_check_against_vllm_gives_a_probability(model_server):
    result = check_one(Endpoint(model_server.base_url, model_server.model), policy="Threats of violence.",
                       text="I will hurt you", answer_mode="constrained")
    assert 0.0 <= result.answer.score <= 1.0 and result.answer.hard_label in (0, 1)
