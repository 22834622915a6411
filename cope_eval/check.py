"""Score one ad-hoc item ("check one item"): same request bytes as a run, through the openai client."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import openai

from .errors import ServerError, redact
from .jobs import JobBuilder
from .records import Endpoint
from .scoring import Answer, AnswerError, read_answer
from .templates import get_template


@dataclass(frozen=True)
class CheckResult:
    """The answer for one item, with what was sent."""

    answer: Answer
    """Score (P("1") or a hard label), hard label and raw text."""
    has_probability: bool
    """False for hard-label templates: the score is 1.0/0.0, not a probability."""
    latency_ms: float
    """Round trip, milliseconds."""
    request_body: dict
    """The body sent (for inspection; the image data URL included)."""


def make_client(endpoint: Endpoint, *, timeout_s: float = 60.0) -> openai.OpenAI:
    """The one place an openai client is built: the key goes to this endpoint only."""
    return openai.OpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key or "EMPTY",
                         timeout=timeout_s, max_retries=2)


def check_one(
    endpoint: Endpoint, *, policy: str, text: str = "", image_ref: str | None = None, template: str = "cope-b",
    answer_mode: str = "logprobs", workspace_root: Path = Path("."), allow_urls: bool = False,
) -> CheckResult:
    """Score one item now. Raises ServerError with the server's message when it fails."""
    chosen = get_template(template)
    builder = JobBuilder(chosen, model=endpoint.model, policy=policy, answer_mode=answer_mode,
                         workspace_root=workspace_root, allow_urls=allow_urls)
    body = json.loads(builder.body(text, image_ref))
    started = time.perf_counter()
    with make_client(endpoint) as client:
        try:
            reply = client.post(chosen.endpoint, body=body, cast_to=object)
        except openai.APIStatusError as exc:
            message = f"{endpoint.base_url} answered HTTP {exc.status_code}: {exc.message}"
            raise ServerError(redact(message, endpoint.api_key)) from None
        except openai.APIError as exc:
            raise ServerError(redact(f"Cannot reach {endpoint.base_url}: {exc}", endpoint.api_key)) from None
    latency = (time.perf_counter() - started) * 1000
    try:
        answer = read_answer(chosen, reply)
    except AnswerError as exc:
        raise ServerError(redact(f"The reply is not a classification: {exc}", endpoint.api_key)) from None
    return CheckResult(answer, chosen.has_probability, latency, body)
