"""Score one ad-hoc item ("check one item"): the same request bytes, and the same HTTP path, as a run.

It shares the run's transport (cope_eval/http_client.py and transport.send_with_retries), so a
single check keeps the run's protections: a total deadline (the openai client's timeout restarts
with every byte, so a dripping server hung the page), no redirect followed, and the key taken out
of the reply before it is read or quoted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ServerError, redact
from ..records import Endpoint
from ._answers import Answer, AnswerError, read_answer
from ._http_client import ServerSession, run_sync
from ._jobs import JobBuilder
from ._templates import get_template
from ._transport import RequestFailed, RetryPolicy, send_with_retries

CHECK_RETRY = RetryPolicy(attempts=3, base_delay_s=0.5, max_delay_s=2.0, timeout_s=60.0)
"""Someone is waiting: three tries at most, each within a minute."""


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
    """The body sent (for inspection; the image or video data URL included)."""


def check_one(
    endpoint: Endpoint, *, policy: str, text: str = "", image_ref: str | None = None, video_ref: str | None = None,
    template: str = "cope-b",
    answer_mode: str = "logprobs", workspace_root: Path = Path("."), allow_urls: bool = False,
) -> CheckResult:
    """Score one item now. Raises ServerError with the server's message when it fails."""
    chosen = get_template(template)
    builder = JobBuilder(chosen, model=endpoint.model, policy=policy, answer_mode=answer_mode,
                         workspace_root=workspace_root, allow_urls=allow_urls)
    body = builder.body(text, image_ref, video_ref)
    started = time.perf_counter()
    try:
        reply = run_sync(lambda: _send(endpoint, chosen.endpoint, body))
    except RequestFailed as exc:
        if exc.unreachable:
            message = f"Cannot reach {endpoint.base_url}: {exc}"
        else:
            message = f"Request to {endpoint.base_url} failed: {exc}"
        raise ServerError(redact(message, endpoint.api_key)) from None
    latency = (time.perf_counter() - started) * 1000
    try:
        answer = read_answer(chosen, reply)
    except AnswerError as exc:
        raise ServerError(redact(f"The reply is not a classification: {exc}", endpoint.api_key)) from None
    if endpoint.api_key and endpoint.api_key in answer.raw:
        answer = replace(answer, raw=redact(answer.raw, endpoint.api_key))
    return CheckResult(answer, chosen.has_probability, latency, json.loads(body))


async def _send(endpoint: Endpoint, path: str, body: bytes):
    async with ServerSession(endpoint.base_url, endpoint.api_key, connections=1,
                             deadline_s=CHECK_RETRY.timeout_s) as session:
        reply, _ = await send_with_retries(session, path, body, CHECK_RETRY)
        return reply
