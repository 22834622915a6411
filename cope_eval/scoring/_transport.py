"""Send many scoring requests concurrently, with timeouts and retries; never lose an outcome.

Each server (a lane) gets one HTTP session (cope_eval/http_client.py) whose pool holds at most
its concurrency in keep-alive connections, and as many workers; the workers pull jobs from one
iterator and hand every outcome to a callback, success or error. A lane with a controller
(``_concurrency``: adaptive concurrency) has as many workers as its cap, of which only the first
``controller.limit`` take jobs; every try is reported to the controller, and, when the server
exposes vLLM's ``/metrics`` (at its root), a sample of its queue every ``METRICS_EVERY_S``.
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
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime

from ..errors import CopeEvalError, redact
from ._answers import Answer, read_answer
from ._concurrency import FAILED, OK, OVERLOADED, ConcurrencyController
from ._http_client import BadReply, Reply, ServerSession, TransportError, check_concurrency
from ._templates import Template

MAX_RETRY_AFTER_S = 120.0
METRICS_EVERY_S = 0.5
"""How often an adaptive lane samples its server's ``/metrics``."""
METRICS_DEADLINE_S = 2.0


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


VIDEO_REFUSED = "the server refused this video item (does its model take video input?)"
"""How a video item's error begins when the server answered it with a client error (4xx): a
text-only model's vLLM answers HTTP 400 "... is not a multimodal model". The run's errors
group under it, so the run says how many video items failed for it."""


@dataclass(frozen=True)
class Job:
    """One request to make."""

    item_id: str
    cache_key: str
    body: bytes
    """The request's bytes; empty when ``build`` makes them."""
    build: Callable[[], bytes] | None = None
    """Makes the body just before it is sent (a video item: its file is read then, so no more
    videos are held than requests in flight); raises CopeEvalError when the item cannot be sent."""


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
    """Requests in flight at most (with a controller: its cap, the connections held ready)."""
    controller: ConcurrencyController | None = field(default=None, compare=False)
    """Adaptive concurrency: the controller moves the limit within [1, ``concurrency``]; None:
    ``concurrency`` requests in flight, fixed."""


class _LaneState:
    def __init__(self, lane: Lane):
        self.lane = lane
        self.failures = 0
        self.alive = True
        self.busy = 0
        """Jobs this lane is working on (retries and their waits included)."""
        self.closing = False
        self._limit_moved = asyncio.Event()

    @property
    def drop_after(self) -> int:
        """Items failed in a row that drop the lane: its workers, or the controller's start."""
        controller = self.lane.controller
        return self.lane.concurrency if controller is None else min(self.lane.concurrency, controller.start)

    def may_take(self, index: int) -> bool:
        controller = self.lane.controller
        return controller is None or index < controller.limit or self.closing

    async def turn(self, index: int) -> None:
        """Wait until worker ``index`` is within the limit, or the lane is closing."""
        while not self.may_take(index):
            await self._limit_moved.wait()

    def observe(self, latency_s: float, outcome: str) -> None:
        """One try's end, told to the controller; parked workers wake when the limit moved."""
        controller = self.lane.controller
        before = controller.limit
        controller.on_complete(time.monotonic(), latency_s, outcome, in_flight=self.busy)
        if controller.limit != before:
            self.wake()

    def sample(self, running: int, waiting: int) -> None:
        controller = self.lane.controller
        before = controller.limit
        controller.on_metrics(time.monotonic(), running, waiting)
        if controller.limit != before:
            self.wake()

    def close(self) -> None:
        self.closing = True
        self.wake()

    def wake(self) -> None:
        moved, self._limit_moved = self._limit_moved, asyncio.Event()
        moved.set()


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

    async def worker(state: _LaneState, session: ServerSession, index: int) -> None:
        nonlocal in_flight, requests_made
        lane = state.lane
        observe = None if lane.controller is None else state.observe
        try:
            while state.alive and not should_stop():
                if not state.may_take(index):
                    await state.turn(index)
                    continue
                job = next_job()
                if job is None:
                    if in_flight == 0:
                        return
                    await asyncio.sleep(0.02)  # another replica may hand its items back
                    continue
                in_flight += 1
                state.busy += 1
                try:
                    outcome, tries, lane_failed = await _score(session, job, template, retry, lane.api_key, observe)
                finally:
                    in_flight -= 1
                    state.busy -= 1
                requests_made += tries
                if not lane_failed:
                    state.failures = 0
                    on_outcome(outcome)
                    continue
                state.failures += 1
                if state.failures >= state.drop_after and sum(s.alive for s in states) > 1:
                    state.alive = False
                if any(s.alive and s is not state for s in states):
                    requeued.append(job)
                else:
                    on_outcome(outcome)
        finally:
            state.close()  # a worker leaves only when its lane is done: parked ones see it and leave too

    sessions = [ServerSession(s.lane.base_url, s.lane.api_key, connections=max(1, s.lane.concurrency),
                              deadline_s=retry.timeout_s) for s in states]
    samplers = [asyncio.create_task(_sample_metrics(state)) for state in states if state.lane.controller is not None]
    try:
        await asyncio.gather(*(worker(state, session, index) for state, session in zip(states, sessions)
                               for index in range(max(1, state.lane.concurrency))))
    finally:
        for sampler in samplers:
            sampler.cancel()
        for session in sessions:
            await session.close()
    return requests_made


async def _sample_metrics(state: _LaneState) -> None:
    """Tell the lane's controller the server's running and waiting requests, from vLLM's
    Prometheus ``/metrics`` at the server's root, until the lane closes; a server without them
    (any failure to fetch or read) is not asked again: the controller goes by throughput."""
    lane = state.lane
    root = lane.base_url.rstrip("/").removesuffix("/v1")
    async with ServerSession(root, lane.api_key, connections=1, deadline_s=METRICS_DEADLINE_S) as session:
        while not state.closing:
            try:
                reply = await session.get("/metrics")
            except TransportError:
                return
            queue = read_vllm_queue(reply.body) if reply.status == 200 else None
            if queue is None:
                return
            state.sample(*queue)
            await asyncio.sleep(METRICS_EVERY_S)


def read_vllm_queue(text: bytes) -> tuple[int, int] | None:
    """(running, waiting) from a Prometheus exposition with vLLM's ``vllm:num_requests_running``
    and ``vllm:num_requests_waiting`` gauges (summed over their label sets); None without both."""
    found: dict[str, float] = {}
    for line in text.decode("utf-8", "replace").splitlines():
        for name in ("vllm:num_requests_running", "vllm:num_requests_waiting"):
            if line.startswith(name) and line[len(name):len(name) + 1] in ("{", " "):
                try:
                    found[name] = found.get(name, 0.0) + float(line.rsplit(None, 1)[-1])
                except ValueError:
                    return None
    if len(found) < 2:
        return None
    return round(found["vllm:num_requests_running"]), round(found["vllm:num_requests_waiting"])


async def _score(session: ServerSession, job: Job, template: Template, retry: RetryPolicy, api_key: str | None,
                 observe: Callable[[float, str], None] | None = None):
    """(outcome, requests made, whether the failure says more about the server than the item).

    The key is already out of the reply's bytes (http_client); every text kept from the reply
    is redacted once more, in case the server spelled the key some other way."""
    started = time.perf_counter()
    body = job.body
    if job.build is not None:
        try:  # in a thread: reading and encoding a video must not stall the other requests
            body = await asyncio.to_thread(job.build)
        except CopeEvalError as exc:  # the file changed or went: this item's error, no request made
            return Outcome(job.item_id, job.cache_key, None, redact(str(exc), api_key), _ms(started)), 0, False
    try:
        reply, tries = await send_with_retries(session, template.endpoint, body, retry, observe)
    except RequestFailed as exc:
        message = str(exc)
        if job.build is not None and not exc.server_fault:  # a 4xx for a video: most likely a model without video
            message = f"{VIDEO_REFUSED}: {message}"
        outcome = Outcome(job.item_id, job.cache_key, None, redact(message, api_key), _ms(started), exc.unreachable)
        return outcome, exc.tries, exc.server_fault
    try:
        answer = read_answer(template, reply)
    except (ValueError, ArithmeticError, RecursionError) as exc:  # AnswerError, or a reply too odd to read
        return Outcome(job.item_id, job.cache_key, None, redact(str(exc), api_key), _ms(started)), tries, False
    if api_key and api_key in answer.raw:
        answer = replace(answer, raw=redact(answer.raw, api_key))
    return Outcome(job.item_id, job.cache_key, answer, None, _ms(started)), tries, False


async def send_with_retries(session: ServerSession, path: str, body: bytes, retry: RetryPolicy,
                            observe: Callable[[float, str], None] | None = None) -> tuple[object, int]:
    """POST until a usable JSON reply; return (decoded reply, tries). Raises RequestFailed.

    Each try is limited by the session's deadline (``retry.timeout_s`` in a run). ``observe``,
    when given, hears of every try: (seconds it took, ``_concurrency`` outcome)."""
    reached = False
    for attempt in range(1, retry.attempts + 1):
        retry_after = None
        started = time.monotonic()
        try:
            reply = await session.post(path, body)
        except TransportError as exc:
            if observe is not None:  # a timeout once connected: no room; no connection: no word on load
                observe(time.monotonic() - started, OVERLOADED if exc.reached else FAILED)
            reached = reached or exc.reached
            failure = str(exc)
        else:
            if observe is not None:
                observe(time.monotonic() - started, try_outcome(reply.status))
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


def try_outcome(status: int) -> str:
    """What an HTTP status says about the server's load: 429, 503 and 408 say it has no room."""
    if status < 300:
        return OK
    return OVERLOADED if status in (408, 429, 503) else FAILED


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
