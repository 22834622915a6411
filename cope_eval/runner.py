"""Create, execute, cancel and resume runs. Every outcome is stored as it arrives.

A run is resumable by construction: executing it again sends only the items that have no
stored prediction yet, and the (run, item) primary key makes a second prediction impossible.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import budget
from .errors import ConfigError
from .jobs import JobBuilder
from .pids import pid_alive
from .records import Endpoint, GoldenSet, PolicyVersion, Run
from .server_info import describe_model
from .store import Store, utc_now
from .templates import ANSWER_MODES, ZENTROPI_MAX_CONCURRENCY, Template, get_template
from .transport import Lane, Outcome, RetryPolicy, run_jobs

FLUSH_EVERY_S = 0.25
HEARTBEAT_EVERY_S = 5.0
HEARTBEAT_STALE_S = 120.0


@dataclass(frozen=True)
class RunProgress:
    """A snapshot for progress bars."""

    run_id: str
    total: int
    """Items in the run."""
    done: int
    """Items with a stored prediction (errors included)."""
    errors: int
    """Stored predictions that are errors."""
    cached: int
    """Predictions served from the cache in this execution."""
    sent: int
    """Items sent to the server in this execution."""
    elapsed_s: float
    """Seconds since this execution started."""

    @property
    def rate(self) -> float:
        """Items stored per second in this execution."""
        return (self.sent + self.cached) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        remaining = self.total - self.done
        return remaining / self.rate if self.rate > 0 else None


@dataclass(frozen=True)
class RunResult:
    """How one execution of a run ended."""

    run: Run
    progress: RunProgress
    requests: int
    """HTTP requests made, retries included."""
    budget_warnings: tuple[str, ...] = ()


def create_run(
    store: Store, *, policy: PolicyVersion, golden: GoldenSet, endpoint: Endpoint, template: str = "cope-b",
    answer_mode: str = "logprobs", threshold: float = 0.5, concurrency: int = 16,
) -> Run:
    """Register the policy version and golden set, and a pending run over them."""
    concurrency = _allowed_concurrency(get_template(template), concurrency)
    if answer_mode not in ANSWER_MODES:
        raise ConfigError(f"Unknown answer mode {answer_mode!r}; choose one of {', '.join(ANSWER_MODES)}.")
    if concurrency < 1:
        raise ConfigError(f"Concurrency must be at least 1, not {concurrency}.")
    if not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"Threshold must be between 0 and 1, not {threshold}.")
    store.put_policy_version(policy)
    store.put_golden_set(golden)
    run = Run(
        id=new_run_id(), policy_version_id=policy.id, golden_hash=golden.hash, base_url=endpoint.base_url,
        model=endpoint.model, template=template, answer_mode=answer_mode, threshold=threshold,
        concurrency=concurrency, status="pending", n_items=len(golden), created=utc_now(),
    )
    store.create_run(run)
    return run


def execute_run(
    store: Store, run_id: str, endpoint: Endpoint, *, workspace_root: Path, use_cache: bool = True,
    retry: RetryPolicy = RetryPolicy(), retry_errors: bool = False, allow_urls: bool = False,
    concurrency: int | None = None, progress: Callable[[RunProgress], None] | None = None,
    cancel: threading.Event | None = None, replicas: Sequence[tuple[Endpoint, int]] = (),
) -> RunResult:
    """Score every item of the run that has no prediction yet, storing outcomes as they come.

    ``replicas``: more servers of the same model, each with its own concurrency, sharing the
    work; items a failing replica could not score are retried on the others.
    """
    run = store.run(run_id)
    for replica, _ in replicas:
        if replica.model != run.model:
            raise ConfigError(f"Replica {replica.base_url} serves {replica.model!r}, not the run's {run.model!r}.")
    if (endpoint.base_url, endpoint.model) != (run.base_url, run.model):
        raise ConfigError(
            f"Run {run_id} was created for {run.model!r} at {run.base_url}; "
            f"it cannot be continued against {endpoint.model!r} at {endpoint.base_url}."
        )
    if retry_errors:
        store.delete_errors(run_id)
    template = get_template(run.template)
    golden = store.golden_set(run.golden_hash)
    policy = store.policy_version(run.policy_version_id)
    todo = _without(golden.items, store.scored_item_ids(run_id))
    model_info = describe_model(endpoint.base_url, endpoint.model, endpoint.api_key) if len(todo) else None
    plan = budget.plan(endpoint, template, policy.text, todo,
                       max_len=model_info.max_model_len if model_info else None)

    store.mark_run(run_id, "running", pid=os.getpid())
    recorder = _Recorder(store, run, use_cache, progress)
    for item_id, message in plan.refused.items():
        recorder.refuse(item_id, message)
    builder = JobBuilder(
        template, model=run.model, policy=policy.text, answer_mode=run.answer_mode,
        workspace_root=workspace_root, allow_urls=allow_urls,
    )
    jobs = builder.jobs(
        _without(todo, plan.refused), store=store if use_cache else None,
        on_cached=lambda outcome: recorder.accept(outcome, cached=True), on_refused=recorder.refuse,
    )
    cancel = cancel or threading.Event()
    try:
        lanes = [Lane(endpoint.base_url, endpoint.api_key, _allowed_concurrency(template, concurrency or run.concurrency))]
        lanes += [Lane(e.base_url, e.api_key, _allowed_concurrency(template, n)) for e, n in replicas]
        requests = asyncio.run(_drive(recorder, jobs, lanes, template, retry, cancel))
        recorder.finish()
    except BaseException as exc:
        with contextlib.suppress(sqlite3.Error):
            recorder.flush()
        store.mark_run(run_id, "interrupted", error=f"{type(exc).__name__}: {exc}")
        raise
    stored, errors, _ = store.prediction_counts(run_id)
    if stored == run.n_items:
        status, error = "completed", None
    elif recorder.server_down or recorder.store_failed:
        status, error = "interrupted", recorder.server_down or recorder.store_failed
    else:
        status, error = "cancelled", None
    store.mark_run(run_id, status, error=error)
    return RunResult(store.run(run_id), recorder.snapshot(), requests, plan.warnings)


def effective_status(run: Run) -> str:
    """The stored status, except that a 'running' run whose runner is gone is 'interrupted'."""
    if run.status != "running":
        return run.status
    alive = run.runner_pid is not None and pid_alive(run.runner_pid)
    fresh = run.heartbeat is not None and (
        datetime.now(timezone.utc) - datetime.fromisoformat(run.heartbeat)
    ).total_seconds() < HEARTBEAT_STALE_S
    return "running" if alive and fresh else "interrupted"


def new_run_id() -> str:
    return f"run-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


async def _drive(recorder, jobs, lanes, template, retry, cancel) -> int:
    flusher = asyncio.create_task(recorder.flush_periodically())
    try:
        return await run_jobs(
            jobs, lanes=lanes, template=template, retry=retry, on_outcome=recorder.accept,
            should_stop=lambda: cancel.is_set() or bool(recorder.server_down or recorder.store_failed),
        )
    finally:
        flusher.cancel()


class _Recorder:
    """Buffers outcomes and commits them in small batches; tracks progress.

    Items that could not reach the server at all are held back: if the server comes back
    they are stored as errors; if it is down for good the run stops as interrupted and they
    stay unscored, so a resume sends them again instead of keeping a wall of errors.
    """

    def __init__(self, store: Store, run: Run, use_cache: bool, progress):
        self.store, self.run, self.use_cache, self.progress = store, run, use_cache, progress
        self.started = time.perf_counter()
        stored, errors, _ = store.prediction_counts(run.id)
        self.done, self.errors, self.cached, self.sent = stored, errors, 0, 0
        self.rows: list[tuple] = []
        self.cache_rows: list[tuple] = []
        self.unreachable: list[Outcome] = []
        self.server_down: str | None = None
        self.store_failed: str | None = None
        self._unreachable_limit = max(2, run.concurrency)
        self._last_write = time.monotonic()

    def accept(self, outcome: Outcome, *, cached: bool = False) -> None:
        if outcome.unreachable:
            self.unreachable.append(outcome)
            if len(self.unreachable) >= self._unreachable_limit:
                self.server_down = f"server unreachable: {outcome.error}"
            return
        if self.unreachable:  # the server answered someone: those failures were real errors
            held, self.unreachable = self.unreachable, []
            for item in held:
                self._add(replace(item, unreachable=False), cached=False)
        self._add(outcome, cached=cached)

    def refuse(self, item_id: str, message: str) -> None:
        self._add(Outcome(item_id, "", None, message, 0.0), cached=False, sent=False)

    def _add(self, outcome: Outcome, *, cached: bool, sent: bool = True) -> None:
        answer = outcome.answer
        if answer is None:
            self.rows.append((outcome.item_id, None, None, None, outcome.error, outcome.latency_ms, 0))
            self.errors += 1
        else:
            self.rows.append((outcome.item_id, answer.score, answer.hard_label, answer.raw, None,
                              outcome.latency_ms, int(cached)))
            if not cached:
                self.cache_rows.append((outcome.cache_key, answer.score, answer.hard_label, answer.raw))
        self.done += 1
        if cached:
            self.cached += 1
        elif sent:
            self.sent += 1

    def finish(self) -> None:
        """Flush; failures nobody contradicted mean the server is gone, not that items are bad."""
        if self.unreachable and self.server_down is None:
            self.server_down = f"server unreachable: {self.unreachable[-1].error}"
        self.flush()

    async def flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            try:
                self.flush()
            except sqlite3.Error as exc:  # scoring on what cannot be stored would only lose more
                self.store_failed = f"store write failed: {exc}"
                return

    def flush(self) -> None:
        now = time.monotonic()
        if self.rows or self.cache_rows or now - self._last_write > HEARTBEAT_EVERY_S:
            self.store.add_predictions(self.run.id, self.rows, self.cache_rows)  # if it raises, the rows stay
            self.rows, self.cache_rows = [], []
            self._last_write = now
        if self.progress is not None:
            self.progress(self.snapshot())

    def snapshot(self) -> RunProgress:
        return RunProgress(self.run.id, self.run.n_items, self.done, self.errors, self.cached, self.sent,
                           time.perf_counter() - self.started)


def _allowed_concurrency(template: Template, wanted: int) -> int:
    """Zentropi's service fails fast under load; its own client never exceeds 8 at once."""
    return min(wanted, ZENTROPI_MAX_CONCURRENCY) if template.name == "zentropi" else wanted


def _without(items: pd.DataFrame, ids) -> pd.DataFrame:
    """Items whose id is not in ``ids`` (a set lookup: pandas' isin is slow on 1M strings)."""
    if not ids:
        return items
    keep = np.fromiter((item_id not in ids for item_id in items["id"]), dtype=bool, count=len(items))
    return items[keep]
