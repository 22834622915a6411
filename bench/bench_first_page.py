"""Benchmark 8, first page: how long a fresh app takes to show its first page (issue 16, point 12).

Measured as a user meets it: the app is started the way ``make run`` / ``cope-eval app`` starts it
(``streamlit run`` through ``pages/_warm_start.py``, which loads the pages' libraries before
the server answers) and answers its health check, then headless Chromium opens the app's address and the clock runs until the Workspace page has
drawn ("Golden sets (" is on the page). The workspace holds the shipped sample policies and
golden sets; the model server address answers nothing (a refused connection), so the time is the
app's own and not the model server's.

Baseline in the same run: the same measurement for a one-line Streamlit script (a title and a
sentence) started with plain ``streamlit run``, which is what Streamlit itself and the browser
cost; and, for the record, ``app.py`` under plain ``streamlit run`` (no warm start). Each app is
started afresh for every repeat (the first page of a fresh server is what pays the imports);
figures are medians. A second figure, the in-process import time of what app.py and the first
page import, shows where the time goes.

    .venv/bin/python bench/bench_first_page.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import REPO_ROOT, BenchResult

TARGET_S = 3.0
NO_SERVER = "http://127.0.0.1:9/v1"
BASELINE = 'import streamlit as st\nst.title("Hello")\nst.write("Golden sets (0)")\n'
IMPORTS = ("import streamlit, pages._state, pages._auth, pages._common, pages._sidebar; "
           "import cope_eval.app, cope_eval.config")
"""What app.py and pages/home.py import, from a fresh interpreter."""


def first_render_s(browser, script: Path, env: dict[str, str], *, warm: bool = False) -> float:
    """Seconds from opening the address of a freshly started ``streamlit run script`` (already
    answering its health check) to the first page's "Golden sets (" text; ``warm``: started as
    the launcher starts the app (``streamlit_command``), else with plain ``streamlit run``."""
    from cope_eval.app._launcher import streamlit_command
    from tests.browser import _answers, free_port

    port = free_port()
    if warm:
        command = streamlit_command(port=port, address="127.0.0.1", extra_args=["--server.headless", "true"])
    else:
        command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
                   "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    server = subprocess.Popen(command, cwd=script.parent, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{port}/_stcore/health"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit run {script} did not start")
            time.sleep(0.2)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        started = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}")
        page.get_by_text("Golden sets (").first.wait_for(timeout=120_000)
        elapsed = time.perf_counter() - started
        context.close()
        return elapsed
    finally:
        server.terminate()
        server.wait(timeout=30)


def import_s() -> float:
    """Wall seconds to import what the first page imports, in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); {IMPORTS}; print(time.perf_counter() - t)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                            check=True)
    return float(result.stdout.split()[-1])


def run(quick: bool = False, *, repeat: int | None = None, echo=print) -> BenchResult:
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    repeat = (2 if quick else 3) if repeat is None else repeat
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        root = Path(tmp)
        workspace = root / "ws"
        for folder in ("policies", "golden_sets"):  # the shipped samples
            if (REPO_ROOT / folder).is_dir():
                shutil.copytree(REPO_ROOT / folder, workspace / folder)
        baseline = root / "hello.py"
        baseline.write_text(BASELINE)
        env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": NO_SERVER, "PYTHONPATH": str(REPO_ROOT)}
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            hello, first, cold = [], [], []
            for _ in range(repeat):  # interleaved, so a busy moment falls on all three alike
                hello.append(first_render_s(browser, baseline, env))
                first.append(first_render_s(browser, REPO_ROOT / "app.py", env, warm=True))
                cold.append(first_render_s(browser, REPO_ROOT / "app.py", env))
        finally:
            browser.close()
    imports = statistics.median(import_s() for _ in range(repeat))
    hello_s, first_s, cold_s = statistics.median(hello), statistics.median(first), statistics.median(cold)
    echo(f"    first page {first_s:.2f} s (plain streamlit run: {cold_s:.2f} s); one-line Streamlit page {hello_s:.2f} s; "
         f"imports {imports:.2f} s")
    met = first_s < TARGET_S
    return BenchResult(
        name="8. First page (Workspace, fresh app, real browser)",
        figures=[
            ("first page drawn, from opening the address (median)", f"{first_s:.2f} s"),
            ("each repeat", " · ".join(f"{s:.2f}" for s in first)),
            ("baseline: a one-line Streamlit page, plain streamlit run (median)", f"{hello_s:.2f} s"),
            ("app.py under plain streamlit run, no warm start (median)", f"{cold_s:.2f} s"),
            ("what app.py and pages/home.py import, fresh interpreter (median)", f"{imports:.2f} s"),
            ("repeats (a fresh app each)", f"{repeat}"),
        ],
        ratio=f"{first_s / hello_s:.1f}x a one-line Streamlit page",
        target=f"< {TARGET_S:g} s",
        met=met,
        note=f"wall time in headless Chromium; the app's model server answers nothing; {first_s:.2f} s, "
             f"{'under' if met else 'OVER'} the {TARGET_S:g} s target",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result = run(repeat=args.repeat)
    print(result.report())


if __name__ == "__main__":
    main()
