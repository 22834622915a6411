"""Benchmark 16, one app over a tour of its pages: the app process's memory with 1M-item runs (issue 21).

Benchmarks 6b, 6c and 15 each measure one page alone in a fresh process. An analyst's session
visits them one after another in one app, whose shared caches (Compare's matched runs and curves,
the runs' score frames, the set's text) stay resident while the next page works. Issue 21's target
is on the app process, whatever the page: < 1.5 GB.

A temporary workspace gets benchmark 6's two completed runs (two policy versions) over one golden
set of ``items`` items, and a third: the second version on a second model. The app starts as
``make run`` starts it (``streamlit run`` through the warm start, no model server), and one session
tours it over the app's own protocol (``_streamlit_client.ProtocolTab``: no browser): ``TOUR``,
Export building the first run's bundle on its way. Then a second analyst's session compares A with
the third run while the first's compares A with B, in turn (``TEAM``): two pairs of 1M-item runs,
whose shared objects the pages keep within their memory budget (``COPE_EVAL_PAGE_CACHE_MB``;
``--page-cache-mb`` sets it for the app). The process's RSS is read after each page and its peak
(``VmHWM``, Linux) at the end.

Baseline in the same run: the app's peak after its first Compare visit (what benchmark 6b measures
in a process of its own), so the ratio is what the rest of the tour adds.

    .venv/bin/python bench/bench_app_tour.py [--items 1000000] [--quick] [--page-cache-mb 600]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _harness import BenchResult
from _streamlit_client import ProtocolTab
from bench_page_render import NO_SERVER, populate

from cope_eval.config import PAGE_CACHE_MB
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store, run_results

TARGET_RSS_GB = 1.5
TOUR = ("Compare", "Insight", "Evaluate", "Compare", "Golden sets", "Export", "Workspace", "Compare", "Policies")
"""The pages in the order visited (the session opens on Workspace)."""
TEAM = ("second", "first", "second", "first")
"""After the tour, Compare by turns: a second analyst on another pair of runs (A and a third run), then
the first analyst on theirs (A and B), twice: the pages' shared objects for two 1M-item pairs."""
WAIT_S = 900.0
"""How long one page may take (Export builds a 1M-item bundle in about half a minute)."""


def memory_gb(pid: int, field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of process ``pid``, in GB (Linux's /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024 / 1e9
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


async def tour(url: str, pid: int, pairs: tuple[tuple[str, str], tuple[str, str]], echo) -> list[tuple[str, float, float, float]]:
    """(page, settle s, RSS GB after, peak GB so far) for each page of ``TOUR``, then for each
    Compare visit of ``TEAM``: the first analyst's session on ``pairs[0]`` and a second analyst's on
    ``pairs[1]``, each opened by a link to its pair."""
    first, second = [await ProtocolTab.open(url, query="runs=" + ",".join(pair), timeout_s=WAIT_S) for pair in pairs]
    tabs = {"first": first, "second": second}
    visits = []

    async def visit(tab: str, page: str, shown: str) -> None:
        settle = await tabs[tab].visit(page, timeout_s=WAIT_S)
        time.sleep(0.5)  # what the page freed once its run ended
        visits.append((shown, settle, memory_gb(pid, "VmRSS"), memory_gb(pid, "VmHWM")))
        echo(f"    {shown}: {settle:.2f} s, RSS {visits[-1][2]:.2f} GB, peak {visits[-1][3]:.2f} GB")

    try:
        for page in TOUR:
            await visit("first", page, page)
        for tab in TEAM:
            await visit(tab, "Compare", f"Compare, the {tab} analyst's pair")
    finally:
        for tab in tabs.values():
            await tab.close()
    return visits


def third_run(root: Path, run_b: str) -> str:
    """A third completed run: run B's policy version and set on a second model (its scores B's, moved
    a little), so a second analyst can compare A with it while the first compares A with B."""
    rng = np.random.default_rng(2)
    with Store(root / ".cope_eval") as store:
        b = store.run(run_b)
        golden = store.golden_set(b.golden_hash)
        version = store.policy_version(b.policy_version_id)
        run = create_run(store, policy=version, golden=golden, endpoint=Endpoint(NO_SERVER, "cope-b-second"))
        scores = run_results(store, run_b)
        rows = [(item_id, None, None, None, error, 60000.0, 0) if error else
                (item_id, float(s), int(s >= 0.5), "1" if s >= 0.5 else "0", None, 150.0, 0)
                for item_id, s, error in zip(scores["item_id"], np.clip(scores["score"] + rng.normal(0, 0.05, len(scores)),
                                                                           0, 1), scores["error"])]
        for start in range(0, len(rows), 20000):
            store.add_predictions(run.id, rows[start:start + 20000])
        store.mark_run(run.id, "completed")
        return run.id


def run(quick: bool = False, *, items: int | None = None, page_cache_mb: float | None = None,
        echo=print) -> BenchResult:
    from tests.browser import App

    n = (20_000 if quick else 1_000_000) if items is None else items
    name = f"16. One app over a tour of its pages ({n:,}-item runs)"
    if not Path("/proc/self/status").exists():
        return BenchResult(name, target=f"< {TARGET_RSS_GB:g} GB", met=None, note="skipped: needs Linux's /proc")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        run_a, run_b = populate(root, n)
        run_c = third_run(root, run_b)
        os.sync()
        echo(f"    workspace written in {time.perf_counter() - started:.0f} s")
        env = {"COPE_EVAL_HOME": str(root), "COPE_BASE_URL": NO_SERVER, "COPE_MODEL": "cope-b",
               **({} if page_cache_mb is None else {"COPE_EVAL_PAGE_CACHE_MB": str(page_cache_mb)})}
        app = App(env, log_path=root / "app.log", timeout_s=120)
        try:
            opened = memory_gb(app.process.pid, "VmRSS")
            visits = asyncio.run(tour(app.url, app.process.pid, ((run_a, run_b), (run_a, run_c)), echo))
            peak = memory_gb(app.process.pid, "VmHWM")
        finally:
            app.stop()
        tracebacks = "Traceback" in (root / "app.log").read_text(errors="replace")
    compare_peak = visits[0][3]
    met = peak < TARGET_RSS_GB and not tracebacks
    return BenchResult(
        name=name,
        figures=[
            ("the pages' memory budget", f"{PAGE_CACHE_MB if page_cache_mb is None else page_cache_mb:g} MB"),
            ("the app's RSS when the sessions opened (Workspace)", f"{opened:.2f} GB"),
            *[(f"{i + 1}. {page}: settle / RSS after / peak so far", f"{settle:.2f} s / {rss:.2f} GB / {high:.2f} GB")
              for i, (page, settle, rss, high) in enumerate(visits)],
            ("the app's peak RSS over the tour", f"{peak:.2f} GB"),
            ("baseline: its peak after the first Compare", f"{compare_peak:.2f} GB"),
            ("tracebacks in the app's output", "yes" if tracebacks else "none"),
        ],
        ratio=f"tour peak {peak:.2f} GB, {peak / compare_peak:.2f}x the peak after the first Compare",
        target=f"the app process < {TARGET_RSS_GB:g} GB whatever the page",
        met=met,
        note=f"two sessions over the app's protocol, no browser; {n:,}-item runs (benchmark 6's workspace and a third run); "
             "Export built the bundle of the run it opened on (Compare's B)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=None,
                        help="items per run; default 1,000,000 (20,000 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a smoke check: 20,000-item runs")
    parser.add_argument("--page-cache-mb", type=float, default=None,
                        help="the app's COPE_EVAL_PAGE_CACHE_MB; default: the app's own default")
    args = parser.parse_args()
    print(run(args.quick, items=args.items, page_cache_mb=args.page_cache_mb).report())


if __name__ == "__main__":
    main()
