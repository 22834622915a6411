"""Benchmark 5, memory: peak RSS of scoring a 1M-item text golden set from the command line.

The measured process is exactly what a user runs, in a child process of its own:
``python -m cope_eval run --golden set.csv --policy policy.md --base-url ... --out DIR``
(load and validate the CSV, snapshot it, score every item, store every prediction, then compute
the metrics and write predictions.csv). It runs in a fresh temporary workspace against the
instant server, which lives in ANOTHER process so its memory is not counted. The child's peak
RSS is read from ``os.wait4`` (that child's own ``ru_maxrss``, not the largest of all children).

Baseline, in the same run: the peak RSS of a child that only reads the same CSV with
``pandas.read_csv``.

    .venv/bin/python bench/bench_memory.py [--items 1000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import CLIENT_CORE, REPO_ROOT, BenchResult, InstantServer, can_pin
from bench_golden_load import make_frame

TARGET_BYTES = 1.5e9


# Linux keeps a process's peak RSS (ru_maxrss) across exec, and a forked child starts with its parent's
# pages counted: a child of a benchmark that holds 1.4 GB reports at least 1.4 GB whatever it used. So
# the command runs as the child of a small launcher, whose own wait4 reads the command's true peak.
_LAUNCHER = ("import os, subprocess, sys\n"
             "child = subprocess.Popen(sys.argv[2:])\n"
             "_, status, usage = os.wait4(child.pid, 0)\n"
             "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}')\n")


def peak_rss(command: list[str], *, env: dict | None = None, log: Path) -> tuple[int, float, int]:
    """(peak RSS in bytes, wall seconds, exit status) of ``command`` run as a child on one core."""
    started = time.perf_counter()
    measured = log.with_suffix(".peak")
    with open(log, "w") as out:
        subprocess.run([sys.executable, "-c", _LAUNCHER, str(measured), *command], cwd=REPO_ROOT, env=env,
                       stdout=out, stderr=subprocess.STDOUT, check=False,
                       preexec_fn=(lambda: os.sched_setaffinity(0, {CLIENT_CORE})) if can_pin() else None)
    kib, status = (int(v) for v in measured.read_text().split())
    return kib * 1024, time.perf_counter() - started, status  # Linux: KiB


def run(quick: bool = False, *, items: int | None = None, echo=print) -> BenchResult:
    n = (100_000 if quick else 1_000_000) if items is None else items
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        golden = root / "golden_sets" / "big.csv"
        golden.parent.mkdir()
        make_frame(n).to_csv(golden, index=False)
        size_mb = golden.stat().st_size / 1e6
        policy = root / "policy.md"
        policy.write_text("# Criteria\n\n" + "Content that threatens violence against a person or group. " * 12)
        base_rss, base_s, _ = peak_rss([sys.executable, "-c", f"import pandas; pandas.read_csv({str(golden)!r})"],
                                       log=root / "baseline.log")
        echo(f"    baseline pandas.read_csv of {size_mb:.0f} MB: peak {base_rss / 1e6:,.0f} MB")
        env = {**os.environ, "COPE_EVAL_HOME": str(root)}
        with InstantServer() as server:
            command = [sys.executable, "-m", "cope_eval", "run", "--golden", str(golden), "--policy", str(policy),
                       "--base-url", server.base_url, "--model", "stub", "--out", str(root / "out")]
            rss, wall_s, status = peak_rss(command, env=env, log=root / "run.log")
            sent = server.completions
        output = (root / "run.log").read_text()
        wrote = (root / "out" / "predictions.csv").exists()
    echo(f"    cope-eval run of {n:,} items: peak {rss / 1e6:,.0f} MB in {wall_s:.0f} s (exit {status})")
    finished = status == 0 and sent == n and wrote
    met = finished and rss < TARGET_BYTES
    note = "peak RSS of the CLI child from os.wait4; the instant server is another process"
    if not finished:
        note += f"; the run did not finish cleanly (exit {status}, {sent:,} requests): {output[-300:]!r}"
    elif not met:
        note += f"; {rss / 1e9:.2f} GB is over the 1.5 GB target"
    return BenchResult(
        name="5. Memory (1M-item text run, CLI)" if n == 1_000_000 else f"5. Memory ({n:,}-item text run, CLI)",
        figures=[
            ("items (CSV size)", f"{n:,} ({size_mb:.0f} MB; id, text, label, category, source)"),
            ("`python -m cope_eval run ... --out DIR`: peak RSS", f"{rss / 1e6:,.0f} MB"),
            ("same: wall time / requests answered / exit status", f"{wall_s:.0f} s / {sent:,} / {status}"),
            ("baseline `pandas.read_csv` of the same file: peak RSS", f"{base_rss / 1e6:,.0f} MB ({base_s:.1f} s)"),
        ],
        ratio=f"{rss / base_rss:.1f}x the peak of reading the CSV with pandas",
        target="< 1.5 GB",
        met=met,
        note=note,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    result = run(items=parser.parse_args().items)
    for what, value in result.figures:
        print(f"{what:<56} {value}")
    print(f"{result.ratio}; target {result.target}: {result.verdict} ({result.note})")


if __name__ == "__main__":
    main()
