"""Create, execute, cancel and resume runs. Every outcome is stored as it arrives.

A run is resumable by construction: executing it again sends only the items that have no
stored prediction yet, and the (run, item) primary key makes a second prediction impossible.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..metrics import check_threshold
from ..records import Endpoint, GoldenSet, PolicyVersion, Run
from ._concurrency import CEILING, START, ConcurrencyController
from ._http_client import check_concurrency, max_concurrency
from ._jobs import AnswerSource, JobBuilder
from . import _budget as budget
# effective_status lives in run_status; modules that take it from the runner still find it here.
from ..store import Store, effective_status, refuse_if_being_scored, scoring_here, utc_now
from ._answers import AnswerError, checked_score
from ._server_info import ModelInfo, describe_model
from ._templates import ANSWER_MODES, Template, get_template
from ._transport import Lane, Outcome, RetryPolicy, run_jobs

FLUSH_EVERY_S = 0.25
HEARTBEAT_EVERY_S = 5.0
PROGRESS_EVERY_S = 1.0
"""How often an execution writes its progress to the store, for other processes (the app) to show."""
AUTO = "auto"
"""A concurrency that adapts to the server (``_concurrency``) instead of a fixed number."""


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
    concurrency: tuple[int, ...] = ()
    """With adaptive concurrency, the requests each server may have in flight now (the run's
    endpoint first, then its replicas); empty when fixed."""

    @classmethod
    def from_dict(cls, fields: dict) -> "RunProgress":
        """The snapshot ``dataclasses.asdict`` gave (as the store keeps it, ``Store.run_progress``)."""
        return cls(**{**fields, "concurrency": tuple(fields.get("concurrency", ()))})

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
    answer_mode: str = "logprobs", threshold: float = 0.5, concurrency: int | str = AUTO,
) -> Run:
    """Register the policy version and golden set, and a pending run over them.

    ``concurrency``: requests in flight per server, a number, or ``"auto"`` (adaptive: the run
    records the cap, the template's ``max_concurrency`` or ``CEILING``, and its limit adapts)."""
    _check_level(concurrency)
    adaptive = concurrency == AUTO
    concurrency = _auto_cap(get_template(template)) if adaptive else _allowed_concurrency(get_template(template), concurrency)
    if answer_mode not in ANSWER_MODES:
        raise ConfigError(f"Unknown answer mode {answer_mode!r}; choose one of {', '.join(ANSWER_MODES)}.")
    check_concurrency(concurrency)
    threshold = check_threshold(threshold)
    store.put_policy_version(policy)
    store.put_golden_set(golden)
    run = Run(
        id=new_run_id(), policy_version_id=policy.id, golden_hash=golden.hash, base_url=endpoint.base_url,
        model=endpoint.model, template=template, answer_mode=answer_mode, threshold=threshold,
        concurrency=concurrency, status="pending", n_items=len(golden), created=utc_now(), adaptive=adaptive,
    )
    store.create_run(run)
    return run


def execute_run(
    store: Store, run_id: str, endpoint: Endpoint, *, workspace_root: Path, use_cache: bool = True,
    retry: RetryPolicy = RetryPolicy(), retry_errors: bool = False, allow_urls: bool = False,
    concurrency: int | str | None = None, progress: Callable[[RunProgress], None] | None = None,
    cancel: threading.Event | None = None, replicas: Sequence[tuple[Endpoint, int | str]] = (),
) -> RunResult:
    """Score every item of the run that has no prediction yet, storing outcomes as they come.

    ``concurrency``: a number or ``"auto"`` for this execution; None: the run's own (its
    ``concurrency``, or adaptive within it when the run is ``adaptive``).
    ``replicas``: more servers of the same model, each with its own concurrency, sharing the
    work; items a failing replica could not score are retried on the others. Adaptive servers
    each get their own controller.

    Refused with a ConfigError before any item is sent, the stored run unchanged: another
    endpoint or model than the run's; a run a live process is scoring (``run_status``);
    servers reporting different checkpoints; a checkpoint other than the one the run recorded
    (see ``_checkpoint``).
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
    refuse_if_being_scored(run)
    if concurrency is None:
        concurrency = AUTO if run.adaptive else run.concurrency
    template = get_template(run.template)
    levels = _levels(template, run, [concurrency, *(n for _, n in replicas)])
    check_concurrency(*levels)  # before the run is claimed
    golden = store.golden_set(run.golden_hash)
    policy = store.policy_version(run.policy_version_id)
    todo = _without(golden.items, store.scored_item_ids(run_id, errors=not retry_errors))  # to plan; see _score
    servers = [endpoint, *(replica for replica, _ in replicas)]
    described = len(todo) > 0 and template.describes_model
    infos = [describe_model(s.base_url, s.model, s.api_key) for s in servers] if described else []
    checkpoint = _checkpoint(run, servers, infos)
    plan = budget.plan(endpoint, template, policy.text, todo,
                       max_len=infos[0].max_model_len if infos and infos[0] else None)
    builder = JobBuilder(
        template, model=run.model, policy=policy.text, answer_mode=run.answer_mode,
        workspace_root=workspace_root, allow_urls=allow_urls,
        source=AnswerSource(run.base_url, run.model, checkpoint),
    )

    with store.atomic():  # one runner at a time, even when two start together
        refuse_if_being_scored(store.run(run_id))
        if retry_errors:
            store.delete_errors(run_id)
        store.mark_run(run_id, "running", pid=os.getpid(), checkpoint=checkpoint)
    with scoring_here(run_id):
        lanes = _lanes(template, endpoint, replicas, levels, adaptive=[concurrency == AUTO, *(n == AUTO for _, n in replicas)])
        try:
            return _score(store, run, builder, golden.items, plan, lanes=lanes, use_cache=use_cache, retry=retry,
                          progress=progress, cancel=cancel or threading.Event())
        except BaseException as exc:
            store.mark_run(run_id, "interrupted", error=f"{type(exc).__name__}: {exc}")
            raise


def _score(store: Store, run: Run, builder: JobBuilder, items: pd.DataFrame, plan: budget.BudgetPlan, *,
           lanes: list[Lane], use_cache: bool, retry: RetryPolicy, progress, cancel: threading.Event) -> RunResult:
    """The execution proper, once this process has claimed the run: what is sent is read after
    the claim, so items a runner stored just before it are not sent again."""
    stored = store.scored_item_ids(run.id)
    todo = _without(items, stored)
    recorder = _Recorder(store, run, use_cache, progress, lanes)
    for item_id, message in plan.refused.items():
        if item_id not in stored:
            recorder.refuse(item_id, message)
    jobs = builder.jobs(
        _without(todo, plan.refused), store=store if use_cache else None,
        on_cached=lambda outcome: recorder.accept(outcome, cached=True), on_refused=recorder.refuse,
    )
    try:
        requests = asyncio.run(_drive(recorder, jobs, lanes, builder.template, retry, cancel))
        recorder.finish()
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            recorder.flush()
        raise
    stored, errors, _ = store.prediction_counts(run.id)
    if stored == run.n_items:
        status, error = "completed", None
    elif recorder.server_down or recorder.store_failed:
        status, error = "interrupted", recorder.server_down or recorder.store_failed
    else:
        status, error = "cancelled", None
    store.mark_run(run.id, status, error=error, settled_concurrency=_settled(lanes))
    return RunResult(store.run(run.id), recorder.snapshot(), requests, plan.warnings)


def _levels(template: Template, run: Run, wanted: list[int | str]) -> list[int]:
    """Requests in flight at most per server, in order: a fixed number as asked (capped by the
    template when the lanes are built); ``"auto"``: the run's cap (its ``concurrency`` when it is
    adaptive, else the template's), shared out so that every server's connections fit."""
    for n in wanted:
        _check_level(n)
    auto = [n for n in wanted if n == AUTO]
    if not auto:
        return list(wanted)
    cap = run.concurrency if run.adaptive else _auto_cap(template)
    room = max_concurrency() - sum(n for n in wanted if n != AUTO)
    share = max(1, min(cap, room // len(auto)))
    return [share if n == AUTO else n for n in wanted]


def _lanes(template: Template, endpoint: Endpoint, replicas: Sequence[tuple[Endpoint, int | str]],
           levels: list[int], *, adaptive: list[bool]) -> list[Lane]:
    """One lane per server; an adaptive one with a controller of its own."""
    servers = [endpoint, *(replica for replica, _ in replicas)]
    return [Lane(s.base_url, s.api_key, n, ConcurrencyController(cap=n, now=time.monotonic())) if auto
            else Lane(s.base_url, s.api_key, _allowed_concurrency(template, n))
            for s, n, auto in zip(servers, levels, adaptive)]


def _settled(lanes: Sequence[Lane]) -> int | None:
    """The requests in flight an adaptive execution settled on, over its servers; None when fixed."""
    controllers = [lane.controller for lane in lanes if lane.controller is not None]
    now = time.monotonic()
    return sum(c.settled(now) for c in controllers) if controllers else None


def _checkpoint(run: Run, servers: Sequence[Endpoint], infos: Sequence[ModelInfo | None]) -> str | None:
    """The checkpoint answering this execution, from what ``servers`` (the run's endpoint, then
    its replicas) report; ``infos`` is empty when there is nothing to send.

    Servers that report one must report the same; one that says nothing (not vLLM, or not
    answering ``/models``) is taken to serve the others'. A run that recorded a checkpoint
    continues only when a server confirms it: weights changed by a redeploy, or that cannot be
    confirmed, would mix two models' answers in one run. A run with none recorded (never
    scored against a server that said) takes the one reported now.
    """
    if not infos:
        return None
    reported = [(server.base_url, info.root) for server, info in zip(servers, infos) if info and info.root]
    if not reported:
        if run.checkpoint is not None:
            raise ConfigError(
                f"Run {run.id} was scored by checkpoint {run.checkpoint!r}, but {run.base_url} does not say which "
                f"checkpoint it serves now (is it up?); the run continues only when its server confirms the same "
                "weights.")
        return None
    first_url, now = reported[0]
    for url, root in reported[1:]:
        if root != now:
            raise ConfigError(f"Replica {url} serves checkpoint {root!r} of {run.model!r}, but {first_url} serves "
                              f"{now!r}; one run must not mix weights: leave that replica out.")
    if run.checkpoint is not None and now != run.checkpoint:
        raise ConfigError(
            f"Run {run.id} was scored by checkpoint {run.checkpoint!r}, but {first_url} now serves {now!r} as "
            f"{run.model!r}; one run must not mix weights: start a new run for the new checkpoint.")
    return now


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

    def __init__(self, store: Store, run: Run, use_cache: bool, progress, lanes: Sequence[Lane] = ()):
        self.store, self.run, self.use_cache, self.progress = store, run, use_cache, progress
        self.controllers = [lane.controller for lane in lanes if lane.controller is not None]
        self.started = time.perf_counter()
        stored, errors, _ = store.prediction_counts(run.id)
        self.done, self.errors, self.cached, self.sent = stored, errors, 0, 0
        self.rows: list[tuple] = []
        self.cache_rows: list[tuple] = []
        self.unreachable: list[Outcome] = []
        self.server_down: str | None = None
        self.store_failed: str | None = None
        self._unreachable_limit = max(2, min(run.concurrency, START) if run.adaptive else run.concurrency)
        self._last_write = time.monotonic()
        self._last_progress = -math.inf

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
        if answer is not None:  # whatever produced it, no reply may fail a store write
            try:
                checked_score(answer.score)
            except AnswerError as exc:
                outcome, answer = replace(outcome, answer=None, error=str(exc)), None
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
        self.flush(final=True)

    async def flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            try:
                self.flush()
            except sqlite3.Error as exc:  # scoring on what cannot be stored would only lose more
                self.store_failed = f"store write failed: {exc}"
                return

    def flush(self, *, final: bool = False) -> None:
        """Store the outcomes held; about once a second (and at the end), the progress too."""
        now = time.monotonic()
        if self.rows or self.cache_rows or now - self._last_write > HEARTBEAT_EVERY_S:
            self.store.add_predictions(self.run.id, self.rows, self.cache_rows)  # if it raises, the rows stay
            self.rows, self.cache_rows = [], []
            self._last_write = now
        snapshot = self.snapshot()
        if final or now - self._last_progress >= PROGRESS_EVERY_S:
            self.store.record_progress(self.run.id, asdict(snapshot))
            self._last_progress = now
        if self.progress is not None:
            self.progress(snapshot)

    def snapshot(self) -> RunProgress:
        return RunProgress(self.run.id, self.run.n_items, self.done, self.errors, self.cached, self.sent,
                           time.perf_counter() - self.started, tuple(c.limit for c in self.controllers))


def _check_level(concurrency) -> None:
    if isinstance(concurrency, str) and concurrency != AUTO:
        raise ConfigError(f"Concurrency must be {AUTO!r} or a whole number, not {concurrency!r}.")


def _auto_cap(template: Template) -> int:
    """An adaptive run's cap: the template's ``max_concurrency``, else ``CEILING``; never more
    connections than the process can open."""
    return min(_allowed_concurrency(template, CEILING), max_concurrency())


def _allowed_concurrency(template: Template, wanted: int) -> int:
    """``wanted``, capped at the template's ``max_concurrency`` when it has one."""
    return wanted if template.max_concurrency is None else min(wanted, template.max_concurrency)


def _without(items: pd.DataFrame, ids) -> pd.DataFrame:
    """Items whose id is not in ``ids`` (a set lookup: pandas' isin is slow on 1M strings)."""
    if not ids:
        return items
    keep = np.fromiter((item_id not in ids for item_id in items["id"]), dtype=bool, count=len(items))
    return items[keep]
