"""Runs the app starts execute in worker processes: ``python -m cope_eval resume ID``, the CLI.

A page starts a run (or a study's variant runs) and returns; the worker scores it on the CLI's own
path, in its own process, so it runs at the CLI's rate whatever the pages are drawing, and keeps
going when the browser tab closes or the app restarts (it is started in a session of its own).
Everything the app shows of it comes from the store, which any process can read: each
prediction as it is stored, the worker's progress about once a second (``Store.run_progress``),
and whether it is alive (``store.run_state``: its pid and heartbeat). So a restarted app, or a
second app on the same workspace, shows the run running, with its progress, and can cancel it.

Two processes never execute one run: a worker claims the run in the store atomically before it
sends anything, and a second one (another app's, or a terminal's ``resume``) is refused there.

Workers are forked from a server that has imported what they use (``_util.fork_server``: about
0.8 CPU-s of imports each, otherwise), with a plain process where it cannot fork.

Cancel sends the worker SIGTERM; it stops between answers and marks the run ``cancelled``
(``cli._stop``). Each worker's output goes to a log of its own,
``<private dir>/workers/<id>-<start time>.log``; when it exits with an error, the log's last line
is why (``error``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .._util.fork_server import Forked, ForkServer
from ..config import Workspace
from ..insight import STUDY_ID_PREFIX
from ..records import Endpoint, Run
from ..store import Store, effective_status, run_state

WORKER_KEY_ENV = "COPE_WORKER_API_KEY"
"""The environment variable that hands a worker its server's key (never its command line)."""
STOPPED_OK = (0, 130)
"""Worker exit statuses that are not failures: done, or stopped on request (``cli._stop``)."""
WORKER_PRELOAD = ("cope_eval.cli._run", "cope_eval.cli._studies", "cope_eval.store", "cope_eval.scoring",
                  "cope_eval.metrics", "cope_eval.insight")
"""What ``python -m cope_eval resume`` imports before it scores: the fork server's imports."""
_FORK_SERVER = ForkServer(WORKER_PRELOAD, "cope_eval.cli:main") if hasattr(os, "fork") else None
"""One per app process, started at its first run."""


@dataclass(frozen=True)
class _Worker:
    process: subprocess.Popen | Forked
    log: Path


class RunManager:
    """Starts, follows and cancels the worker processes of one workspace's runs and studies."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.logs_dir = workspace.private_dir / "workers"
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()

    def start(self, run_id: str, endpoint: Endpoint) -> bool:
        """Start (or resume) ``run_id`` in a worker; False when a worker of this app has it."""
        return self._spawn(run_id, endpoint)

    def start_study(self, study_id: str, endpoint: Endpoint) -> bool:
        """Start (or resume) every variant run of ``study_id`` in one worker, one run at a time;
        False when a worker of this app has it."""
        return self._spawn(study_id, endpoint)

    def _spawn(self, key: str, endpoint: Endpoint) -> bool:
        with self._lock:
            if self.is_active(key):
                return False
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            env = {**os.environ, "COPE_EVAL_HOME": str(self.workspace.root), WORKER_KEY_ENV: endpoint.api_key or "",
                   "PYTHONUNBUFFERED": "1"}
            log_path = self.logs_dir / f"{key}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S.%f}.log"
            argv = ["resume", key, "--api-key-env", WORKER_KEY_ENV]
            process = None if _FORK_SERVER is None else _FORK_SERVER.start(argv, env=env, log=log_path)
            if process is None:
                with open(log_path, "ab") as log:
                    process = subprocess.Popen(
                        [sys.executable, "-m", "cope_eval", *argv], stdin=subprocess.DEVNULL, stdout=log,
                        stderr=subprocess.STDOUT, env=env,
                        start_new_session=True,  # not stopped with the app: Ctrl-C or a restart leaves it scoring
                    )
            self._workers[key] = _Worker(process, log_path)
            return True

    def log_path(self, key: str) -> Path | None:
        """The log of this app's latest worker for ``key``; None when it started none."""
        worker = self._workers.get(key)
        return None if worker is None else worker.log

    def cancel(self, key: str) -> None:
        """Ask the worker scoring a run or study to stop (SIGTERM): this app's worker, else the
        live process the store names (a worker of an earlier app, or a terminal's run)."""
        if self.is_active(key):
            self._workers[key].process.send_signal(signal.SIGTERM)
            return
        pid = self._scored_by(key)
        if pid is not None and pid != os.getpid():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass  # it ended meanwhile

    def _scored_by(self, key: str) -> int | None:
        with Store(self.workspace.private_dir) as store:
            ids = [m.run_id for m in store.study(key).runs] if key.startswith(STUDY_ID_PREFIX) else [key]
            return next((pid for run_id in ids if (pid := run_state(store.run(run_id)).scored_by) is not None), None)

    def is_active(self, key: str) -> bool:
        """True while a worker this app started for ``key`` is alive."""
        worker = self._workers.get(key)
        return worker is not None and worker.process.poll() is None

    def status(self, run: Run) -> str:
        """The app's one rule for a run's status: ``running`` from the moment this app starts a worker
        for it (before the worker has claimed it in the store), else ``store.effective_status``."""
        stored = effective_status(run)
        return "running" if stored != "completed" and self.is_active(run.id) else stored

    def error(self, key: str) -> str | None:
        """Why this app's last worker for ``key`` failed (its log's last line), if it did."""
        worker = self._workers.get(key)
        if worker is None or worker.process.poll() is None or worker.process.returncode in STOPPED_OK:
            return None
        lines = worker.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        last = lines[-1].strip() if lines else ""
        return last.removeprefix("error: ") or f"the worker exited with status {worker.process.returncode}"

    def wait(self, key: str, timeout_s: float | None = None) -> int | None:
        """Wait for this app's worker for ``key`` to exit; its exit status, None when there is none."""
        worker = self._workers.get(key)
        return None if worker is None else worker.process.wait(timeout_s)
