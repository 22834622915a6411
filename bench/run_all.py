"""Run every benchmark and write bench/results.md (figures, ratios, targets, the machine).

    .venv/bin/python bench/run_all.py            # all eleven, full size (about 30-40 min on 2 cores)
    .venv/bin/python bench/run_all.py --quick    # smaller sizes, a few minutes; writes no file
    .venv/bin/python bench/run_all.py --only 1,3 --out /tmp/results.md

Each benchmark is a module here with ``run(quick) -> BenchResult``; it measures its baselines in
the same run, so its ratios hold even when the absolute times of a shared machine do not. The
1-minute load average before and after each one is recorded next to its figures.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from functools import partial
from pathlib import Path

from _harness import BenchResult, load_average, machine

import bench_app_run
import bench_app_tour
import bench_cache
import bench_cli_scale
import bench_export_memory
import bench_first_page
import bench_memory
import bench_metrics
import bench_page_render
import bench_peers
import bench_saturation
import bench_scoring
import bench_shared_cache
import bench_startup
import bench_team
import bench_vllm
import bench_wal
import bench_worker_start

BENCHMARKS = {
    "1": ("client ceiling", bench_scoring.run),
    "2": ("real server", bench_vllm.run),
    "3": ("cache", bench_cache.run),
    "4": ("metrics", bench_metrics.run),
    "5": ("memory", bench_memory.run),
    "6": ("page render", bench_page_render.run),
    "6c": ("page render, Evaluate", partial(bench_page_render.run, page="evaluate")),
    "7": ("startup", bench_startup.run),
    "8": ("first page", bench_first_page.run),
    "9": ("saturation", bench_saturation.run),
    "10": ("peers", bench_peers.run),
    "11": ("app-started runs", bench_app_run.run),
    "12": ("WAL under readers", bench_wal.run),
    "13": ("CLI scaling", bench_cli_scale.run),
    "14": ("a team on one app", bench_team.run),
    "15": ("export memory", bench_export_memory.run),
    "16": ("one app over a tour of its pages", bench_app_tour.run),
    "17": ("the pages' shared cache with a team", bench_shared_cache.run),
    "18": ("a team's Start clicks (worker start-up)", bench_worker_start.run),
}
RESULTS = Path(__file__).resolve().parent / "results.md"


def machine_rows() -> list[tuple[str, str]]:
    return machine() + [("model server (benchmark 2)", bench_vllm.server_description())]


def run_one(key: str, quick: bool) -> BenchResult:
    title, function = BENCHMARKS[key]
    print(f"\n[{key}] {title}: running (load {load_average():.2f})", flush=True)
    before, started = load_average(), time.perf_counter()
    try:
        result = function(quick, echo=lambda line: print(line, flush=True))
    except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
        traceback.print_exc()
        result = BenchResult(f"{key}. {title}", met=False, note=f"crashed: {type(exc).__name__}: {exc}")
    result.seconds = time.perf_counter() - started
    result.load = f"{before:.2f} → {load_average():.2f}"
    print(table(result), flush=True)
    return result


def table(result: BenchResult) -> str:
    rows = result.figures + [("ratio (same run)", result.ratio), ("target", result.target),
                             ("result", result.verdict), ("note", result.note),
                             ("load average (1 min), before → after", result.load),
                             ("benchmark wall time", f"{result.seconds:.0f} s")]
    width = max(len(what) for what, _ in rows)
    return "\n".join(f"  {what:<{width}}  {value}" for what, value in rows if value)


def markdown(results: list[BenchResult], *, quick: bool, command: str) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}`{' (quick sizes)' if quick else ''}. Every ratio compares figures measured "
        "in the same run, on the same machine, at the same time: absolute times on a shared machine are "
        "noise, ratios much less so. Scoring rates are per CPU second of the client process (the server "
        "always runs in another process): what one dedicated core sustains; wall rates are shown beside "
        "them. The 1-minute load average before and after each benchmark says how busy the machine was.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {cell(what)} | {cell(value)} |" for what, value in machine_rows()]
    lines += ["", "## Summary", "", "| benchmark | target | measured (ratio, same run) | result | load | note |",
              "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {cell(r.name)} | {cell(r.target)} | {cell(r.ratio)} | **{r.verdict}** | {cell(r.load)} "
                     f"| {cell(r.note)} |")
    for r in results:
        lines += ["", f"## {r.name}", "", "| figure | value |", "|---|---|"]
        lines += [f"| {cell(what)} | {cell(value)} |" for what, value in r.figures]
        lines += [f"| ratio (same run) | {cell(r.ratio)} |", f"| target | {cell(r.target)} |",
                  f"| result | **{r.verdict}** |", f"| load average (1 min), before → after | {cell(r.load)} |",
                  f"| benchmark wall time | {r.seconds:.0f} s |"]
        if r.note:
            lines += ["", cell(r.note)]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes; writes no file unless --out")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated benchmark numbers")
    parser.add_argument("--out", type=Path, help=f"where to write the results (default {RESULTS} for a full run)")
    args = parser.parse_args()
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in keys if k not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    print("cope-eval benchmarks" + (" (quick)" if args.quick else ""))
    for what, value in machine_rows():
        print(f"  {what}: {value}")
    results = [run_one(key, args.quick) for key in keys]

    print("\nsummary")
    width = max(len(r.name) for r in results)
    for r in results:
        print(f"  {r.name:<{width}}  {r.verdict:<8} {r.ratio}")
    out = args.out or (None if args.quick or args.only != ",".join(BENCHMARKS) else RESULTS)
    if out:
        command = "python bench/run_all.py" + (" --quick" if args.quick else "") + (
            f" --only {args.only}" if args.only != ",".join(BENCHMARKS) else "")
        out.write_text(markdown(results, quick=args.quick, command=command))
        print(f"\nwrote {out}")
    else:
        print("\nno file written (quick or partial run; pass --out FILE to write one)")
    return 0 if all(r.met is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
