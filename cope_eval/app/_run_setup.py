"""What the Evaluate page does with runs: start them, follow them, resume them. Each function
is one user action; the page holds only ids.

Runs execute in worker processes (``RunManager``), so they keep going when the browser tab
closes or the app restarts; every outcome and the worker's progress are in the store as they
arrive, so any app shows them, and a run whose worker died shows as interrupted and resumes from
where it stopped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from ..errors import ConfigError, CopeEvalError
from ..records import Endpoint, PolicyVersion, Run, short_id
from ..scoring import AUTO, RunProgress, create_run
from ..store import Store
from ._background import RunManager
from ._run_picker import version_namer

RESUMABLE = ("pending", "interrupted", "cancelled", "failed")
"""Statuses a run can be continued from."""
RESUME_ALL = ("interrupted",)
"""Statuses "Resume all" continues: what a restart, a killed worker or a server that went away
leaves (the runner marks those ``interrupted``). A run the analyst cancelled stays stopped on
purpose, and a pending or failed one is left for its own Resume on Evaluate."""


@dataclass(frozen=True)
class RunView:
    """How one run stands right now, for a progress bar."""

    run: Run
    """The run as stored."""
    status: str
    """``RunManager.status``: ``store.effective_status``, and ``running`` from the moment this app
    starts a worker for it."""
    done: int
    """Items with a stored prediction (errors included)."""
    errors: int
    """Stored predictions that are errors."""
    rate: float | None
    """Items per second in the run's latest execution; None when there was none."""
    eta_s: float | None
    """Seconds left at that rate while it runs here; None when unknown or not running."""
    active: bool
    """True while a live process scores it (cancel is possible)."""
    failure: str | None
    """Why this app's last worker for it failed, or the stored error."""
    in_flight: tuple[int, ...] = ()
    """For an adaptive run being scored: the requests each server may have in flight now."""

    @property
    def fraction(self) -> float:
        """Share of items done, in [0, 1]; 1.0 for an empty run."""
        return min(1.0, self.done / self.run.n_items) if self.run.n_items else 1.0

    @property
    def resumable(self) -> bool:
        return not self.active and self.status in RESUMABLE

    def summary(self) -> str:
        """``7 / 10 items · 1 error · 9.8 items/s · ETA 1 s``."""
        parts = [f"{self.done:,} / {self.run.n_items:,} items", f"{self.errors:,} error{'s' * (self.errors != 1)}"]
        if self.rate is not None:
            parts.append(f"{self.rate:.1f} items/s")
        if self.active:
            parts.append(f"ETA {format_seconds(self.eta_s)}")
        parts.append(self.concurrency())
        return " · ".join(parts)

    def concurrency(self) -> str:
        """How many requests the run keeps in flight: ``concurrency 16 (fixed)``, ``concurrency auto:
        48 now``, ``concurrency auto, settled at 48``, or ``concurrency auto (at most 512)``."""
        if not self.run.adaptive:
            return f"concurrency {self.run.concurrency} (fixed)"
        if self.active and self.in_flight:
            return f"concurrency auto: {' + '.join(map(str, self.in_flight))} now"
        if self.run.settled_concurrency is not None:
            return f"concurrency auto, settled at {self.run.settled_concurrency}"
        return f"concurrency auto (at most {self.run.concurrency})"


def start_runs(store: Store, manager: RunManager, *, versions: Sequence[PolicyVersion], golden_hash: str,
               endpoint: Endpoint, template: str, answer_mode: str, concurrency: int | None,
               author: str | None = None) -> list[Run]:
    """Create one run per policy version over the golden set and start them in the background;
    ``concurrency`` None is adaptive ("auto"), a number fixes it. ``author`` (the signed-in user;
    None with sign-in off) is recorded on each run, so their next session follows it."""
    if not versions:
        raise ConfigError("Choose at least one policy version to run.")
    golden = store.golden_set(golden_hash)
    runs = [create_run(store, policy=v, golden=golden, endpoint=endpoint, template=template,
                       answer_mode=answer_mode, concurrency=AUTO if concurrency is None else int(concurrency))
            for v in versions]
    for run in runs:
        if author is not None:
            store.set_run_author(run.id, author)
        manager.start(run.id, endpoint)
    return runs


def resume_run(store: Store, manager: RunManager, run_id: str, endpoint: Endpoint | None) -> Run:
    """Continue a stopped run against the server and model it was created for.

    The session's API key goes along only when the session uses that same server.
    """
    run = store.run(run_id)
    status = run_view(store, manager, run_id).status
    if status not in RESUMABLE:
        raise ConfigError(f"Run {run_id} is {status}; only a stopped run can be resumed.")
    same_server = endpoint is not None and endpoint.base_url == run.base_url
    target = Endpoint(run.base_url, run.model, endpoint.api_key if same_server else None)
    manager.start(run_id, target)
    return run


@dataclass(frozen=True)
class InterruptedRun:
    """A run that stopped without being asked to, as the Workspace page lists it."""

    run_id: str
    version: str
    """The policy version's title (``version_title``)."""
    golden_set: str
    """The golden set's name."""
    stored: int
    """Items with a stored prediction (errors included)."""
    n_items: int
    stopped: str
    """ISO time its runner last wrote (when it stopped), else when it was created."""


def interrupted_runs(store: Store, manager: RunManager) -> list[InterruptedRun]:
    """The runs "Resume all" would continue (status in ``RESUME_ALL`` for this app), newest first;
    study variants are left out (their study resumes them)."""
    names = dict(zip(*(store.golden_sets(study_subsets=True)[c] for c in ("hash", "name"))))
    name = version_namer(store)
    out = []
    for run in reversed(store.runs(variants=False)):
        if manager.status(run) not in RESUME_ALL:
            continue
        stored, _, _ = store.prediction_counts(run.id)
        out.append(InterruptedRun(run.id, name(store.policy_version(run.policy_version_id)),
                                  names.get(run.golden_hash, short_id(run.golden_hash)), stored, run.n_items,
                                  run.heartbeat or run.created))
    return out


def interrupted_frame(runs: Sequence[InterruptedRun], now: datetime) -> pd.DataFrame:
    """The Workspace page's table of interrupted runs, times in the reader's words."""
    from ._workspace_summary import ago

    return pd.DataFrame([(r.run_id, r.version, r.golden_set, f"{r.stored:,} / {r.n_items:,}", ago(r.stopped, now))
                         for r in runs], columns=["run", "policy version", "golden set", "stored", "stopped"])


@dataclass(frozen=True)
class Resumed:
    """What "Resume all" did with one run."""

    run_id: str
    error: str | None = None
    """Why it was not resumed, in the analyst's words; None when its worker was started."""


def resume_all(store: Store, manager: RunManager, run_ids: Sequence[str], endpoint: Endpoint | None) -> list[Resumed]:
    """Resume each of ``run_ids`` (``resume_run``: each against its own server, the session's key only
    there); a run that cannot be resumed gets its error and the others are still resumed. A run
    whose golden set's stored copy is gone is refused here, before a worker would fail on it."""
    out = []
    for run_id in run_ids:
        try:
            _golden_copy(store, store.run(run_id))
            resume_run(store, manager, run_id, endpoint)
        except CopeEvalError as exc:
            out.append(Resumed(run_id, str(exc)))
        else:
            out.append(Resumed(run_id))
    return out


def _golden_copy(store: Store, run: Run) -> None:
    """Raise ConfigError when the run's golden set has no stored copy to score from (checked on
    disk, without reading a million items)."""
    names = store.golden_sets(study_subsets=True).set_index("hash")["name"]
    if run.golden_hash not in names.index:
        raise ConfigError(f"Golden set {short_id(run.golden_hash)} is no longer in this workspace's store.")
    if not store.has_golden_copy(run.golden_hash):
        raise ConfigError(f"The stored copy of golden set {names[run.golden_hash]!r} is missing; add the golden "
                          "set's file again on Golden sets: the same items restore this very set.")


def run_view(store: Store, manager: RunManager, run_id: str) -> RunView:
    """The run's status and progress as the store has them, whichever process scores it."""
    run = store.run(run_id)
    done, errors, _ = store.prediction_counts(run_id)
    status = manager.status(run)
    active = status == "running"
    progress = stored_progress(store, run_id)
    rate = progress.rate if progress is not None else None
    eta = progress.eta_s if progress is not None and active else None
    in_flight = progress.concurrency if progress is not None and active else ()
    return RunView(run, status, done, errors, rate, eta, active, manager.error(run_id) or run.error, in_flight)


def stored_progress(store: Store, run_id: str) -> RunProgress | None:
    """The run's latest execution's progress as its runner last stored it; None before any."""
    fields = store.run_progress(run_id)
    return None if fields is None else RunProgress.from_dict(fields)


def runs_overview(store: Store, manager: RunManager, *, limit: int = 200) -> pd.DataFrame:
    """The newest ``limit`` runs with live status and counts (``views.runs_table``); study
    variants are left out (the Insight page shows them with their study)."""
    runs = _listed(store, limit)
    statuses = {r.id: manager.status(r) for r in runs}  # run_view's status, without its counts and progress
    counts = {r.id: store.prediction_counts(r.id) for r in runs}
    golden = store.golden_sets()
    names = dict(zip(golden["hash"], golden["name"]))
    versions = {vid: store.policy_version(vid) for vid in {r.policy_version_id for r in runs}}
    name = version_namer(store, short=True)
    return runs_table(runs, statuses=statuses, counts=counts, golden_names=names,
                      policies={vid: v.policy for vid, v in versions.items()},
                      versions={vid: name(v) for vid, v in versions.items()})


def run_statuses(store: Store, manager: RunManager, *, limit: int = 200) -> dict[str, str]:
    """Run id -> status of the runs ``runs_overview`` lists, newest first: its first two columns,
    without its counts, golden-set names and versions."""
    return {r.id: manager.status(r) for r in reversed(_listed(store, limit))}


def _listed(store: Store, limit: int) -> list[Run]:
    """The runs the Evaluate page lists: the newest ``limit``, study variants left out."""
    return store.runs(variants=False)[-limit:]


def runs_table(runs: Sequence[Run], *, statuses: dict[str, str], counts: dict[str, tuple[int, int, int]],
               golden_names: dict[str, str], policies: dict[str, str],
               versions: dict[str, str] | None = None) -> pd.DataFrame:
    """Newest run first, with its live status, how far it got, and who answered it (server and the
    checkpoint it reported). ``versions`` names a run's policy version (``v3 · 3f2a9b0c``); a
    version not in it is named by its hash."""
    versions = {} if versions is None else versions
    rows = []
    for run in reversed(list(runs)):
        done, errors, cached = counts.get(run.id, (0, 0, 0))
        rows.append({
            "run": run.id, "status": statuses.get(run.id, run.status),
            "policy": policies.get(run.policy_version_id, ""), "version": versions.get(run.policy_version_id, short_id(run.policy_version_id, 8)),
            "golden set": golden_names.get(run.golden_hash, short_id(run.golden_hash)),
            "model": run.model, "server": run.base_url, "checkpoint": run.checkpoint or "not reported",
            "template": run.template, "done": done, "items": run.n_items,
            "errors": errors, "cached": cached, "created": run.created,
        })
    columns = ["run", "status", "policy", "version", "golden set", "model", "server", "checkpoint", "template",
               "done", "items", "errors", "cached", "created"]
    return pd.DataFrame(rows, columns=columns)


def format_seconds(seconds: float | None) -> str:
    """``42 s``, ``3 min 5 s``, ``2 h 10 min``; an em dash when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"
