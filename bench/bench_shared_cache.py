"""Benchmark 17, the pages' shared cache with a team: three analysts on one app, each comparing their
own pair of runs, moving the threshold in turn (issue 21).

Compare's matched runs (``_compare_data.basis``), their curves and the runs' score frames
(``_cached.scores``) are kept once for every session. Kept by count, as ``st.cache_resource`` keeps
them (2 pairs, 4 runs), the third analyst's click evicts the first analyst's pair, and every move
rebuilds a pair. Kept within a memory budget (``pages/_shared_cache.py``), small and mid-sized runs
all stay, and 1M-item runs stay under the app's memory bound.

A temporary workspace gets one golden set of ``items`` items and two completed runs per analyst.
Each mode runs in a child process of its own (the cache is the process's, as in the app): the
analysts take turns, each turn what a threshold move on Compare computes (the pair's basis and
curves, then ``at_threshold`` at a new threshold). The first round is each analyst's first render;
the rounds after it are threshold moves, whose time the verdict reads. Baseline in the same run: the
same turns with the page functions kept by count (``st.cache_resource(max_entries=...)``, the
counts they had), the budgeted ones otherwise unchanged.

    .venv/bin/python bench/bench_shared_cache.py [--items 100000] [--analysts 3] [--rounds 6]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _harness import BenchResult, environment
from bench_golden_load import make_frame
from bench_page_render import NO_SERVER, POLICY

from cope_eval.config import PAGE_CACHE_MB
from cope_eval.golden import golden_set_hash
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run
from cope_eval.store import Store

OLD_COUNTS = {"scores": 4, "_set_columns": 2, "basis": 2, "curves": 2}
"""``max_entries`` of each page function as ``st.cache_resource`` kept it before the budget."""
TARGET_S = 2.0
TARGET_RSS_GB = 1.5


def populate(root: Path, n: int, analysts: int) -> list[tuple[str, str]]:
    """One n-item golden set and two completed runs (A, then B) per analyst, their pairs in order."""
    rng = np.random.default_rng(0)
    frame = make_frame(n, 0)
    items = pd.DataFrame({"id": frame["id"], "text": frame["text"], "label": frame["label"].astype("int64"),
                          "image": [None] * n, "category": frame["category"]})
    golden = GoldenSet("bench", golden_set_hash(items), items)
    label = items["label"].to_numpy()
    pairs = []
    with Store(root / ".cope_eval") as store:
        for analyst in range(analysts):
            v1 = save_version(root, f"policy-{analyst}", POLICY, note="v1")
            v2 = save_version(root, f"policy-{analyst}", POLICY + "- Wishing harm on someone.\n", parent=v1.id, note="v2")
            ids = []
            for version, shift in ((v1, 0.0), (v2, 0.4)):
                run = create_run(store, policy=version, golden=golden, endpoint=Endpoint(NO_SERVER, "cope-b"))
                score = 1 / (1 + np.exp(-rng.normal(-1.0 + (2.2 + shift) * label, 1.3)))
                rows = [(item_id, float(s), int(s >= 0.5), "1" if s >= 0.5 else "0", None, 150.0, 0)
                        for item_id, s in zip(items["id"], score)]
                for start in range(0, n, 20000):
                    store.add_predictions(run.id, rows[start:start + 20000])
                store.mark_run(run.id, "completed")
                ids.append(run.id)
                time.sleep(1.1)  # run ids and creation times are to the second: keep A older than B
            pairs.append((ids[0], ids[1]))
    return pairs


def _keep_by_count() -> None:
    """The page functions kept by count again, as before the budget (the baseline)."""
    import streamlit as st

    from pages import _cached, _compare_data

    _cached._set_columns = st.cache_resource(max_entries=OLD_COUNTS["_set_columns"])(_cached._set_columns.__wrapped__)
    _cached.scores = _compare_data.scores = st.cache_resource(max_entries=OLD_COUNTS["scores"])(
        _cached.scores.__wrapped__)
    _compare_data.basis = st.cache_resource(max_entries=OLD_COUNTS["basis"])(_compare_data.basis.__wrapped__)
    _compare_data.curves = st.cache_resource(max_entries=OLD_COUNTS["curves"])(_compare_data.curves.__wrapped__)


def _turns(private: str, pairs: list[tuple[str, str]], rounds: int, by_count: bool, out) -> None:
    """Each analyst's turn, round by round, in this (child) process: seconds per turn, peak RSS."""
    import streamlit.logger

    streamlit.logger.set_log_level("error")  # "no runtime": the page functions are called outside one
    if by_count:
        _keep_by_count()
    from cope_eval.app import at_threshold
    from pages import _cached, _compare_data

    built = {"pairs matched": 0, "runs read": 0}

    def counted(function, what):
        def call(*args, **kwargs):
            built[what] += 1
            return function(*args, **kwargs)
        return call

    _compare_data.compare_basis = counted(_compare_data.compare_basis, "pairs matched")
    _cached.run_scores = counted(_cached.run_scores, "runs read")

    with Store(Path(private)) as store:
        versions = [tuple(store.predictions_version(run_id) for run_id in pair) for pair in pairs]
    rng = np.random.default_rng(1)
    seconds = []
    for _ in range(rounds):
        for pair, version in zip(pairs, versions):
            started = time.perf_counter()
            keys = (private, pair, version, ("A", "B"))
            basis = _compare_data.basis(*keys)
            _compare_data.curves(*keys, (False, False))
            at_threshold(basis, threshold=float(rng.uniform(0.3, 0.7)), focus="B")  # as pages/compare.py calls it
            seconds.append(time.perf_counter() - started)
    peak_gb = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]) * 1024 / 1e9
    out.put((seconds, peak_gb, built))


def measure(private: str, pairs, rounds: int, by_count: bool) -> tuple[list[float], float, dict[str, int]]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    child = context.Process(target=_turns, args=(private, pairs, rounds, by_count, out))
    child.start()
    result = out.get()
    child.join()
    return result


def _said(built: dict[str, int]) -> str:
    return ", ".join(f"{what} {count}" for what, count in built.items())


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, int(np.ceil(0.95 * len(ordered))) - 1)]


def run(quick: bool = False, *, items: int | None = None, analysts: int = 3, rounds: int = 6,
        echo=print) -> BenchResult:
    n = (10_000 if quick else 100_000) if items is None else items
    with tempfile.TemporaryDirectory(prefix="cope-bench-cache-") as tmp, environment(COPE_EVAL_HOME=tmp):
        root = Path(tmp)
        pairs = populate(root, n, analysts)
        private = str(root / ".cope_eval")
        modes = {}
        for label, by_count in (("kept by count (baseline)", True), ("kept within the memory budget", False)):
            seconds, peak, built = measure(private, pairs, rounds, by_count)
            first, moves = seconds[:analysts], seconds[analysts:]
            modes[label] = (first, moves, peak, built)
            echo(f"    {label}: first renders max {max(first):.2f} s; moves p50 {np.median(moves):.2f} s, "
                 f"p95 {p95(moves):.2f} s; peak RSS {peak:.2f} GB; {_said(built)}")
    (_, count_moves, count_peak, _), (_, budget_moves, budget_peak, _) = modes.values()
    figures = [("items per run, analysts, rounds", f"{n:,}; {analysts} (two runs each); {rounds} (the first is "
                                                   f"each analyst's first render)"),
               ("budget (COPE_EVAL_PAGE_CACHE_MB default)", f"{PAGE_CACHE_MB} MB")]
    for label, (first, moves, peak, built) in modes.items():
        figures += [(f"{label}: first render, slowest", f"{max(first):.2f} s"),
                    (f"{label}: threshold move p50 / p95", f"{np.median(moves):.2f} s / {p95(moves):.2f} s"),
                    (f"{label}: peak RSS of the process", f"{peak:.2f} GB")]
        figures.append((f"{label}: built over all turns", _said(built)))
    ratio = p95(count_moves) / p95(budget_moves)
    return BenchResult(
        name="17. The pages' shared cache with a team (threshold moves)",
        figures=figures,
        ratio=f"threshold move p95, by count / within the budget: {ratio:.1f}x; peak RSS {budget_peak:.2f} GB "
              f"against {count_peak:.2f} GB by count",
        target=f"each analyst's threshold move < {TARGET_S:.0f} s; the process < {TARGET_RSS_GB} GB",
        met=p95(budget_moves) < TARGET_S and budget_peak < TARGET_RSS_GB,
        note="each mode in a fresh child process; a move is the pair's basis and curves (cached or rebuilt) and "
             "at_threshold as the page calls it",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--analysts", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.items is not None and args.items < 1:
        parser.error("--items must be 1 or more")
    if args.analysts < 1:
        parser.error("--analysts must be 1 or more")
    if args.rounds < 2:
        parser.error("--rounds must be 2 or more: the first is each analyst's first render, the rest are the moves")
    print(run(args.quick, items=args.items, analysts=args.analysts, rounds=args.rounds).report())


if __name__ == "__main__":
    main()
