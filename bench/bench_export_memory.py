"""Benchmark, Export memory: peak RSS of the app process exporting a 1M-item run's bundle.

A temporary workspace gets one golden set of 1M short text items and two completed runs over it
(``bench_page_render.populate``: predictions written straight into the store). A child process
then does what the app process does for one analyst on the Export page, through AppTest
(``app.py``, then ``pages/export.py`` on the newest run at its own threshold):

- the first render, which builds the bundle's zip on disk (``zip_bundle``; timed);
- a re-render (another widget moved), which finds that zip again (timed);
- a download: the button's callable, ``Path.read_bytes`` of the zip, called once as a click does.

Its peak RSS is read from ``os.wait4`` (the child's own ``ru_maxrss``, through ``bench_memory.peak_rss``'s
launcher, so the benchmark's own memory is not counted). Baseline in the same run:
a child that only loads the run's results and its golden set from the store (``run_results`` and
``Store.golden_set``, which every export needs), the floor any export starts from. The page held
the bundle and its zip in ``st.cache_data`` before: 4.78 GB peak in issue 21's measurement.

    .venv/bin/python bench/bench_export_memory.py [--items 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from _harness import REPO_ROOT, BenchResult
from bench_memory import peak_rss
from bench_page_render import NO_SERVER, populate

TARGET_BYTES = 1.5e9

PAGE_CHILD = """
import json, logging, sys, time
from pathlib import Path
from streamlit.testing.v1 import AppTest
from pages import _state
logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
app, run_id, root = sys.argv[1], sys.argv[2], Path(sys.argv[3])
at = AppTest.from_file(app, default_timeout=900).run()
at.switch_page("pages/export.py")
at.session_state[_state.EXPORT_RUN] = run_id
started = time.perf_counter()
at.run()
cold = time.perf_counter() - started
problem = at.exception[0].message if at.exception else ""
started = time.perf_counter()
at.text_input(key=_state.EXPORT_DEST).input("exports/bench").run()
warm = time.perf_counter() - started
problem = problem or (at.exception[0].message if at.exception else "")
zips = sorted((root / ".cope_eval" / "exports").glob("*.zip"))
size = len(zips[0].read_bytes()) if len(zips) == 1 else 0  # the download button's callable, clicked once
print(json.dumps({"cold": cold, "warm": warm, "zip_bytes": size, "zips": len(zips), "problem": problem}))
"""

LOAD_CHILD = """
import sys
from pathlib import Path
from cope_eval.store import Store, run_results
root, run_id = Path(sys.argv[1]), sys.argv[2]
with Store(root / ".cope_eval") as store:
    results = run_results(store, run_id)
    golden = store.golden_set(store.run(run_id).golden_hash)
print(len(results), len(golden))
"""


def run(quick: bool = False, *, items: int | None = None, echo=print) -> BenchResult:
    n = (100_000 if quick else 1_000_000) if items is None else items
    name = "15. Export memory (1M-item run)" if n == 1_000_000 else f"15. Export memory ({n:,}-item run)"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        _, run_id = populate(root, n)
        echo(f"    workspace with two {n:,}-item runs written in {time.perf_counter() - started:.0f} s")
        base_rss, base_s, base_status = peak_rss([sys.executable, "-c", LOAD_CHILD, str(root), run_id],
                                                 log=root / "load.log")
        echo(f"    baseline, loading the run's results and golden set: peak {base_rss / 1e6:,.0f} MB in {base_s:.0f} s")
        env = {**os.environ, "COPE_EVAL_HOME": str(root), "COPE_BASE_URL": NO_SERVER, "PYTHONPATH": str(REPO_ROOT)}
        env.pop("COPE_MODEL", None)
        rss, wall_s, status = peak_rss([sys.executable, "-c", PAGE_CHILD, str(REPO_ROOT / "app.py"), run_id, str(root)],
                                       env=env, log=root / "page.log")
        output = (root / "page.log").read_text()
    try:
        page = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        page = {"problem": f"the page child printed no result (exit {status}): {output[-300:]!r}"}
    problem = page["problem"] or ("" if page["zips"] == 1 and status == 0 else
                                  f"{page['zips']} zips, exit {status}: {output[-300:]!r}")
    if base_status != 0:
        problem = problem or f"the baseline child failed (exit {base_status})"
    echo(f"    Export page, {n:,} items: peak {rss / 1e6:,.0f} MB; first render {page.get('cold', 0):.1f} s, "
         f"re-render {page.get('warm', 0):.2f} s" + (f"; {problem}" if problem else ""))
    met = not problem and rss < TARGET_BYTES
    note = "peak RSS of a child process from os.wait4: AppTest of app.py then pages/export.py, first render, " \
           "re-render, and the download's read of the zip"
    if problem:
        note += f"; {problem}"
    elif not met:
        note += f"; {rss / 1e9:.2f} GB is over the 1.5 GB target"
    return BenchResult(
        name=name,
        figures=[
            ("items", f"{n:,} (short texts; the run's own threshold)"),
            ("Export page (build the zip, re-render, download it): peak RSS", f"{rss / 1e6:,.0f} MB"),
            ("same: first render (builds the zip) / re-render (finds it)",
             f"{page.get('cold', 0):.1f} s / {page.get('warm', 0):.2f} s"),
            ("same: zip size / child wall time", f"{page.get('zip_bytes', 0) / 1e6:,.0f} MB / {wall_s:.0f} s"),
            ("baseline, loading the run's results and golden set: peak RSS",
             f"{base_rss / 1e6:,.0f} MB ({base_s:.1f} s)"),
        ],
        ratio=f"{rss / base_rss:.1f}x the peak of loading the run's results and golden set",
        target="< 1.5 GB",
        met=met,
        note=note,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    result = run(items=parser.parse_args().items)
    for what, value in result.figures:
        print(f"{what:<66} {value}")
    print(f"{result.ratio}; target {result.target}: {result.verdict} ({result.note})")


if __name__ == "__main__":
    main()
