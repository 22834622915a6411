"""Send many scoring requests concurrently, with timeouts and retries; never lose an outcome.

Each server (a lane) gets one HTTP session (cope_eval/http_client.py) whose pool holds at most
its concurrency in keep-alive connections, and as many workers; the workers pull jobs from one
iterator and hand every outcome to a callback, success or error.
Retries: connection errors, timeouts, 429 and 5xx, with exponential backoff and full jitter,
honouring Retry-After; other 4xx are final at once, and so is a redirect (never followed: the
key would go with it).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime

from ..errors import redact
from ._answers import Answer, read_answer
from ._http_client import BadReply, Reply, ServerSession, TransportError, check_concurrency
from ._templates import Template

MAX_RETRY_AFTER_S = 120.0


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before an item is stored as an error."""

    attempts: int = 5
    """Tries per item, the first included."""
    base_delay_s: float = 0.5
    """Backoff before the second try; doubles each time (with full jitter)."""
    max_delay_s: float = 30.0
    """Cap on one backoff."""
    timeout_s: float = 60.0
    """Limit on one request, from connecting to the last byte of the reply."""


@dataclass(frozen=True)
class Job:
    """One request to make."""

    item_id: str
    cache_key: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What became of one job."""

    item_id: str
    cache_key: str
    answer: Answer | None
    error: str | None
    latency_ms: float
    unreachable: bool = False
    """True when every try failed to reach the server at all (not an answer from it)."""


class RequestFailed(Exception):
    """No usable reply; ``tries`` requests were made, ``unreachable`` if none got through.

    ``server_fault``: every try failed in a way that says more about the server than the item
    (no connection, timeouts, 5xx) — another replica may well succeed.
    """

    def __init__(self, message: str, *, tries: int, unreachable: bool = False, server_fault: bool = False):
        super().__init__(message)
        self.tries = tries
        self.unreachable = unreachable
        self.server_fault = server_fault or unreachable


@dataclass(frozen=True)
class Lane:
    """One server (a replica) and how many requests it may have in flight."""

    base_url: str
    api_key: str | None
    concurrency: int


class _LaneState:
    def __init__(self, lane: Lane):
        self.lane = lane
        self.failures = 0
        self.alive = True


async def run_jobs(
    jobs: Iterator[Job], *, lanes: list[Lane], template: Template, retry: RetryPolicy,
    on_outcome: Callable[[Outcome], None], should_stop: Callable[[], bool],
) -> int:
    """Score every job (until ``should_stop``) over one or more replicas; return HTTP requests made.

    Each replica has its own session and workers. A replica that keeps failing (unreachable, or
    5xx/timeouts after every retry) for as many items in a row as it has workers is dropped, and
    the items it failed go back to the queue for the others. Only when no replica is left do
    such failures become outcomes. Raises ConfigError when the lanes together would hold more
    connections open than the process can.
    """
    check_concurrency(*(lane.concurrency for lane in lanes))
    states = [_LaneState(lane) for lane in lanes]
    requeued: deque[Job] = deque()
    in_flight = 0
    requests_made = 0

    def next_job() -> Job | None:
        return requeued.popleft() if requeued else next(jobs, None)

    async def worker(state: _LaneState, session: ServerSession) -> None:
        nonlocal in_flight, requests_made
        lane = state.lane
        while state.alive and not should_stop():
            job = next_job()
            if job is None:
                if in_flight == 0:
                    return
                await asyncio.sleep(0.02)  # another replica may hand its items back
                continue
            in_flight += 1
            try:
                outcome, tries, lane_failed = await _score(session, job, template, retry, lane.api_key)
            finally:
                in_flight -= 1
            requests_made += tries
            if not lane_failed:
                state.failures = 0
                on_outcome(outcome)
                continue
            state.failures += 1
            if state.failures >= lane.concurrency and sum(s.alive for s in states) > 1:
                state.alive = False
            if any(s.alive and s is not state for s in states):
                requeued.append(job)
            else:
                on_outcome(outcome)

    sessions = [ServerSession(s.lane.base_url, s.lane.api_key, connections=max(1, s.lane.concurrency),
                              deadline_s=retry.timeout_s) for s in states]
    try:
        await asyncio.gather(*(worker(state, session) for state, session in zip(states, sessions)
                               for _ in range(max(1, state.lane.concurrency))))
    finally:
        for session in sessions:
            await session.close()
    return requests_made


async def _score(session: ServerSession, job: Job, template: Template, retry: RetryPolicy, api_key: str | None):
    """(outcome, requests made, whether the failure says more about the server than the item).

    The key is already out of the reply's bytes (http_client); every text kept from the reply
    is redacted once more, in case the server spelled the key some other way."""
    started = time.perf_counter()
    try:
        reply, tries = await send_with_retries(session, template.endpoint, job.body, retry)
    except RequestFailed as exc:
        outcome = Outcome(job.item_id, job.cache_key, None, redact(str(exc), api_key), _ms(started), exc.unreachable)
        return outcome, exc.tries, exc.server_fault
    try:
        answer = read_answer(template, reply)
    except (ValueError, ArithmeticError, RecursionError) as exc:  # AnswerError, or a reply too odd to read
        return Outcome(job.item_id, job.cache_key, None, redact(str(exc), api_key), _ms(started)), tries, False
    if api_key and api_key in answer.raw:
        answer = replace(answer, raw=redact(answer.raw, api_key))
    return Outcome(job.item_id, job.cache_key, answer, None, _ms(started)), tries, False


async def send_with_retries(session: ServerSession, path: str, body: bytes, retry: RetryPolicy) -> tuple[object, int]:
    """POST until a usable JSON reply; return (decoded reply, tries). Raises RequestFailed.

    Each try is limited by the session's deadline (``retry.timeout_s`` in a run)."""
    reached = False
    for attempt in range(1, retry.attempts + 1):
        retry_after = None
        try:
            reply = await session.post(path, body)
        except TransportError as exc:
            reached = reached or exc.reached
            failure = str(exc)
        else:
            reached = True
            if reply.status < 300:
                try:
                    return reply.json(), attempt
                except BadReply as exc:
                    raise RequestFailed(f"HTTP {reply.status} with a body that {exc}", tries=attempt) from None
            if reply.is_redirect:
                raise RequestFailed(f"HTTP {reply.status}: redirected to {reply.redirect_target()}; "
                                    "cope-eval does not follow redirects for scoring", tries=attempt)
            failure = f"HTTP {reply.status}: {_error_text(reply)}"
            if not is_retryable(reply.status):
                raise RequestFailed(failure, tries=attempt)
            retry_after = parse_retry_after(reply.headers.get("retry-after"))
        if attempt == retry.attempts:
            raise RequestFailed(f"{failure} (gave up after {attempt} tries)", tries=attempt, unreachable=not reached,
                                server_fault=True)
        await asyncio.sleep(backoff_delay(attempt, retry, retry_after))
    raise AssertionError("unreachable")


def is_retryable(status: int) -> bool:
    return status == 408 or status == 429 or status >= 500


def backoff_delay(attempt: int, retry: RetryPolicy, retry_after: float | None = None) -> float:
    """Full-jitter exponential backoff; a server's Retry-After is a floor, within reason."""
    ceiling = min(retry.max_delay_s, retry.base_delay_s * 2 ** (attempt - 1))
    delay = random.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return delay


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if absent/garbled."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def _error_text(reply: Reply) -> str:
    """The server's own error message when its body says one, else the body; at most 300 characters."""
    try:
        decoded = reply.json()
    except BadReply:
        return reply.body.decode("utf-8", "replace")[:300]
    message = decoded.get("error", decoded) if isinstance(decoded, dict) else decoded
    if isinstance(message, dict):
        message = message.get("message", message)
    try:
        return str(message)[:300]
    except RecursionError:  # a body nested nearly as deep as the decoder allows
        return "(an error body nested too deeply to show)"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
