"""Benchmark 6, page render: the Compare page for two 100k-item runs, through AppTest.

A temporary workspace gets one golden set of 100k text items and two completed runs of two
policy versions over it; their predictions are written straight into the store with
``Store.add_predictions`` (scoring 200k items is benchmark 1's business, not this one's). The app
is opened like a user would (``app.py``, then ``pages/compare.py``) with no model server (the
Compare page needs none) and the two runs selected (``COMPARE_RUNS``, A older, B newer: the
page's own default).

Timed: the first render of the page (cold: its cached reads and curves are computed) and a
render after the threshold slider moves (warm: what every interaction costs). Baseline in the
same run: the same cold render for two 1,000-item runs, so the ratio shows what 100x the items
adds. A throw-away render of two 100-item runs comes first, so one-time imports (plotly and the
page's modules) are not charged to either. The big render runs in a child process of its own
(the same three renders, 100 items first), so its peak RSS (``ru_maxrss``) is the app's for that
page alone (``VmHWM``), not this process's, which wrote the workspaces.

Benchmark 6c is the same for the Evaluate page (``--page evaluate``): the page opened on run B
(``CURRENT_RUN``, as after Start or a pick), whose predictions browser lists every item; the move
is the browser's own threshold. Its baseline is the same page on a 1,000-item run.

    .venv/bin/python bench/bench_page_render.py [--items 1000000] [--page evaluate]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _harness import REPO_ROOT, BenchResult, environment
from bench_golden_load import make_frame

from cope_eval.golden import golden_set_hash
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run
from cope_eval.store import Store

PAGE = REPO_ROOT / "pages" / "compare.py"
APP = REPO_ROOT / "app.py"
TARGET_S = 2.0
TARGET_RSS_GB = 1.5
NO_SERVER = "http://127.0.0.1:9/v1"
POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person.\n"


def populate(root: Path, n: int, seed: int = 0, completions: list[float] | None = None) -> tuple[str, str]:
    """Two completed runs (A, then B) of two policy versions over one n-item golden set; the
    seconds each completion took (``mark_run``, which writes the run's score file) are appended to
    ``completions`` when given."""
    rng = np.random.default_rng(seed)
    frame = make_frame(n, seed)
    items = pd.DataFrame({"id": frame["id"], "text": frame["text"], "label": frame["label"].astype("int64"),
                          "image": [None] * n, "category": frame["category"]})
    golden = GoldenSet("bench", golden_set_hash(items), items)
    v1 = save_version(root, "violence", POLICY, note="v1")
    v2 = save_version(root, "violence", POLICY + "- Wishing harm on someone.\n", parent=v1.id, note="v2")
    label = items["label"].to_numpy()
    ids = []
    with Store(root / ".cope_eval") as store:
        for version, shift in ((v1, 0.0), (v2, 0.4)):
            run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://gpu:8000/v1", "cope-b"))
            score = 1 / (1 + np.exp(-rng.normal(-1.0 + (2.2 + shift) * label, 1.3)))
            errored = rng.random(n) < 0.005
            rows = [(item_id, None, None, None, "timeout", 60000.0, 0) if bad else
                    (item_id, float(s), int(s >= 0.5), "1" if s >= 0.5 else "0", None, 150.0, 0)
                    for item_id, s, bad in zip(items["id"], score, errored)]
            for start in range(0, n, 20000):
                store.add_predictions(run.id, rows[start:start + 20000])
            started = time.perf_counter()
            store.mark_run(run.id, "completed")
            if completions is not None:
                completions.append(time.perf_counter() - started)
            ids.append(run.id)
            time.sleep(1.1)  # run ids and creation times are to the second: keep A older than B
    return ids[0], ids[1]


def render(root: Path, run_ids: tuple[str, str], page: str = "compare") -> tuple[float, float, str]:
    """(cold render s, warm render s after a threshold move, problem or "") of ``page`` (``PAGES``)."""
    import logging

    from streamlit.testing.v1 import AppTest

    # Reads outside a script run (bare mode) warn "missing ScriptRunContext"; that is expected here.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    open_page, move = PAGES[page]

    with environment(COPE_EVAL_HOME=str(root), COPE_BASE_URL=NO_SERVER, COPE_MODEL=None):
        at = AppTest.from_file(str(APP), default_timeout=300).run()
        if at.exception:
            return 0.0, 0.0, f"app.py raised: {at.exception[0].message}"
        at.switch_page(f"pages/{page}.py")
        open_page(at, run_ids)
        started = time.perf_counter()
        at.run()
        cold = time.perf_counter() - started
        if at.exception:
            return cold, 0.0, f"the page raised: {at.exception[0].message}"
        if len(at.dataframe) == 0:
            return cold, 0.0, "the page showed no table: " + "; ".join(str(e.value) for e in at.info)
        started = time.perf_counter()
        move(at)
        warm = time.perf_counter() - started
        if at.exception:
            return cold, warm, f"the page raised after a threshold move: {at.exception[0].message}"
    return cold, warm, ""


def _compare(at, run_ids) -> None:
    from pages import _state

    at.session_state[_state.COMPARE_RUNS] = list(run_ids)  # A older, B newer: the page's own default


def _compare_move(at) -> None:
    from pages import _state

    at.slider(key=_state.COMPARE_THRESHOLD).set_value(0.6).run()


def _evaluate(at, run_ids) -> None:
    from pages import _state

    at.session_state[_state.CURRENT_RUN] = run_ids[1]  # the run B, as after Start or a pick


def _evaluate_move(at) -> None:
    from pages import _state

    at.number_input(key=_state.PREDICTIONS_THRESHOLD).set_value(0.6).run()  # the predictions browser's


PAGES = {"compare": (_compare, _compare_move), "evaluate": (_evaluate, _evaluate_move)}
"""Page: (how it is opened on the runs, the threshold move timed after its first render)."""
TITLES = {"compare": ("6", "Compare, two {n}-item runs", "two {n}-item runs"),
          "evaluate": ("6c", "Evaluate's predictions, a {n}-item run", "a {n}-item run (of two stored)")}
"""Page: (benchmark number, title, what is drawn), ``{n}`` the items."""


def run(quick: bool = False, *, items: int | None = None, echo=print, page: str = "compare") -> BenchResult:
    number, title, subject = TITLES[page]
    n = (20_000 if quick else 100_000) if items is None else items
    name = f"{number}. Page render ({title.format(n=f'{n // 1000}k' if n == 100_000 else f'{n:,}')})"
    if not PAGE.exists():
        return BenchResult(name, target=f"< {TARGET_S:g} s", met=None, note="skipped: pages/compare.py not found")
    with tempfile.TemporaryDirectory() as tiny, tempfile.TemporaryDirectory() as small, \
            tempfile.TemporaryDirectory() as big:
        started = time.perf_counter()
        completions: list[float] = []
        workspaces = [(Path(tiny), populate(Path(tiny), 100)), (Path(small), populate(Path(small), 1000)),
                      (Path(big), populate(Path(big), n, completions=completions))]
        os.sync()  # the workspaces' writes reach the disk now, not as the kernel's writeback during the timed renders
        echo(f"    workspaces written in {time.perf_counter() - started:.0f} s")
        timings = []
        for root, ids in workspaces[:2]:
            cold, warm, problem = render(root, ids, page)
            if problem:
                return BenchResult(name, target=f"< {TARGET_S:g} s", met=False, note=problem)
            timings.append((cold, warm))
        child = _child_render(workspaces[0], workspaces[2], page)
        if child["problem"]:
            return BenchResult(name, target=f"< {TARGET_S:g} s", met=False, note=child["problem"])
        again = _child_render(workspaces[0], workspaces[2], page)  # another process
        if again["problem"]:
            return BenchResult(name, target=f"< {TARGET_S:g} s", met=False, note=again["problem"])
    (_, _), (small_cold, small_warm) = timings
    cold, warm, rss_gb = child["cold"], child["warm"], child["maxrss_kb"] / 1024 ** 2
    reopen, reopen_gb = again["cold"], again["maxrss_kb"] / 1024 ** 2
    big, small = subject.format(n=f"{n:,}"), subject.format(n="1,000")
    echo(f"    {big}: first render {cold:.2f} s, after a threshold move {warm:.2f} s, "
         f"peak RSS {rss_gb:.2f} GB; opened again in a new process {reopen:.2f} s ({reopen_gb:.2f} GB); "
         f"{small}: {small_cold:.2f} s")
    met = max(cold, reopen) < TARGET_S and warm < TARGET_S and max(rss_gb, reopen_gb) < TARGET_RSS_GB  # both processes
    return BenchResult(
        name=name,
        figures=[
            (f"{big}: first render (cold caches: the first time the process draws them)", f"{cold:.2f} s"),
            (f"{big}: render after a threshold move", f"{warm:.2f} s"),
            (f"{big}: peak RSS of the rendering process", f"{rss_gb:.2f} GB"),
            (f"{big}: the same first render again, in another new process (another session after a restart)",
             f"{reopen:.2f} s, peak RSS {reopen_gb:.2f} GB"),
            (f"baseline, {small}: first render / after a threshold move", f"{small_cold:.2f} s / {small_warm:.2f} s"),
            (f"completing each {n:,}-item run (its score file written, in the runner's process)",
             " / ".join(f"{c:.2f} s" for c in completions)),
        ],
        ratio=f"{cold / small_cold:.1f}x the first render at 1,000 items, for {n // 1000}x the items; "
              f"threshold move {warm / small_warm:.1f}x",
        target=f"< {TARGET_S:g} s first render and threshold move; < {TARGET_RSS_GB:g} GB",
        met=met,
        note=f"AppTest wall time of one script run (app.py routing + sidebar + pages/{page}.py); the verdict is on "
             "the first render in the app's process (the score files written as the runs completed)"
             + ("" if met else f"; first render {cold:.2f} s, threshold move {warm:.2f} s, peak {rss_gb:.2f} GB"),
    )


def _child_render(warmup, big, page: str) -> dict:
    """``render`` of ``page`` on ``big`` (root, run ids) in a fresh process after a throw-away
    ``warmup`` render: its times and its peak RSS."""
    asked = json.dumps([page, *([str(root), list(ids)] for root, ids in (warmup, big))])
    done = subprocess.run([sys.executable, __file__, "--render", asked], capture_output=True, text=True, check=False)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"problem": f"the rendering process failed: {done.stderr.strip()[-500:]}"}


def _render_here(asked: str) -> None:
    page, (warm_root, warm_ids), (root, ids) = json.loads(asked)
    render(Path(warm_root), tuple(warm_ids), page)
    cold, warm, problem = render(Path(root), tuple(ids), page)
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so this child's would be at least the
    # benchmark's own peak (1.4 GB, the workspaces it wrote) whatever the page used.
    peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(json.dumps({"cold": cold, "warm": warm, "problem": problem, "maxrss_kb": peak_kb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--page", choices=sorted(PAGES), default="compare")
    parser.add_argument("--render", help=argparse.SUPPRESS)  # the child process of _child_render
    args = parser.parse_args()
    if args.render:
        _render_here(args.render)
        return
    result = run(items=args.items, page=args.page)
    for what, value in result.figures:
        print(f"{what:<70} {value}")
    print(f"{result.ratio}; target {result.target}: {result.verdict} ({result.note})")


if __name__ == "__main__":
    main()
