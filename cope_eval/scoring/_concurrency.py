"""How many requests to keep in flight to one server when nobody said: an adaptive limit.

vLLM batches whatever is in flight, so a server's throughput rises with the requests it is
given until its batch is full (its *knee*); past the knee the extra requests only wait in its
queue, latency grows and throughput stays flat. The controller looks for the knee and stays a
little past it. It is pure: no I/O, no clock of its own. The lane tells it about every
finished try (``on_complete``) and, when the server exposes vLLM's Prometheus ``/metrics``,
about the server's running and waiting requests (``on_metrics``); ``limit`` is the number of
requests the lane may have in flight now, always within [1, ``cap``].

The algorithm is a hill climb on measured throughput, with a multiplicative decrease on
overload (the AIMD family, not Netflix's latency gradient: vLLM's latency grows with its batch
even below the knee, so a latency gradient stops early; throughput does not mislead that way).

- **Windows.** Every decision rests on one window: the completions of requests *sent after*
  the last change of the limit, from the first of them (the pipe is full at the new level by
  then) until at least ``max(MIN_SAMPLES, limit)`` more have finished — about one latency.
  Throughput is completions per second over the window. A completion while fewer than
  ``limit`` were in flight (the run ran out of items) says nothing about the server: the
  window starts again.
- **Start.** Multiply the limit by ``GROWTH`` after every window whose throughput rose at
  least ``GAIN`` (half) as fast as the limit did. The first window that does not falls back to
  the last level that paid.
- **Probe.** Then, one window each: measure the current level (the base); try ``STEP`` (10 %,
  at least 1) more: kept if throughput rose at least half as much; else try ``STEP`` less:
  kept if throughput fell less than half as much (the base was past the knee); else back to
  the base. Below the knee every step up pays, past it every step down is free, so the limit
  climbs to the knee and stays within a step or two of it, wherever it started.
- **Latency without throughput.** Measuring the base again with latency up by
  ``LATENCY_TOLERANCE`` (half) and no more throughput means the server has less room than
  before (another client, a slower mix): the limit is cut by ``BACKOFF``.
- **Overload.** A 429, 503 or timeout for a request sent since the last cut cuts the limit by
  ``BACKOFF`` at once; the other requests already in flight when it happened were sent at the
  level just cut, so a burst of them cuts once. After an overload the start phase is over.
- **Metrics.** When a sample of the server's ``running`` and ``waiting`` requests arrives after
  the last change took effect, it decides instead of throughput (it is the truth the hill
  climb guesses at): a queue of about ``running / QUEUE_SHARE`` (at least 1) keeps every slot
  the server frees busy without flooding it. A longer queue, more than twice that, lowers the
  limit by the excess; a shorter one raises it (by ``GROWTH`` during the start, else by a
  step). Samples are the whole server's: another client's queue lowers ours too.
  Without samples the throughput signal alone decides.

``settled`` is the level the limit settled on: a time-weighted moving average of the limit
over the last ``SETTLE_S`` seconds, or the last quarter of a shorter life (the probing steps
average out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

START = 16
"""Where the limit starts."""
CEILING = 512
"""The limit's highest value when the backend has no cap of its own."""
GROWTH = 1.5
"""Factor by which the limit grows during the start."""
GAIN = 0.5
"""Share of a change of the limit that throughput must follow for the change to count."""
STEP = 0.1
"""A probe's size, as a share of the limit (at least 1)."""
BACKOFF = 0.75
"""Factor applied to the limit on overload, or on latency up with no more throughput."""
LATENCY_TOLERANCE = 1.5
"""Latency growth, at unchanged throughput, that counts as the server having less room."""
MIN_SAMPLES = 8
"""Completions a window needs at least, however low the limit."""
QUEUE_SHARE = 8
"""With metrics, the waiting queue aimed at is about running / QUEUE_SHARE."""
METRICS_STALE_S = 5.0
"""A metrics sample older than this is forgotten: throughput decides again."""
SETTLE_S = 5.0
"""Time constant of ``settled``."""

OK, OVERLOADED, FAILED = "ok", "overloaded", "failed"
OUTCOMES = (OK, OVERLOADED, FAILED)
"""What a try came to: an answer; 429, 503 or a timeout (the server has no room); any other
failure (says nothing about load, ignored)."""


@dataclass(frozen=True)
class _Window:
    limit: int
    throughput: float
    """Completions per second."""
    latency: float
    """Mean seconds per completion."""


class ConcurrencyController:
    """An adaptive limit on one server's requests in flight (see the module docstring)."""

    def __init__(self, *, cap: int = CEILING, start: int = START, now: float = 0.0):
        if cap < 1:
            raise ValueError(f"cap must be at least 1, not {cap}")
        self.cap = cap
        self._limit = self.start = min(max(1, start), cap)
        self._phase = "start"
        self._base: _Window | None = None
        self._changed_at = now
        self._cut_at = -math.inf
        self._window_start: float | None = None
        self._count = 0
        self._latency_sum = 0.0
        self._sample_at = -math.inf
        self._settled = float(self._limit)
        self._settled_at = self._born = now

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return self._limit

    def settled(self, now: float) -> int:
        """The level the limit settled on: its time-weighted recent average, rounded."""
        return max(1, round(self._average(now)))

    def on_complete(self, now: float, latency_s: float, outcome: str, *, in_flight: int | None = None) -> None:
        """A try finished at ``now`` after ``latency_s``; ``outcome`` is one of OUTCOMES.

        ``in_flight``: the lane's tries in flight just before this one finished (it included),
        when known; fewer than ``limit`` means the lane had nothing more to send."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        sent = now - latency_s
        if outcome == OVERLOADED:
            if sent >= self._cut_at:
                self._cut(now)
            return
        if outcome == FAILED or sent < self._changed_at:
            return
        if in_flight is not None and in_flight < self._limit:
            self._window_start = None  # starved, not limited: no measure of the server
            return
        if self._window_start is None:
            self._window_start, self._count, self._latency_sum = now, 0, 0.0
            return
        if sent < self._window_start:
            return  # sent while the pipe was still filling at the new level
        self._count += 1
        self._latency_sum += latency_s
        if self._count < max(MIN_SAMPLES, self._limit):
            return
        if now - self._sample_at <= METRICS_STALE_S:
            return  # metrics decide (on_metrics); throughput stays quiet
        latency = self._latency_sum / self._count
        self._decide(now, _Window(self._limit, self._limit / latency, latency))

    def on_metrics(self, now: float, running: int, waiting: int) -> None:
        """The server's requests running and waiting (vLLM's ``num_requests_*``) at ``now``."""
        self._sample_at = now
        if self._window_start is None or now < self._window_start:
            return  # taken before the last change had filled the pipe
        target = max(1, math.ceil(running / QUEUE_SHARE))
        if waiting > 2 * target:
            self._phase = "hold"
            self._set(now, self._limit - (waiting - target))
        elif waiting < target:
            self._set(now, self._limit * GROWTH if self._phase == "start" else self._limit + self._step())

    # -- decisions ------------------------------------------------------------------------------
    def _decide(self, now: float, window: _Window) -> None:
        base, phase = self._base, self._phase
        if phase == "start":
            if base is None or _follows(window, base):
                self._base = window
                if self._limit >= self.cap:
                    self._phase = "hold"
                self._set(now, self._limit * GROWTH)
            else:
                self._phase = "up"
                self._set(now, base.limit + self._step(base.limit))
        elif phase == "hold":
            if (base is not None and base.limit == window.limit
                    and window.latency > base.latency * LATENCY_TOLERANCE
                    and window.throughput <= base.throughput * (1 + GAIN * STEP)):
                self._base = None
                self._set(now, self._limit * BACKOFF)
                return
            self._base = window
            self._phase = "up"
            self._set(now, self._limit + self._step())
        elif phase == "up":
            if base is not None and _follows(window, base):
                self._base = window
                self._set(now, self._limit + self._step())
            else:
                assert base is not None
                self._phase = "down"
                self._set(now, base.limit - self._step(base.limit))
        else:  # down
            assert base is not None
            if _follows(window, base):  # throughput fell less than half as much as the limit: free
                self._base = window
                self._set(now, self._limit - self._step())
            else:
                self._phase = "hold"
                self._set(now, base.limit)

    def _cut(self, now: float) -> None:
        self._cut_at = now
        self._base = None
        self._phase = "hold"
        self._set(now, self._limit * BACKOFF)

    def _step(self, level: int | None = None) -> int:
        return max(1, round(STEP * (self._limit if level is None else level)))

    def _set(self, now: float, wanted: float) -> None:
        new = min(self.cap, max(1, math.floor(wanted) if wanted < self._limit else math.ceil(wanted)))
        self._settled = self._average(now)
        self._settled_at = now
        self._limit = new
        self._changed_at = now  # the next window counts requests sent from now on
        self._window_start = None

    def _average(self, now: float) -> float:
        span = min(SETTLE_S, max(now - self._born, 1e-3) / 4)
        weight = 1 - math.exp(-max(0.0, now - self._settled_at) / span)
        return self._settled + weight * (self._limit - self._settled)


def _follows(window: _Window, base: _Window) -> bool:
    """True when throughput moved with the limit at least ``GAIN`` as much (up: rose enough;
    down: fell little enough)."""
    change = window.limit / base.limit - 1
    return window.throughput >= base.throughput * (1 + GAIN * change)
