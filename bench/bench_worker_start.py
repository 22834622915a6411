"""Benchmark 18, a team's Start clicks: workers forked from the fork server against fresh processes (issue 21).

Six analysts pressing Start within a second start six workers. A fresh ``python -m cope_eval
resume`` imports pandas, pyarrow, aiohttp and the store first (about 0.8 CPU-s); a worker forked
from the app's fork server (``cope_eval/_util/fork_server.py``) has them already. Measured in the
same run, on one workspace and one stand-in server (tests/stub_server.py's instant reply, in a
process of its own): ``rounds`` bursts of ``burst`` runs of ``items`` items started at once by a
``RunManager``, each way, alternating:
- the baseline: fresh processes (the fork server off, as where ``os.fork`` is missing);
- forked: from a fork server started (and warmed by one run) before the first burst; its own
  start-up, once per app, is reported apart.

For each burst: seconds from the first Start to the last run's first stored answer (what an analyst
waits for before the progress bar moves), and the whole machine's CPU seconds until every run has
completed (what the burst takes from the pages' analysts on a shared machine).

Target (issue 21's team target needs the burst not to starve the pages): the burst's CPU <= 0.5x the
baseline's.

    .venv/bin/python bench/bench_worker_start.py [--burst 6] [--items 200] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _harness import BenchResult, InstantServer
from bench_scoring import texts
from bench_team import cpu_seconds

from cope_eval.app import _background
from cope_eval.config import Workspace
from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_golden

TARGET_RATIO = 0.5
POLICY_TEXT = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence.\n"


def burst(workspace: Workspace, endpoint: Endpoint, policy, *, runs: int, items: int, tag: str) -> tuple[float, float]:
    """Start ``runs`` new runs at once; (seconds to the last run's first answer, machine CPU-s to all done)."""
    with Store(workspace.private_dir) as store:
        ids = []
        for n in range(runs):
            golden = make_golden(texts=texts(items, prefix=f"{tag} {n} post"), name=f"{tag} {n}")
            store.put_golden_set(golden)
            ids.append(create_run(store, policy=policy, golden=golden, endpoint=endpoint).id)
        manager = _background.RunManager(workspace)
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        for run_id in ids:
            manager.start(run_id, endpoint)
        waiting, first_answer = set(ids), 0.0
        while waiting:
            waiting = {r for r in waiting if store.prediction_counts(r)[0] == 0}
            first_answer = time.perf_counter() - t0
            time.sleep(0.01)
        for run_id in ids:
            code = manager.wait(run_id, 300)
            assert code == 0, (run_id, code, manager.error(run_id))
        cpu = cpu_seconds() - cpu0
        assert all(store.run(r).status == "completed" for r in ids)
    return first_answer, cpu


def run(quick: bool = False, *, runs: int | None = None, items: int | None = None,
        rounds: int | None = None) -> BenchResult:
    runs = runs if runs is not None else (3 if quick else 6)
    items = items if items is not None else (50 if quick else 200)
    rounds = rounds if rounds is not None else (1 if quick else 3)
    server_on = _background._FORK_SERVER
    assert server_on is not None, "no os.fork here: nothing to compare"
    samples: dict[str, list[tuple[float, float]]] = {"fresh": [], "forked": []}
    with InstantServer() as stand_in, tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp) / "ws").ensure()
        endpoint = Endpoint(stand_in.base_url, "stub")
        policy = save_version(workspace.root, "violence", POLICY_TEXT, note="v1")
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        burst(workspace, endpoint, policy, runs=1, items=items, tag="warm")  # starts the fork server
        server_start = (time.perf_counter() - t0, cpu_seconds() - cpu0)
        try:
            for r in range(rounds):
                for way, forks in (("fresh", None), ("forked", server_on)):
                    _background._FORK_SERVER = forks
                    samples[way].append(burst(workspace, endpoint, policy, runs=runs, items=items, tag=f"{way} {r}"))
        finally:
            _background._FORK_SERVER = server_on
    fresh_cpu = statistics.median(c for _, c in samples["fresh"])
    forked_cpu = statistics.median(c for _, c in samples["forked"])
    ratio = forked_cpu / fresh_cpu

    def row(way: str) -> str:
        return "; ".join(f"{w:.2f} s / {c:.1f} CPU-s" for w, c in samples[way])

    return BenchResult(
        name="18. A team's Start clicks (worker start-up)",
        figures=[
            ("a burst", f"{runs} runs of {items:,} items started at once, {rounds} burst(s) each way, alternating"),
            ("fresh processes: last first answer / machine CPU to all done", row("fresh")),
            ("forked from the fork server: the same", row("forked")),
            ("the fork server's own start (once per app), with its first run", f"{server_start[0]:.2f} s / {server_start[1]:.1f} CPU-s"),
            ("burst CPU, forked / fresh (medians)", f"{forked_cpu:.1f} / {fresh_cpu:.1f} CPU-s = {ratio:.2f}x"),
        ],
        ratio=f"{ratio:.2f}x the CPU of fresh processes",
        target=f"a burst's CPU <= {TARGET_RATIO}x fresh processes'",
        met=ratio <= TARGET_RATIO,
        note="the machine's CPU (every process: workers, the stand-in, this script's polling) from the first Start to "
             "the last run completed",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, help="runs started at once (6)")
    parser.add_argument("--items", type=int, help="items per run (200)")
    parser.add_argument("--rounds", type=int, help="bursts each way (3)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for flag in ("burst", "items", "rounds"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag} {value}: at least 1")
    print(run(args.quick, runs=args.burst, items=args.items, rounds=args.rounds).report())


if __name__ == "__main__":
    main()
