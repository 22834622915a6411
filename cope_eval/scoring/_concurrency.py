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

- **Windows.** Every decision rests on one window. After a change of the limit, the first
  answer to a request sent since the change opens it (the pipe is full at the new level: a
  request sent in the change's own burst met a shorter queue than the level keeps); it holds
  the answers to requests sent after it opened, until ``max(MIN_SAMPLES, WINDOW * limit)``
  have come, about a latency and a half in all. Throughput is ``limit`` over their mean
  latency (Little's law). A completion while fewer than ``limit`` were in flight (the run ran
  out of items) says nothing about the server: the window starts again.
- **Start.** Its first window says which way: a mean latency more than ``LATENCY_TOLERANCE``
  times the quickest answer seen (the first requests met an idle server: about its no-load
  latency) means the start level already queues, so the start goes down; else up. Up, it
  multiplies the limit by ``GROWTH`` after each window whose throughput rose at least
  ``START_GAIN`` as fast as the limit; down, it divides by ``GROWTH`` while throughput falls
  less than ``START_GAIN`` as fast and stays within ``MAX_LOSS`` of the best window seen. If
  the very first move fails, it turns around once. When a later move down fails, the limit
  goes back to the last level that cost little. When a later move up fails, the knee lies
  between the last two levels and the limit jumps to it: at
  the lower level each request in flight earned ``throughput / limit``, so the higher level's
  throughput kept ``lower.limit * upper.throughput / lower.throughput`` requests at work
  (TCP Vegas' estimate); the rest were waiting.
- **Probe.** Then, one window each: measure the current level (the base); try ``STEP`` (10 %,
  at least 1) more: kept if throughput rose at least ``GAIN`` (a tenth) as much; else try
  ``STEP`` less: kept if throughput fell less than ``GAIN`` as much (the base was past the
  knee) and stayed within ``MAX_LOSS`` of the best; else back to the base. (A curve like the
  local CPU vLLM's, 5.1 items/s at 1 in flight and 8.0 at 64, loses little per halving; only
  the bound on the total loss stops it from sliding to 1.) Below the knee every step up pays (even on vLLM, whose
  throughput rises more slowly than its batch), past it every step down is free, so the limit
  climbs to the knee and stays within a step or two of it, wherever it started. Each time the
  probes come back to the same base, it is measured for more windows before the next probes
  (1, then 3 at most: ``MAX_CALM``), since each probe costs a little queue or throughput.
- **Latency without throughput.** Measuring the base again with latency up by
  ``LATENCY_TOLERANCE`` (half) and no more throughput means the server has less room than
  before (another client, a slower mix): the limit is cut by ``BACKOFF``.
- **Overload.** A 429, 503 or timeout for a request sent since the last cut cuts the limit by
  ``BACKOFF`` at once; the other requests already in flight when it happened were sent at the
  level just cut, so a burst of them cuts once. After an overload the start phase is over.
- **Metrics.** When the server exposes them, its ``running`` and ``waiting`` requests guard
  against flooding: a queue of about ``running / QUEUE_SHARE`` (at least 1) keeps every slot
  the server frees busy; a sample, taken after the last change took effect, showing more than
  half again that lowers the limit by the excess and ends the start. They never raise it: only
  throughput does. vLLM counts as waiting only what its engine has queued, and a server short
  of CPU (the local stand-in) holds most requests in its API front end, where they show in
  neither gauge; raising on a short queue flooded it (16 to 128 in flight at no gain).
  Samples are the whole server's, so a client lowers its limit by its own share of the excess
  (its limit over the server's running and waiting): six clients of one server remove the excess
  once between them, not six times over. Six 1,000-item runs at once on a 96-slot stand-in scored
  249 items/s in all when each cut all of it (as many as one run alone), 285 and 333 with shares.

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
GROWTH = 2.0
"""Factor by which the start multiplies (or divides) the limit per window."""
START_GAIN = 0.6
"""Share of a start move that throughput must follow for the start to go on."""
GAIN = 0.1
"""Share of a probe step that throughput must follow for the step to count."""
STEP = 0.1
"""A probe's size, as a share of the limit (at least 1)."""
BACKOFF = 0.75
"""Factor applied to the limit on overload, or on latency up with no more throughput."""
LATENCY_TOLERANCE = 1.5
"""Latency growth, at unchanged throughput, that counts as the server having less room."""
MAX_LOSS = 0.05
"""Throughput a move down may cost, as a share of the best window since the last cut: below
the knee vLLM's throughput falls more slowly than its batch, so a move that keeps most of its
share can still cost much of the best."""
MIN_SAMPLES = 8
"""Completions a window needs at least, however low the limit."""
WINDOW = 0.5
"""Completions a window needs, as a share of the limit."""
MAX_CALM = 3
"""Windows at most that a confirmed base is measured again before the next probes."""
QUEUE_SHARE = 8
"""With metrics, the waiting queue aimed at is about running / QUEUE_SHARE."""
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
        self._direction = 1
        """The start's way: 1 up (multiply by GROWTH), -1 down (divide)."""
        self._moved = self._turned = False
        """Whether a move of the start paid; whether the start turned back after its first move."""
        self._calm = self._quiet = 0
        """Windows to hold before the next probes: ``_calm`` doubles (to MAX_CALM) each time the
        probes come back to the same level, and falls to 0 when they move it."""
        self._best = 0.0
        """The highest throughput of a window since the start or the last cut."""
        self._fastest = math.inf
        """The quickest answer seen: about the server's no-load latency."""
        self._cut_at = -math.inf
        self._changed_at = math.inf
        """When the limit last changed (none yet: the first answer marks the start level's time,
        as the first requests met an idle server, quicker than a busy one answers)."""
        self._opened_at: float | None = None
        """The window's opening: the first answer to a request sent since the change (the
        pipe is full at the new level); None until then."""
        self._count = 0
        self._latency_sum = 0.0
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
        if outcome == FAILED:
            return
        self._fastest = min(self._fastest, latency_s)
        if self._changed_at == math.inf:
            self._changed_at = now
        if in_flight is not None and in_flight < self._limit:
            self._restart(now)  # starved, not limited: no measure of the server
            return
        if self._opened_at is None:
            if sent >= self._changed_at:
                self._opened_at, self._count, self._latency_sum = now, 0, 0.0
            return
        if sent < self._opened_at:
            return  # sent while the pipe was still filling at the new level
        self._count += 1
        self._latency_sum += latency_s
        if self._count < max(MIN_SAMPLES, WINDOW * self._limit):
            return
        latency = self._latency_sum / self._count
        self._decide(now, _Window(self._limit, self._limit / latency, latency))

    def on_metrics(self, now: float, running: int, waiting: int) -> None:
        """The server's requests running and waiting (vLLM's ``num_requests_*``) at ``now``."""
        if self._opened_at is None or now < self._opened_at:
            return  # taken before the last change had filled the pipe
        target = max(1, math.ceil(running / QUEUE_SHARE))
        if 2 * waiting > 3 * target:
            share = min(1.0, self._limit / (running + waiting))  # this client's part of the server's load
            self._phase, self._base = "hold", None
            self._set(now, self._limit - max(1, round((waiting - target) * share)))

    # -- decisions ------------------------------------------------------------------------------
    def _decide(self, now: float, window: _Window) -> None:
        best = self._best
        self._best = max(best, window.throughput)
        base, phase = self._base, self._phase
        if phase == "start":
            if base is None:  # the start level: already queueing, or not?
                self._direction = -1 if window.latency > LATENCY_TOLERANCE * self._fastest else 1
                self._base = window
            elif _follows(window, base, START_GAIN) and (self._direction > 0 or _affordable(window, best)):
                self._base, self._moved = window, True  # up: paid; down: free
            elif not (self._moved or self._turned):  # the first move failed: try the other way
                self._direction, self._turned = -self._direction, True
            elif self._direction < 0:  # down: the last level that cost little is the lowest to keep
                self._hold(now, base.limit)
                return
            else:  # up: the knee lies between the last two levels
                lower, upper = sorted((base, window), key=lambda w: w.limit)
                self._hold(now, round(_knee(lower, upper)))
                return
            level = self._base.limit
            if (self._direction > 0 and level >= self.cap) or (self._direction < 0 and level <= 1):
                self._hold(now, level)
            else:
                self._set(now, level * GROWTH ** self._direction)
        elif phase == "hold":
            if (base is not None and base.limit == window.limit
                    and window.latency > base.latency * LATENCY_TOLERANCE
                    and window.throughput <= base.throughput * (1 + GAIN * STEP)):
                self._base, self._best = None, 0.0
                self._set(now, self._limit * BACKOFF)
                return
            self._base = window
            if self._quiet > 0:  # the last probes found the knee here: measure it again first
                self._quiet -= 1
                self._restart(now)
                return
            self._phase = "up"
            self._set(now, self._limit + self._step())
        elif phase == "up":
            if base is not None and _follows(window, base):
                self._base, self._calm = window, 0
                self._set(now, self._limit + self._step())
            else:
                assert base is not None
                self._phase = "down"
                self._set(now, base.limit - self._step(base.limit))
        else:  # down
            assert base is not None
            if _follows(window, base) and _affordable(window, best):  # fell less than GAIN as much: free
                self._base, self._calm = window, 0
                self._set(now, self._limit - self._step())
            else:
                self._phase = "hold"
                self._calm = min(MAX_CALM, 2 * self._calm + 1)
                self._quiet = self._calm
                self._set(now, base.limit)

    def _cut(self, now: float) -> None:
        self._cut_at, self._best = now, 0.0
        self._calm = self._quiet = 0
        self._base = None
        self._phase = "hold"
        self._set(now, self._limit * BACKOFF)

    def _hold(self, now: float, level: float) -> None:
        """Go to ``level`` and measure it afresh before probing around it."""
        self._base = None
        self._phase = "hold"
        self._set(now, level)

    def _step(self, level: int | None = None) -> int:
        return max(1, round(STEP * (self._limit if level is None else level)))

    def _set(self, now: float, wanted: float) -> None:
        new = min(self.cap, max(1, math.floor(wanted) if wanted < self._limit else math.ceil(wanted)))
        self._settled = self._average(now)
        self._settled_at = now
        self._limit = new
        self._restart(now)

    def _restart(self, now: float) -> None:
        """The next window opens with the first answer to a request sent from ``now`` on."""
        self._changed_at, self._opened_at = now, None

    def _average(self, now: float) -> float:
        span = min(SETTLE_S, max(now - self._born, 1e-3) / 4)
        weight = 1 - math.exp(-max(0.0, now - self._settled_at) / span)
        return self._settled + weight * (self._limit - self._settled)


def _follows(window: _Window, base: _Window, gain: float | None = None) -> bool:
    """True when throughput moved with the limit at least ``GAIN`` as much (up: rose enough;
    down: fell little enough)."""
    change = window.limit / base.limit - 1
    return window.throughput >= base.throughput * (1 + (GAIN if gain is None else gain) * change)


def _affordable(window: _Window, best: float) -> bool:
    """True when ``window``, a move down, kept all but ``MAX_LOSS`` of the best throughput."""
    return window.throughput >= (1 - MAX_LOSS) * best


def _knee(lower: _Window, upper: _Window) -> float:
    """Where the knee lies between two levels, the lower one below it: there each request in
    flight earned ``lower.throughput / lower.limit`` per second, so ``upper``'s throughput kept
    that many of its requests at work; the rest were waiting."""
    return min(upper.limit, max(lower.limit, lower.limit * upper.throughput / lower.throughput))
