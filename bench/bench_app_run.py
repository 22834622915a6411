"""Benchmark 11, app-started runs: a run started in the app scores at the CLI's rate.

The instant server (tests/stub_server.py in another process, on the server core) answers every
run. Each run is new (its items differ from every other run's, so no answer comes from the cache)
and uses the default settings (adaptive concurrency). Its rate is the *in-run* rate its runner
stored (``Store.run_progress``: items stored per second of its execution, start-up left out).

In the same run, over ``rounds`` rounds (the best of each kept: other work only slows a client):
- the baseline, the CLI: ``python -m cope_eval resume RUN`` in its own process, on the client
  core, nothing else running;
- the app: ``RunManager.start`` (what Evaluate's Start does) while the app process renders the
  Evaluate page (AppTest, the whole page, once a second, as the page refreshes while a run is
  live). The worker process is on the client core; the app process, as any other process of the
  machine, on the other core (shared with the server);
- the old way, for reference: ``execute_run`` in a thread of the app process (what the app did
  before workers), its page renders sharing that process and its GIL, all on the client core.

Issue 17's target: the app-started run at least 0.9x the CLI's in-run rate.

    .venv/bin/python bench/bench_app_run.py [--items 30000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from _harness import CLIENT_CORE, REPO_ROOT, SERVER_CORE, BenchResult, InstantServer, can_pin, environment
from bench_scoring import POLICY, texts

from cope_eval.app import RunManager
from cope_eval.config import Workspace
from cope_eval.records import Endpoint
from cope_eval.scoring import RunProgress, create_run, execute_run
from cope_eval.store import Store
from tests.factories import make_golden

TARGET_RATIO = 0.9
RENDER_EVERY_S = 1.0
"""How often the Evaluate page redraws while a run is live (its fragment's ``run_every``)."""
APP = REPO_ROOT / "app.py"


@contextmanager
def on_core(core: int | None):
    """This process on ``core`` (None: every core) inside, then back on the cores it had."""
    if not can_pin():
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)) if core is None else {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


class Workbench:
    """A temporary workspace with a store, and new runs over new items against one server."""

    def __init__(self, root: Path, base_url: str):
        self.workspace = Workspace(root).ensure()
        self.endpoint = Endpoint(base_url, "stub")
        self._made = 0

    def new_run(self, n: int) -> str:
        self._made += 1
        golden = make_golden(texts=texts(n, prefix=f"run {self._made} post"))
        with Store(self.workspace.private_dir) as store:
            return create_run(store, policy=POLICY, golden=golden, endpoint=self.endpoint).id

    def rate(self, run_id: str) -> float:
        """The run's in-run rate, as its runner stored it; the run must be complete."""
        with Store(self.workspace.private_dir) as store:
            run = store.run(run_id)
            assert run.status == "completed" and store.prediction_counts(run_id)[:2] == (run.n_items, 0), run
            return RunProgress.from_dict(store.run_progress(run_id)).rate


def cli(bench: Workbench, n: int) -> float:
    run_id = bench.new_run(n)
    with on_core(CLIENT_CORE):
        subprocess.run([sys.executable, "-m", "cope_eval", "resume", run_id], check=True,
                       env={**os.environ, "COPE_EVAL_HOME": str(bench.workspace.root)},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return bench.rate(run_id)


def rendering(bench: Workbench, done) -> int:
    """Render the Evaluate page every RENDER_EVERY_S until ``done()``; the renders made."""
    from streamlit.testing.v1 import AppTest

    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    renders = 0
    with environment(COPE_EVAL_HOME=str(bench.workspace.root), COPE_BASE_URL=bench.endpoint.base_url,
                     COPE_MODEL=bench.endpoint.model):
        at = AppTest.from_file(str(APP), default_timeout=120).run()
        at.switch_page("pages/evaluate.py")
        while not done():
            started = time.monotonic()
            at.run()
            assert not at.exception, at.exception
            renders += 1
            time.sleep(max(0.0, RENDER_EVERY_S - (time.monotonic() - started)))
    return renders


def app_worker(bench: Workbench, n: int) -> tuple[float, int]:
    run_id = bench.new_run(n)
    manager = RunManager(bench.workspace)
    with on_core(CLIENT_CORE):
        manager.start(run_id, bench.endpoint)  # the worker keeps the client core
    with on_core(SERVER_CORE):
        renders = rendering(bench, lambda: not manager.is_active(run_id))
    assert manager.wait(run_id) == 0, manager.error(run_id)
    return bench.rate(run_id), renders


def app_thread(bench: Workbench, n: int) -> tuple[float, int]:
    run_id = bench.new_run(n)
    with on_core(CLIENT_CORE), Store(bench.workspace.private_dir) as store:
        runner = threading.Thread(target=execute_run, args=(store, run_id, bench.endpoint),
                                  kwargs={"workspace_root": bench.workspace.root}, daemon=True)
        runner.start()
        renders = rendering(bench, lambda: not runner.is_alive())
        runner.join()
    return bench.rate(run_id), renders


def run(quick: bool = False, *, items: int | None = None, rounds: int = 2, echo=print) -> BenchResult:
    n = (5_000 if quick else 30_000) if items is None else items
    best: dict[str, float] = {}
    renders: dict[str, int] = {}
    clients = {"CLI": lambda b: (cli(b, n), 0), "app, worker process": lambda b: app_worker(b, n),
               "app, thread (before)": lambda b: app_thread(b, n)}
    with InstantServer() as server, tempfile.TemporaryDirectory() as tmp:
        bench = Workbench(Path(tmp), server.base_url)
        cli(bench, 500)  # warm-up: imports, the server's first connections
        for round_ in range(rounds):
            for name in (list(clients) if round_ % 2 == 0 else list(reversed(clients))):
                rate, made = clients[name](bench)
                echo(f"    round {round_ + 1} {name:<22} {rate:8,.0f} items/s in-run ({made} page renders)")
                if rate > best.get(name, 0.0):
                    best[name], renders[name] = rate, made
    ratio = best["app, worker process"] / best["CLI"]
    before = best["app, thread (before)"] / best["CLI"]
    return BenchResult(
        name="11. App-started runs (worker process vs the CLI)",
        figures=[("measurement", f"{n:,} new items per run, default settings, best of {rounds} rounds; in-run "
                                 "rate as stored by the runner"),
                 ("CLI (python -m cope_eval resume)", f"{best['CLI']:,.0f} items/s"),
                 ("app: worker process, Evaluate rendered every second",
                  f"{best['app, worker process']:,.0f} items/s = {ratio:.2f}x the CLI "
                  f"({renders['app, worker process']} page renders during the run)"),
                 ("app before: a thread of the app process (reference)",
                  f"{best['app, thread (before)']:,.0f} items/s = {before:.2f}x the CLI "
                  f"({renders['app, thread (before)']} page renders during the run)")],
        ratio=f"app-started {ratio:.2f}x the CLI (a thread of the app: {before:.2f}x)",
        target=f">= {TARGET_RATIO:g}x the CLI's in-run rate",
        met=ratio >= TARGET_RATIO,
        note="the worker and the CLI on the client core, the app's page renders on the other core (with the server); "
             "the thread baseline shares the app process and its GIL",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(run(items=args.items, rounds=args.rounds).report())


if __name__ == "__main__":
    main()
