"""Runs that keep going in the background of a long-lived process (the web app).

A page starts a run and returns; the run's thread keeps scoring whether or not any browser
tab is open, and every outcome is in the store as it arrives. Pages read progress from here
(live) or from the store (after a restart, when the run shows as interrupted).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..insight import execute_study
from ..records import Endpoint, Run
from ..scoring import RunProgress, RunResult, execute_run
from ..store import Store, effective_status


@dataclass
class _Job:
    thread: threading.Thread
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: RunProgress | None = None
    result: RunResult | None = None
    error: str | None = None


class RunManager:
    """Executes runs in daemon threads; one thread per run at most."""

    def __init__(self, private_dir: Path, workspace_root: Path):
        self.private_dir, self.workspace_root = Path(private_dir), Path(workspace_root)
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def start(self, run_id: str, endpoint: Endpoint, **options) -> bool:
        """Start (or resume) ``run_id``; False when it is already running here."""
        return self._start(run_id, self._execute, endpoint, options)

    def start_study(self, study_id: str, endpoint: Endpoint, **options) -> bool:
        """Start (or resume) every variant run of ``study_id`` in one thread, one run at a time;
        ``progress(study_id)`` is then a ``StudyProgress``. False when it is already running here."""
        return self._start(study_id, self._execute_study, endpoint, options)

    def _start(self, key: str, target, endpoint: Endpoint, options: dict) -> bool:
        with self._lock:
            if self.is_active(key):
                return False
            job = _Job(thread=threading.Thread(target=target, args=(key, endpoint, options),
                                               name=f"cope-eval {key}", daemon=True))
            self._jobs[key] = job
            job.thread.start()
            return True

    def cancel(self, run_id: str) -> None:
        job = self._jobs.get(run_id)
        if job is not None:
            job.cancel.set()

    def is_active(self, run_id: str) -> bool:
        job = self._jobs.get(run_id)
        return job is not None and job.thread.is_alive()

    def status(self, run: Run) -> str:
        """The app's one rule for a run's status: ``running`` from the moment a thread here starts
        it (before it has claimed the run in the store), else ``run_status.effective_status``."""
        return "running" if self.is_active(run.id) else effective_status(run)

    def progress(self, run_id: str) -> RunProgress | None:
        job = self._jobs.get(run_id)
        return job.progress if job else None

    def error(self, run_id: str) -> str | None:
        """Why the last execution of ``run_id`` in this process failed, if it did."""
        job = self._jobs.get(run_id)
        return job.error if job else None

    def wait(self, run_id: str, timeout_s: float | None = None) -> RunResult | None:
        job = self._jobs.get(run_id)
        if job is None:
            return None
        job.thread.join(timeout_s)
        return job.result

    def _execute(self, run_id: str, endpoint: Endpoint, options: dict) -> None:
        job = self._jobs[run_id]

        def record(progress: RunProgress) -> None:
            job.progress = progress

        try:
            with Store(self.private_dir) as store:  # its own connection: sqlite3 objects stay in their thread
                job.result = execute_run(store, run_id, endpoint, workspace_root=self.workspace_root,
                                         progress=record, cancel=job.cancel, **options)
                job.progress = job.result.progress
        except Exception as exc:  # surfaced to the page; the store already marked the run
            job.error = f"{type(exc).__name__}: {exc}"

    def _execute_study(self, study_id: str, endpoint: Endpoint, options: dict) -> None:
        job = self._jobs[study_id]

        def record(progress) -> None:
            job.progress = progress

        try:
            with Store(self.private_dir) as store:
                execute_study(store, study_id, endpoint, workspace_root=self.workspace_root,
                              progress=record, cancel=job.cancel, **options)
        except Exception as exc:  # surfaced to the page; each run's status is already stored
            job.error = f"{type(exc).__name__}: {exc}"
