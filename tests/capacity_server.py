"""An OpenAI-shaped server with a capacity the client is not told: a stand-in for a GPU server.

``slots`` requests are served at once, each for about ``service_s`` (spread evenly over
±25 %, deterministically, so completions do not land in lockstep); every request beyond that
waits in a FIFO queue for a slot. Throughput therefore rises with the requests in flight up to
``slots`` (the knee, ``slots / service_s`` per second) and stays flat past it while latency
grows: vLLM's shape, without a model. Scoring requests get tests/stub_server.py's instant reply
(a chat completion with logprobs); ``/v1/models`` lists the model ``stub``.

The server counts what it went through, for a client to read at ``GET /stats`` (JSON): the
seconds since it started, the completions answered, and the time integrals of its running and
waiting requests; two reads give the mean of each over the time between them. With
``metrics=True`` it also serves vLLM's Prometheus gauges at ``GET /metrics``
(``vllm:num_requests_running`` / ``vllm:num_requests_waiting``); without, that path is a 404, as
on a server that has none.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections import deque
from dataclasses import dataclass

from tests.stub_server import FIXED_CHAT_REPLY, REASONS, LoopServer, _read_request

GOLDEN = 0.6180339887498949
MODELS_REPLY = json.dumps({"object": "list", "data": [{"id": "stub", "max_model_len": 4096}]}).encode()


@dataclass(frozen=True)
class Stats:
    """What the server went through from its start to ``at``."""

    at: float
    """Seconds since the server started."""
    completed: int
    """Scoring requests answered."""
    running_area: float
    """Integral of the requests being served over time (request-seconds)."""
    waiting_area: float
    """Integral of the requests waiting for a slot over time (request-seconds)."""

    def since(self, earlier: "Stats") -> tuple[float, float, float]:
        """(completions per second, mean running, mean waiting) between ``earlier`` and this."""
        span = max(self.at - earlier.at, 1e-9)
        return ((self.completed - earlier.completed) / span, (self.running_area - earlier.running_area) / span,
                (self.waiting_area - earlier.waiting_area) / span)


def read_stats(origin: str) -> Stats:
    """The server's counters, over HTTP (works from another process)."""
    with urllib.request.urlopen(f"{origin}/stats", timeout=10) as reply:
        return Stats(**json.loads(reply.read()))


class CapacityServer(LoopServer):
    """``with CapacityServer(slots=96, service_s=0.25) as server:`` then ``server.base_url``."""

    def __init__(self, *, slots: int, service_s: float, metrics: bool = False):
        if slots < 1 or service_s <= 0:
            raise ValueError(f"slots must be at least 1 and service_s positive, not {slots}, {service_s}")
        super().__init__()
        self.slots, self.service_s, self.metrics = slots, service_s, metrics
        self.running = 0
        self._queue: deque[asyncio.Future] = deque()
        self._served = self._completed = 0
        self._started = self._last = time.monotonic()
        self._running_area = self._waiting_area = 0.0

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def stats(self) -> Stats:
        """Read on the server's own loop (``/stats``) so the counters never move under it."""
        self._account()
        return Stats(self._last - self._started, self._completed, self._running_area, self._waiting_area)

    def _account(self) -> None:
        """Add the time since the last change at the current counts; call before any change."""
        now = time.monotonic()
        self._running_area += self.running * (now - self._last)
        self._waiting_area += len(self._queue) * (now - self._last)
        self._last = now

    async def _complete(self) -> None:
        """Take a slot (waiting in line for one if all are busy), hold it for a service time."""
        self._account()
        if self.running < self.slots:
            self.running += 1
        else:
            turn = asyncio.get_running_loop().create_future()
            self._queue.append(turn)
            try:
                await turn  # the slot is handed over with ``running`` unchanged
            except asyncio.CancelledError:
                if turn in self._queue:
                    self._account()
                    self._queue.remove(turn)
                    raise
                self._release()  # handed a slot just as the client left
                raise
        self._served += 1
        try:
            await asyncio.sleep(self.service_s * (0.75 + 0.5 * (self._served * GOLDEN % 1)))
            self._completed += 1
        finally:
            self._release()

    def _release(self) -> None:
        self._account()
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.running -= 1

    def _metrics(self) -> bytes:
        return "".join(
            f"# TYPE vllm:{name} gauge\nvllm:{name}{{model_name=\"stub\"}} {value:.1f}\n"
            for name, value in (("num_requests_running", self.running), ("num_requests_waiting", self.waiting))
        ).encode()

    async def _reply(self, path: str) -> tuple[int, bytes]:
        if path.endswith("/models"):
            return 200, MODELS_REPLY
        if path == "/stats":
            return 200, json.dumps(self.stats().__dict__).encode()
        if path == "/metrics":
            return (200, self._metrics()) if self.metrics else (404, b'{"error": "no metrics here"}')
        if path.endswith("/completions"):
            await self._complete()
            return 200, FIXED_CHAT_REPLY
        return 404, b'{"error": "not found"}'

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await _read_request(reader)) is not None:
                status, body = await self._reply(request[0])
                writer.write(f"HTTP/1.1 {status} {REASONS[status]}\r\ncontent-type: application/json\r\n"
                             f"content-length: {len(body)}\r\n\r\n".encode() + body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
