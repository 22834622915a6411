"""Scaling of the CLI's golden-set step: time for 10x the items, as a ratio measured in one run.

``cope-eval run --golden FILE`` first loads and checks the CSV (``load_golden_set``: read,
validate, hash) and stores it (``add_golden_set``: the Parquet copy and its row). This benchmark
times that step, best of the repeats, for N/10 and N items of the same synthetic set
(``bench_golden_load.make_frame``), each in a fresh store, and reports N's CPU time over N/10's
(wall time beside it: on a shared machine other work only adds wall time).
Target (issue 21): CLI run time linear in items, 1M <= 11x 100k.

With ``--cli``, it also times whole ``python -m cope_eval run`` children (load, store, scoring
against the instant server in another process, metrics, predictions.csv) for N/10 and N items,
once each: minutes at a million items on two cores, so off by default.

    .venv/bin/python bench/bench_cli_scale.py [--items 1000000] [--repeat 3] [--cli]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import REPO_ROOT, BenchResult, Clock, InstantServer, Timing
from bench_golden_load import make_frame

from cope_eval.golden import add_golden_set, load_golden_set
from cope_eval.store import Store

TARGET_RATIO = 11.0


def load_and_store(path: Path, root: Path) -> Timing:
    """Wall and CPU seconds to load ``path`` and store it in a fresh store under ``root``."""
    with tempfile.TemporaryDirectory(dir=root) as private, Clock() as clock:
        loaded = load_golden_set(path, root)
        with Store(Path(private)) as store:
            add_golden_set(store, loaded, origin=f"file {path}")
    return clock.timing


def cli_run(path: Path, root: Path, server: InstantServer) -> float:
    """Wall seconds of one ``python -m cope_eval run`` child on ``path`` in a fresh workspace."""
    home = Path(tempfile.mkdtemp(dir=root))
    policy = home / "policy.md"
    policy.write_text("# Criteria\n\n" + "Content that threatens violence against a person or group. " * 12)
    command = [sys.executable, "-m", "cope_eval", "run", "--golden", str(path), "--policy", str(policy),
               "--base-url", server.base_url, "--model", "stub", "--out", str(home / "out")]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, env={**os.environ, "COPE_EVAL_HOME": str(home)},
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cope-eval run exited {done.returncode}: {done.stderr[-300:]}")
    return seconds


def run(quick: bool = False, *, items: int | None = None, repeat: int = 3, cli: bool = False,
        echo=print) -> BenchResult:
    n = (100_000 if quick else 1_000_000) if items is None else items
    small = n // 10
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = {}
        for size in (small, n):
            paths[size] = root / f"set-{size}.csv"
            make_frame(size).to_csv(paths[size], index=False)
        timed = {size: [load_and_store(paths[size], root) for _ in range(repeat)] for size in (small, n)}
        cpu = {size: min(t.cpu_s for t in timed[size]) for size in timed}
        wall = {size: min(t.wall_s for t in timed[size]) for size in timed}
        ratio = cpu[n] / cpu[small]
        echo(f"    load + store: {small:,} items {cpu[small]:.2f} CPU s, {n:,} items {cpu[n]:.2f} CPU s ({ratio:.1f}x)")
        figures = [
            (f"load + store {small:,} items, best of {repeat}: CPU / wall",
             f"{cpu[small]:.2f} s / {wall[small]:.2f} s"),
            (f"load + store {n:,} items, best of {repeat}: CPU / wall", f"{cpu[n]:.2f} s / {wall[n]:.2f} s"),
        ]
        ratios = [f"load + store {ratio:.1f}x the CPU time for 10x the items (wall {wall[n] / wall[small]:.1f}x)"]
        met = ratio <= TARGET_RATIO
        if cli:
            with InstantServer() as server:
                runs = {size: cli_run(paths[size], root, server) for size in (small, n)}
            cli_ratio = runs[n] / runs[small]
            echo(f"    cope-eval run: {small:,} items {runs[small]:.1f} s, {n:,} items {runs[n]:.1f} s "
                 f"({cli_ratio:.1f}x)")
            figures += [(f"`cope-eval run` {small:,} items (wall)", f"{runs[small]:.1f} s"),
                        (f"`cope-eval run` {n:,} items (wall)", f"{runs[n]:.1f} s")]
            ratios.append(f"whole run {cli_ratio:.1f}x")
            met = met and cli_ratio <= TARGET_RATIO
    return BenchResult(
        name=f"13. CLI scaling ({small:,} -> {n:,} items)",
        figures=figures,
        ratio="; ".join(ratios),
        target=f"<= {TARGET_RATIO:g}x for 10x the items",
        met=met,
        note="load + store: CPU seconds of this process (all its threads), best of the repeats, a fresh store "
        "each time, wall beside them (other work on a shared machine only adds wall time); "
        + ("whole runs: wall time of the child, once each" if cli else "whole runs not timed (--cli)"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cli", action="store_true", help="also time whole `cope-eval run` children")
    args = parser.parse_args()
    print(run(items=args.items, repeat=args.repeat, cli=args.cli).report())


if __name__ == "__main__":
    main()
