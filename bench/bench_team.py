"""Benchmark 14, a team on one app: page settle times and total scoring throughput with N analysts (issue 21).

One app (``streamlit run`` as ``make run`` starts it) on a temporary workspace. Its model server is
a stand-in with a GPU server's shape (``--server gpu``, the default: tests/capacity_server.py in
another process, ``GPU_SERVER`` slots each answering in about a quarter of a second, 384 answers a
second at most), which the team shares as a team shares its deployment's server. ``--server
instant`` answers as fast as its core can instead: scoring is then bound by this machine's two
cores, which the six browsers also use, so it measures the machine more than the app.

The workspace holds a policy with two versions, one golden set with two finished runs over it (so
Compare and Insight have something to show), and one golden set of ``items`` new items for every
run an analyst will start (items differ from run to run, so no answer comes from the cache).

An analyst is a context of headless Chromium (its own Streamlit session). Each round it opens
Evaluate, picks its next golden set, clicks Start (adaptive concurrency, the defaults), then
opens Compare, Insight, Golden sets, Policies, Export and Workspace from the sidebar, reading each page
before the next click (``--think``, THINK_S on average: far quicker than a person reads a page of results;
``--think 0`` clicks as soon as a page settles, six robots rather than six people, a stress test of this
machine's two cores more than of the app). Before its rounds, each analyst
visits every page once in their own tab, unrecorded: an analyst who has the app open, whose tab has
loaded the frontend's code for charts and tables (a fresh tab's first Compare costs Chromium about
1.9 CPU-s, a later one 0.5). Measured in the same run, after one unrecorded warm-up pass over every
page in a tab of its own (a fresh app's first visits pay its imports):
- the baseline: ONE analyst, ``rounds`` rounds;
- the team: ``analysts`` analysts at once, ``rounds`` rounds each.

``--clients protocol`` puts every analyst's browser on their own machine instead: each session
speaks the app's websocket protocol from Python (``_streamlit_client.ProtocolTab``), so the app does
all the work a tab causes and nothing draws on this machine. A settle is then the app's side: the
rerun sent to its ``script_finished`` message. It separates what the app costs from what six
headless browsers on its two cores cost (they used most of the CPU of a browser team phase).

Settle time: from the click (taken in the page, ``performance.now()``) to the end of the
Streamlit script run it caused: the app root's ``data-test-script-state`` (Streamlit 1.67) going
back to ``notRunning`` with the page's own heading drawn and the previous page's gone. A
MutationObserver in the page stamps each change of (state, headings), so a slow Python client
adds nothing. A quick run may pass without the frontend ever drawing a state other than
``notRunning``; a page change is then timed by its headings alone (counted in the report). The
signal is checked in the same run on a two-page script whose second page sleeps ``CHECK_SLEEP_S``.

Total scoring throughput: items scored per second while any run of the phase was scoring: the
sum of the runs' items over the union of their executions. A run's execution ends when the
benchmark sees it completed in the store (polled every ``POLL_S``) and began its stored
``elapsed_s`` earlier (``Store.run_progress``: the runner's own clock, start-up left out).

Issue 21's targets with 6 analysts: every page's p95 settle time < 2 s; total scoring throughput
>= 0.9x one analyst's. The browsers run on the same machine as the app and share its two cores
(an analyst's browser would run on the analyst's own machine), so the settle times include the
browsers' own work under load; the report splits the CPU seconds of the team phase between the
app's process and everything else. (Running the browsers at the lowest priority, nice 19, made the
settle times worse, not better: the end of a script run is stamped when the page has drawn it.)

    .venv/bin/python bench/bench_team.py [--analysts 6] [--items 1000] [--rounds 4] [--think 3]
        [--server gpu|instant] [--clients browser|protocol] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import tempfile
import threading
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from _harness import REPO_ROOT, BenchResult, HiddenServer, InstantServer, load_average
from _streamlit_client import ProtocolTab
from bench_scoring import texts

from cope_eval.app import golden_set_labels
from cope_eval.config import Workspace
from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import RunProgress, create_run, execute_run
from cope_eval.store import Store
from tests.factories import make_golden

GPU_SERVER = (96, 0.25)
"""The default stand-in's (slots, seconds per request): 384 answers a second at most, benchmark 9's
GPU-shaped server (issue 17's example)."""
THINK_S = 3.0
"""How long an analyst reads a page before the next click, on average, by default."""
READ_SPREAD = (0.5, 1.5)
"""An analyst's reading time is uniform between these multiples of the average."""
ROUNDS = 4
"""Rounds per analyst by default: 24 settles per page with six analysts, so the nearest-rank p95 is the
second slowest (with 18, three rounds, it was the slowest: a maximum, not a p95)."""
TARGET_P95_S = 2.0
TARGET_RATIO = 0.9
WAIT_MS = 180_000
"""How long one click may take to settle before the benchmark gives up (a very busy machine)."""
POLL_S = 0.02
"""How often the benchmark looks for completed runs in the store: a run's end is known to this."""
CHECK_SLEEP_S = 0.5
POLICY_TEXT = ("# Criteria\n\n## Definition of Label\n\n#### Includes\n"
               "- Threats of violence against a person or a group.\n")
PAGES = {"Evaluate": "Evaluate", "Compare": "Compare", "Insight": "Insight", "Golden sets": "Golden sets",
         "Policies": "Policies", "Export": "Export", "Workspace": "cope-eval"}
"""Sidebar label -> the page's heading, in the order of a round (Start is clicked after Evaluate)."""
START = "Evaluate: Start"
CLIENTS = {"browser": "headless Chromium on this machine, one context each (the settle includes drawing the page)",
           "protocol": "the app's websocket protocol from Python (bench/_streamlit_client.py), as if each browser "
                       "ran on its analyst's own machine: the settle is the app's side, nothing is drawn here"}

OBSERVE = """() => {
  if (window.__settle) return;
  const events = [];
  window.__settle = events;
  const app = () => document.querySelector('[data-testid="stApp"]');
  let last = '';
  new MutationObserver(() => {
    const state = app() ? app().getAttribute('data-test-script-state') : null;
    const headings = Array.from(document.querySelectorAll('h1')).map(h => h.textContent.trim());
    const key = state + '|' + headings.join('|');
    if (key !== last) { last = key; events.push([performance.now(), state, headings]); }
  }).observe(document.body, {attributes: true, childList: true, subtree: true,
                             attributeFilter: ['data-test-script-state']});
}"""
NAVIGATE = """(label) => {
  const links = Array.from(document.querySelectorAll('[data-testid="stSidebarNav"] a'));
  const link = links.find(a => a.innerText.trim().endsWith(label));
  if (!link) throw new Error('no sidebar link ' + label);
  const t0 = performance.now();
  link.click();
  return t0;
}"""
NOW = """() => [document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state'),
  document.querySelector('[data-testid="stApp"]').getAttribute('data-test-connection-state'), location.href,
  Array.from(document.querySelectorAll('h1')).map(h => h.textContent.trim())]"""
CLICK = """(selector) => {
  const t0 = performance.now();
  document.querySelector(selector).click();
  return t0;
}"""
SETTLED = """([t0, heading, previous]) => {
  let began = false;
  for (const [t, state, headings] of window.__settle) {
    if (t < t0) continue;
    if (state !== 'notRunning') { began = true; continue; }
    const drawn = headings.includes(heading) && (heading === previous || !headings.includes(previous));
    if (drawn && (began || heading !== previous)) return [t - t0, began];
  }
  return null;
}"""
CHECK_APP = """import time
import streamlit as st

def fast():
    st.title("Fast")

def slow():
    st.title("Slow")
    time.sleep({sleep})
    st.write("done")

st.navigation([st.Page(fast, title="Fast", url_path="fast", default=True),
               st.Page(slow, title="Slow", url_path="slow")]).run()
"""


# -- the workspace -------------------------------------------------------------------------------

@dataclass
class Team:
    """The workspace, and the golden set each analyst scores in each round."""

    workspace: Workspace
    endpoint: Endpoint
    labels: dict[str, list[str]] = field(default_factory=dict)
    """Phase/analyst name -> the Evaluate menu label of its golden set for each round."""

    def store(self) -> Store:
        return Store(self.workspace.private_dir)


def prepare(root: Path, base_url: str, *, analysts: int, items: int, rounds: int) -> Team:
    """A policy (two versions), a shown golden set with two finished runs, and one new golden set per
    run to come: ``rounds`` for the baseline analyst, ``rounds`` for each of the team's."""
    team = Team(Workspace(root).ensure(), Endpoint(base_url, "stub"))
    first = save_version(team.workspace.root, "violence", POLICY_TEXT, note="v1")
    second = save_version(team.workspace.root, "violence", POLICY_TEXT + "- Calls to hurt someone.\n",
                          parent=first.id, note="v2")
    names = [f"solo r{r}" for r in range(rounds)]
    names += [f"team a{a} r{r}" for a in range(analysts) for r in range(rounds)]
    with team.store() as store:
        shown = make_golden(texts=texts(items, prefix="shown post"), name="shown")
        for version in (first, second):
            run = create_run(store, policy=version, golden=shown, endpoint=team.endpoint)
            result = execute_run(store, run.id, team.endpoint, workspace_root=team.workspace.root)
            assert result.run.status == "completed", result.run
        for name in names:
            store.put_golden_set(make_golden(texts=texts(items, prefix=f"{name} post"), name=name))
        sets = store.golden_sets()
        by_hash = golden_set_labels(sets)
        rows = {name: by_hash[digest] for name, digest in zip(sets["name"], sets["hash"])}
    team.labels["solo"] = [rows[f"solo r{r}"] for r in range(rounds)]
    for a in range(analysts):
        team.labels[f"a{a}"] = [rows[f"team a{a} r{r}"] for r in range(rounds)]
    return team


# -- the store's view of the runs ---------------------------------------------------------------

class RunWatch:
    """Polls the store in a thread: when each run is first seen completed, and its runner's elapsed
    seconds; the executions as (start, end) on the benchmark's clock."""

    def __init__(self, team: Team):
        self._team, self._stop = team, threading.Event()
        self.ends: dict[str, tuple[float, float, int]] = {}
        """Run id -> (seen completed, elapsed_s, items)."""
        with team.store() as store:
            self._before = {run.id for run in store.runs()}
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> "RunWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        with self._team.store() as store:
            while not self._stop.wait(POLL_S):
                for run in store.runs():
                    if run.id in self._before or run.id in self.ends or run.status not in ("completed", "failed"):
                        continue
                    seen = time.perf_counter()
                    assert run.status == "completed", f"run {run.id} {run.status}: {run.error}"
                    progress = RunProgress.from_dict(store.run_progress(run.id))
                    self.ends[run.id] = (seen, progress.elapsed_s, run.n_items)

    def wait(self, n_runs: int, timeout_s: float = 600.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.ends) < n_runs:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(self.ends)} of {n_runs} runs completed after {timeout_s:g} s")
            time.sleep(POLL_S)

    def throughput(self) -> tuple[float, int, float]:
        """(items per second of scoring, items, seconds in which some run scored)."""
        spans = sorted((end - elapsed, end) for end, elapsed, _ in self.ends.values())
        busy, open_start, open_end = 0.0, None, None
        for start, end in spans:
            if open_end is None or start > open_end:
                busy += 0.0 if open_end is None else open_end - open_start
                open_start, open_end = start, end
            else:
                open_end = max(open_end, end)
        busy += 0.0 if open_end is None else open_end - open_start
        n = sum(n_items for _, _, n_items in self.ends.values())
        return n / busy, n, busy

    def run_rates(self) -> list[float]:
        """Each run's own in-run rate (items per second of its execution)."""
        return [n_items / elapsed for _, elapsed, n_items in self.ends.values()]


# -- one analyst in a browser context -----------------------------------------------------------

@dataclass
class Tab:
    """One analyst's browser page, the heading it shows, and how many settles showed no script-state
    change (a run too quick for the frontend to draw its state: timed by the heading alone)."""

    page: object
    heading: str
    unseen: int = 0

    async def settle(self, t0: float, heading: str, *, timeout_ms: int = WAIT_MS) -> float:
        """Seconds from ``t0`` (the page's ``performance.now()``, in ms) to the end of the script run
        that followed it, with ``heading`` drawn and the previous page's heading gone."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        try:
            handle = await self.page.wait_for_function(SETTLED, arg=[t0, heading, self.heading], polling=50,
                                                       timeout=timeout_ms)
        except PlaywrightTimeout:
            events = await self.page.evaluate("([t0]) => window.__settle.filter(e => e[0] >= t0).slice(-10)", [t0])
            now = await self.page.evaluate(NOW)
            raise RuntimeError(f"{heading!r} did not settle in {WAIT_MS / 1000:g} s; script states since the "
                               f"click: {events}; now: {now}") from None
        elapsed_ms, began = await handle.json_value()
        self.heading, self.unseen = heading, self.unseen + (not began)
        return float(elapsed_ms) / 1000

    async def visit(self, label: str) -> float:
        """Open ``label`` from the sidebar; seconds until its script run has finished."""
        return await self.settle(await self.page.evaluate(NAVIGATE, label), PAGES.get(label, label))

    async def choose_golden(self, label: str) -> None:
        """Pick the golden set on Evaluate (a rerun that redraws the box while it opens closes it: retry). Its
        name is typed first: the open list draws only the options in view."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        box = self.page.get_by_role("combobox", name="Golden set", exact=True)
        option = self.page.get_by_role("option", name=label, exact=True)
        if await box.input_value() == label:  # already chosen (the newest set is the default): no rerun
            return
        for _ in range(10):
            await box.click()
            try:
                await self.page.keyboard.type(label.split(" · ")[0])
                t0 = await self.page.evaluate("performance.now()")
                await option.click(timeout=5_000)
                await self.settle(t0, "Evaluate", timeout_ms=20_000)
                break
            except PlaywrightTimeout:
                await self.page.keyboard.press("Escape")
            except RuntimeError:  # no script run came (the set was chosen meanwhile, by a rerun): check it
                if await box.input_value() == label:
                    break
        else:
            raise RuntimeError(f"could not pick golden set {label!r}")
        value = await box.input_value()
        assert value == label, (value, label)

    async def start(self) -> float:
        """Click Evaluate's Start; seconds until its script run has finished."""
        return await self.settle(await self.page.evaluate(CLICK, ".st-key-eval_start button"), "Evaluate")


class ProtocolAnalyst(ProtocolTab):
    """An analyst whose browser runs on their own machine (``--clients protocol``): the same three
    actions as ``Tab``, over the app's own protocol, timed to the end of the run each causes."""

    async def choose_golden(self, label: str) -> None:
        """Pick the golden set on Evaluate (sent even when it is already chosen: one rerun more than
        a browser's, not recorded)."""
        await self.choose("eval_golden", label)

    async def start(self) -> float:
        return await self.click("eval_start")


def browser_tabs(browser):
    """Opens an analyst's session as a context of ``browser``: (what to close, Tab)."""
    return partial(open_tab, browser)


async def protocol_tab(url: str, heading: str = "cope-eval", ready: str = "Healthy"):
    """Opens an analyst's session without a browser: (what to close, ProtocolAnalyst)."""
    tab = await ProtocolAnalyst.open(url, timeout_s=WAIT_MS / 1000)
    return tab, tab


async def open_tab(browser, url: str, heading: str = "cope-eval", ready: str = "Healthy"):
    """(context, Tab) on ``url``, once ``ready`` shows and the first script run has finished."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    await page.goto(url)
    await page.get_by_text(ready).first.wait_for(timeout=WAIT_MS)
    await page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=WAIT_MS)
    await page.evaluate(OBSERVE)
    return context, Tab(page, heading)


async def analyst(opener, url: str, goldens: list[str], samples: dict[str, list[float]], go: asyncio.Event,
                  ready: list, reads) -> None:
    """One analyst's rounds, after an unrecorded visit to every page in their own tab (an analyst who has the
    app open); ``reads()`` is how long they read a page before their next click."""
    context, tab = await opener(url)
    await visit_every_page(tab)
    ready.append(tab)
    await go.wait()
    try:
        for golden in goldens:
            samples["Evaluate"].append(await tab.visit("Evaluate"))
            await tab.choose_golden(golden)
            samples[START].append(await tab.start())
            await asyncio.sleep(reads())
            for label in list(PAGES)[1:]:
                samples[label].append(await tab.visit(label))
                await asyncio.sleep(reads())
    finally:
        await context.close()


def reading(name: str, think_s: float):
    """Seconds an analyst reads a page before the next click: uniform in READ_SPREAD x ``think_s``, seeded by
    the analyst's name (the same pauses in every run; analysts out of step with each other). 0: none."""
    draw = random.Random(name)
    return lambda: think_s * draw.uniform(*READ_SPREAD)


async def phase(opener, url: str, team: Team, names: list[str], think_s: float
                ) -> tuple[dict[str, list[float]], tuple]:
    """Every analyst in ``names`` through its rounds at once; (settle samples by page, throughput)."""
    samples: dict[str, list[float]] = {label: [] for label in [*PAGES, START]}
    go, ready = asyncio.Event(), []
    with RunWatch(team) as watch:
        tasks = [asyncio.create_task(analyst(opener, url, team.labels[n], samples, go, ready, reading(n, think_s)))
                 for n in names]
        while len(ready) < len(names):  # every session open before anyone starts
            done = [t for t in tasks if t.done()]
            for task in done:
                task.result()
            await asyncio.sleep(0.1)
        go.set()
        await asyncio.gather(*tasks)
        await asyncio.to_thread(watch.wait, sum(len(team.labels[n]) for n in names))
    samples["_unseen"] = [tab.unseen for tab in ready]
    samples["_rates"] = watch.run_rates()
    return samples, watch.throughput()


async def warm_up(opener, url: str) -> None:
    """Every page once, unrecorded: a fresh app's first visit to a page pays its imports."""
    context, tab = await opener(url)
    await visit_every_page(tab)
    await context.close()


async def visit_every_page(tab) -> None:
    """Every page once, from Evaluate to the Workspace page. In a fresh browser tab, a page's first visit
    also loads the frontend's code for its elements: Compare's chart (plotly.js) cost Chromium 1.25 CPU-s
    on its first visit in a tab, 0.14 s on later ones; an interactive table 0.49 s, then 0.14 s."""
    for label in ["Evaluate", *list(PAGES)[1:]]:
        await tab.visit(label)


async def signal_check(opener, root: Path) -> tuple[float, float]:
    """Median settle of the trivial page and of the page that sleeps CHECK_SLEEP_S (3 visits each)."""
    script = root / "check.py"
    script.write_text(CHECK_APP.replace("{sleep}", repr(CHECK_SLEEP_S)))
    fast, slow = [], []
    with _plain_streamlit(script) as url:
        context, tab = await opener(url, heading="Fast", ready="Fast")
        for _ in range(3):
            for label, out in (("Slow", slow), ("Fast", fast)):
                out.append(await tab.visit(label))
        await context.close()
    return _median(fast), _median(slow)


class _plain_streamlit:
    """``streamlit run script`` headless on a free port, answering its health check."""

    def __init__(self, script: Path):
        self._script = script

    def __enter__(self) -> str:
        import os
        import subprocess
        import sys

        from tests.browser import _answers, free_port

        port = free_port()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(self._script), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
            cwd=self._script.parent, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{port}/_stcore/health"):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit run {self._script} did not start")
            time.sleep(0.2)
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)


# -- figures ------------------------------------------------------------------------------------

def _median(values: list[float]) -> float:
    return percentile(values, 50)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (with few samples, p95 is the slowest but rarely one)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds (user + system) since boot: the process ``pid``'s own, or, without one, the whole
    machine's, every core's busy time."""
    tick = os.sysconf("SC_CLK_TCK")
    if pid is not None:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / tick


async def _browser(stack: AsyncExitStack):
    """Headless Chromium for the analysts' sessions, closed with ``stack``."""
    from playwright.async_api import async_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    playwright = await stack.enter_async_context(async_playwright())
    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    stack.push_async_callback(browser.close)
    return browser


async def measure(url: str, app_pid: int, team: Team, analysts: int, root: Path, echo, *, clients: str = "browser",
                  think_s: float, server_stats=None) -> dict:
    async with AsyncExitStack() as stack:
        opener = browser_tabs(await _browser(stack)) if clients == "browser" else protocol_tab
        fast, slow = await signal_check(opener, root)
        echo(f"    signal check: trivial page {fast:.3f} s, page sleeping {CHECK_SLEEP_S:g} s {slow:.3f} s")
        await warm_up(opener, url)
        load = [load_average()]
        solo = await phase(opener, url, team, ["solo"], think_s)
        echo(f"    1 analyst: {solo[1][0]:,.0f} items/s total")
        load.append(load_average())
        machine_before, app_before = cpu_seconds(), cpu_seconds(app_pid)
        served_before = server_stats() if server_stats else None
        many = await phase(opener, url, team, [f"a{a}" for a in range(analysts)], think_s)
        cpu = (cpu_seconds() - machine_before, cpu_seconds(app_pid) - app_before)
        served = None
        if served_before is not None:  # request-seconds in the server's slots and queue, per second of scoring
            after, busy = server_stats(), many[1][2]
            served = ((after.running_area - served_before.running_area) / busy,
                      (after.waiting_area - served_before.waiting_area) / busy)
        echo(f"    {analysts} analysts: {many[1][0]:,.0f} items/s total")
        load.append(load_average())
    return {"check": (fast, slow), "solo": solo, "many": many, "load": load, "cpu": cpu, "served": served}


def run(quick: bool = False, *, analysts: int | None = None, items: int | None = None, rounds: int | None = None,
        server: str = "gpu", clients: str = "browser", think_s: float = THINK_S, echo=print) -> BenchResult:
    from tests.browser import App

    analysts = (2 if quick else 6) if analysts is None else analysts
    items = (200 if quick else 1000) if items is None else items
    rounds = (1 if quick else ROUNDS) if rounds is None else rounds
    stand_in = HiddenServer(*GPU_SERVER, metrics=True) if server == "gpu" else InstantServer()
    with stand_in, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        team = prepare(root / "ws", stand_in.base_url, analysts=analysts, items=items, rounds=rounds)
        env = {"COPE_EVAL_HOME": str(team.workspace.root), "COPE_BASE_URL": stand_in.base_url, "COPE_MODEL": "stub"}
        app = App(env, log_path=root / "app.log", timeout_s=120)
        try:
            got = asyncio.run(measure(app.url, app.process.pid, team, analysts, root, echo, clients=clients,
                                      think_s=think_s, server_stats=stand_in.stats if server == "gpu" else None))
        finally:
            app.stop()
        log = (root / "app.log").read_text(errors="replace")
        with team.store() as store:
            integrity = store.integrity_ok()
    return _result(got, analysts=analysts, items=items, rounds=rounds, server=server, clients=clients,
                   think_s=think_s, integrity=integrity, app_errors="Traceback" in log)


def _result(got: dict, *, analysts: int, items: int, rounds: int, server: str, clients: str, think_s: float,
            integrity: bool, app_errors: bool) -> BenchResult:
    (solo, (solo_rate, solo_n, solo_s)), (many, (many_rate, many_n, many_s)) = got["solo"], got["many"]
    fast, slow = got["check"]
    slots, service_s = GPU_SERVER
    served_by = (f"a GPU-shaped stand-in ({slots} slots x {service_s:g} s: {slots / service_s:,.0f} answers/s at most)"
                 if server == "gpu" else "the instant stand-in (as fast as its core answers)")
    figures = [("measurement", f"{analysts} analysts vs 1, {rounds} round(s) each, a run of {items:,} new items "
                               "started every round; settle p50 / p95 / max (s), samples"),
               ("model server", served_by),
               ("analysts' sessions", CLIENTS[clients]),
               ("reading a page before the next click", "-".join(f"{think_s * x:g}" for x in READ_SPREAD)
                + " s (uniform)" if think_s else "none: each click as soon as the last settled")]
    worst = ("", 0.0)
    for label in [*PAGES, START]:
        one, team = solo[label], many[label]
        p95 = percentile(team, 95)
        if label != START and p95 > worst[1]:
            worst = (label, p95)
        figures.append((f"{label}{' (click)' if label == START else ''}",
                        f"1: {percentile(one, 50):.2f} / {percentile(one, 95):.2f} / {max(one):.2f} (n={len(one)})   "
                        f"{analysts}: {percentile(team, 50):.2f} / {p95:.2f} / {max(team):.2f} (n={len(team)})"))
    ratio = many_rate / solo_rate
    figures += [
        ("total scoring throughput, 1 analyst", f"{solo_rate:,.0f} items/s ({solo_n:,} items in {solo_s:.1f} s of scoring)"),
        (f"total scoring throughput, {analysts} analysts",
         f"{many_rate:,.0f} items/s ({many_n:,} items in {many_s:.1f} s of scoring)"),
        ("one run's in-run rate, median (1 / N analysts)",
         f"{_median(solo['_rates']):,.0f} / {_median(many['_rates']):,.0f} items/s"),
        ("signal check (trivial page / page sleeping "
         f"{CHECK_SLEEP_S:g} s)", f"{fast:.3f} s / {slow:.3f} s"),
        ("settles with no script-state change seen (timed by the heading alone), 1 / N",
         f"{sum(solo['_unseen'])} / {sum(many['_unseen'])}"),
        *([("the server while the N analysts' runs scored: mean requests in its slots / waiting for one",
            f"{got['served'][0]:.1f} of {GPU_SERVER[0]} / {got['served'][1]:.1f}")] if got["served"] else []),
        ("load average (1 min) before / after 1 / after N", " / ".join(f"{x:.1f}" for x in got["load"])),
        ("CPU seconds while the N analysts worked: whole machine / the app's process / the rest (browsers, "
         "workers, stand-in, benchmark)", f"{got['cpu'][0]:.0f} / {got['cpu'][1]:.0f} / {got['cpu'][0] - got['cpu'][1]:.0f}"),
        ("store integrity after", "ok" if integrity else "FAILED"),
        ("tracebacks in the app's output", "yes" if app_errors else "none"),
    ]
    pages_met = worst[1] < TARGET_P95_S
    met = pages_met and ratio >= TARGET_RATIO and integrity
    return BenchResult(
        name=f"14. A team on one app ({analysts} analysts, "
             f"{'real browsers' if clients == 'browser' else 'browsers elsewhere'})",
        figures=figures,
        ratio=f"slowest page p95 {worst[1]:.2f} s ({worst[0]}) with {analysts} analysts; "
              f"throughput {ratio:.2f}x one analyst's",
        target=f"every page's p95 < {TARGET_P95_S:g} s, throughput >= {TARGET_RATIO:g}x",
        met=met,
        note=("settle = click to the end of the script run it caused (stApp's data-test-script-state back to "
              "notRunning, page heading drawn), stamped in the page; the Start click is reported, not in the page "
              "verdict; headless Chromium shares the machine's cores with the app, its workers and the stand-in "
              "server" if clients == "browser" else
              "settle = the app's side: the rerun sent on the app's websocket to its script_finished message, no "
              "drawing; the Start click is reported, not in the page verdict"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analysts", type=int, default=None, help="default 6 (2 with --quick)")
    parser.add_argument("--items", type=int, default=None, help="items per run; default 1000 (200 with --quick)")
    parser.add_argument("--rounds", type=int, default=None,
                        help=f"rounds per analyst; default {ROUNDS} (1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a smoke check: 2 analysts, 200 items, 1 round")
    parser.add_argument("--server", choices=("gpu", "instant"), default="gpu",
                        help="the model server: gpu (default), a stand-in with a GPU server's capacity, shared by "
                             "the team; instant, answers as fast as a core can (scoring then competes with the "
                             "browsers for the CPU)")
    parser.add_argument("--clients", choices=tuple(CLIENTS), default="browser",
                        help="the analysts' sessions: browser (default), headless Chromium on this machine; "
                             "protocol, the app's websocket protocol from Python, as if each browser ran on its "
                             "analyst's own machine")
    parser.add_argument("--think", type=float, default=THINK_S, metavar="SECONDS",
                        help="how long an analyst reads a page before the next click, on average (uniform in "
                             f"{READ_SPREAD[0]:g}-{READ_SPREAD[1]:g}x); default {THINK_S:g}; 0: each click as soon "
                             "as the last settled")
    args = parser.parse_args()
    if not (math.isfinite(args.think) and args.think >= 0):
        parser.error(f"--think {args.think:g}: a reading time is a number of seconds, 0 or more")
    print(run(args.quick, analysts=args.analysts, items=args.items, rounds=args.rounds, server=args.server,
              clients=args.clients, think_s=args.think).report())


if __name__ == "__main__":
    main()
