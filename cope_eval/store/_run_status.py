"""What state a run is in: the one definition every page, command, study and import uses.

The store says what the runner last wrote; whether that is still true depends on who wrote it:

- a run this process is executing right now (``scoring_here``) is ``running``;
- a stored ``running`` run owned by this process but not executing here is ``interrupted``
  (its thread is gone without a final status; in a container a restarted app gets the old
  pid back, so the pid alone would say it is alive);
- a stored ``running`` run owned by another process is ``running`` while that process is alive
  and its heartbeat is fresh, else ``interrupted`` (killed, or on another machine that stopped
  writing);
- any other stored status is the status.

Pids are only meaningful on one machine; the heartbeat covers a store shared with another.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from .._util.pids import pid_alive
from ..errors import ConfigError
from ..records import Run

HEARTBEAT_STALE_S = 120.0
"""A runner that has not written for this long is taken to be gone (it writes every 5 s)."""

_here: Counter[str] = Counter()
_here_lock = threading.Lock()


@dataclass(frozen=True)
class RunState:
    """A run's status right now, and who is scoring it."""

    status: str
    """One of ``records.RUN_STATUSES``, corrected for a runner that is gone."""
    scored_by: int | None
    """Pid of the live process scoring it; None when nobody is."""
    heartbeat_age_s: float | None
    """Seconds since its runner last wrote; None when it never did."""


def run_state(run: Run) -> RunState:
    """Where ``run`` stands: see the module docstring for the rules."""
    age = _age_s(run.heartbeat)
    if _is_here(run.id):
        return RunState("running", os.getpid(), age)
    if run.status != "running":
        return RunState(run.status, None, age)
    if run.runner_pid == os.getpid():
        return RunState("interrupted", None, age)
    alive = run.runner_pid is not None and pid_alive(run.runner_pid)
    fresh = age is not None and age < HEARTBEAT_STALE_S
    return RunState("running", run.runner_pid, age) if alive and fresh else RunState("interrupted", None, age)


def effective_status(run: Run) -> str:
    """The status to show and act on (``run_state(run).status``)."""
    return run_state(run).status


def refuse_if_being_scored(run: Run) -> None:
    """Raise ConfigError when a live process (this one included) is scoring ``run``: a second
    runner would send every item again and then fail storing answers the first already stored."""
    state = run_state(run)
    if state.status != "running":
        return
    pid = state.scored_by
    who = f"this process ({pid})" if pid == os.getpid() else f"process {pid}"
    age = state.heartbeat_age_s
    beat = "no heartbeat yet" if age is None else f"heartbeat {max(0.0, age):.0f}s ago"
    raise ConfigError(f"Run {run.id} is being scored by {who} on this machine ({beat}); "
                      "wait for it or stop it first.")


@contextmanager
def scoring_here(run_id: str):
    """Mark ``run_id`` as executing in this process for the duration (counted, so nesting works)."""
    with _here_lock:
        _here[run_id] += 1
    try:
        yield
    finally:
        with _here_lock:
            _here[run_id] -= 1
            if _here[run_id] <= 0:
                del _here[run_id]


def _is_here(run_id: str) -> bool:
    with _here_lock:
        return _here[run_id] > 0


def _age_s(stamp: str | None) -> float | None:
    if stamp is None:
        return None
    return (datetime.now(timezone.utc) - datetime.fromisoformat(stamp)).total_seconds()
