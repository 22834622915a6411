"""Send many scoring requests concurrently, with timeouts and retries; never lose an outcome.

Workers (one keep-alive connection each, so at most ``concurrency`` requests are in flight)
pull jobs from one iterator and hand every outcome to a callback, success or error.
Retries: connection errors, timeouts, 429 and 5xx, with exponential backoff and full jitter,
honouring Retry-After; other 4xx are final at once.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from .errors import redact
from .http1 import Connection, HttpError, Origin
from .scoring import Answer, AnswerError, read_answer
from .templates import Template

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
    """Limit on one request, from sending to the last byte of the reply."""


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

    Each replica has its own workers (one keep-alive connection each). A replica that keeps
    failing (unreachable, or 5xx/timeouts after every retry) for as many items in a row as it
    has workers is dropped, and the items it failed go back to the queue for the others. Only
    when no replica is left do such failures become outcomes.
    """
    states = [_LaneState(lane) for lane in lanes]
    requeued: deque[Job] = deque()
    in_flight = 0
    requests_made = 0

    def next_job() -> Job | None:
        return requeued.popleft() if requeued else next(jobs, None)

    async def worker(state: _LaneState) -> None:
        nonlocal in_flight, requests_made
        lane = state.lane
        headers = {"Authorization": f"Bearer {lane.api_key}"} if lane.api_key else {}
        connection = Connection(Origin.parse(lane.base_url), headers)
        try:
            while state.alive and not should_stop():
                job = next_job()
                if job is None:
                    if in_flight == 0:
                        return
                    await asyncio.sleep(0.02)  # another replica may hand its items back
                    continue
                in_flight += 1
                try:
                    outcome, tries, lane_failed = await _score(connection, job, template, retry, lane.api_key)
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
        finally:
            connection.close()

    await asyncio.gather(*(worker(state) for state in states for _ in range(max(1, state.lane.concurrency))))
    return requests_made


async def _score(connection: Connection, job: Job, template: Template, retry: RetryPolicy, api_key: str | None):
    """(outcome, requests made, whether the failure says more about the server than the item).

    Error texts quote the server's reply, so the key sent to it is redacted from them."""
    started = time.perf_counter()
    try:
        reply, tries = await send_with_retries(connection, template.endpoint, job.body, retry)
    except RequestFailed as exc:
        outcome = Outcome(job.item_id, job.cache_key, None, redact(str(exc), api_key), _ms(started), exc.unreachable)
        return outcome, exc.tries, exc.server_fault
    try:
        answer = read_answer(template, reply)
    except AnswerError as exc:
        return Outcome(job.item_id, job.cache_key, None, redact(str(exc), api_key), _ms(started)), tries, False
    return Outcome(job.item_id, job.cache_key, answer, None, _ms(started)), tries, False


async def send_with_retries(connection: Connection, path: str, body: bytes, retry: RetryPolicy) -> tuple[dict, int]:
    """POST until a usable JSON reply; return (decoded reply, tries). Raises RequestFailed."""
    reached = False
    for attempt in range(1, retry.attempts + 1):
        retry_after = None
        try:
            async with asyncio.timeout(retry.timeout_s):
                response = await connection.post(path, body)
        except TimeoutError:
            connection.close()
            reached = True
            failure = f"timed out after {retry.timeout_s:g} s"
        except HttpError as exc:
            failure = f"connection failed: {exc}"
        else:
            reached = True
            if response.status < 300:
                try:
                    return json.loads(response.body), attempt
                except (ValueError, UnicodeDecodeError):
                    raise RequestFailed(f"HTTP {response.status} with a body that is not JSON: {response.body[:120]!r}",
                                        tries=attempt) from None
            failure = f"HTTP {response.status}: {_error_text(response.body)}"
            if not is_retryable(response.status):
                raise RequestFailed(failure, tries=attempt)
            retry_after = parse_retry_after(response.headers.get("retry-after"))
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


def _error_text(body: bytes) -> str:
    try:
        decoded = json.loads(body)
        message = decoded.get("error", decoded) if isinstance(decoded, dict) else decoded
        if isinstance(message, dict):
            message = message.get("message", message)
        text = str(message)
    except (ValueError, UnicodeDecodeError):
        text = body.decode("utf-8", "replace")
    return text[:300]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
