"""The bundled vLLM answers the CoPE requests with the shapes the engine relies on."""

import json
import math
import urllib.request

import pytest

from cope_eval.scoring import build_body, get_template
from cope_eval.scoring._templates import TOP_LOGPROBS

pytestmark = pytest.mark.model

POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person."
CONTENT = "I will find you and hurt you."


def _post(server, body):
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_cope_b_prompt_returns_one_token_with_top_logprobs(model_server):
    body = build_body(get_template("cope-b"), model=model_server.model, policy=POLICY, text=CONTENT)
    assert body["max_tokens"] == 1 and body["logprobs"] is True and body["top_logprobs"] == TOP_LOGPROBS

    reply = _post(model_server, body)

    choice = reply["choices"][0]
    assert reply["model"] == model_server.model
    assert reply["usage"]["completion_tokens"] == 1
    assert choice["finish_reason"] == "length"
    first = choice["logprobs"]["content"][0]
    assert first["token"] == choice["message"]["content"]
    tops = first["top_logprobs"]
    assert len(tops) == TOP_LOGPROBS
    assert all(isinstance(t["token"], str) and t["logprob"] <= 0 for t in tops)
    assert [t["logprob"] for t in tops] == sorted((t["logprob"] for t in tops), reverse=True)


def test_constrained_answer_is_zero_or_one_with_probabilities_summing_to_one(model_server):
    body = build_body(
        get_template("cope-b"), model=model_server.model, policy=POLICY, text=CONTENT, answer_mode="constrained"
    )
    assert body["structured_outputs"] == {"choice": ["0", "1"]} and "guided_choice" not in body

    reply = _post(model_server, body)

    choice = reply["choices"][0]
    assert choice["message"]["content"] in {"0", "1"}
    tops = {t["token"]: t["logprob"] for t in choice["logprobs"]["content"][0]["top_logprobs"]}
    assert math.exp(tops["0"]) + math.exp(tops["1"]) == pytest.approx(1.0, abs=1e-3)
