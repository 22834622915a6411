"""Benchmark 10, the peers: cope-eval, promptfoo and Inspect AI scoring the same prompts.

One instant server (tests/stub_server.py, in another process on the server core) and the same
prompts for every client: the cope-b template's prompt of bench_scoring.POLICY over
bench_scoring.texts(n), built with cope_eval.scoring so the bytes are what cope-eval sends, asked
for with ``max_tokens=1, temperature=0, logprobs=true, top_logprobs=20`` at concurrency 16
(cope-eval's old fixed default; it is fixed here for every client).

Each client is its own process on the client core, run twice: with 1 item (interpreter start-up,
imports, loading, writing results: the fixed cost) and with ``n`` items. Its CPU seconds (user +
system, from ``wait4``, children included) and peak RSS are the kernel's figures for that
process; the server counts the completions it answered, which must equal the items asked for
(nobody is fast by skipping). The verdict compares items per CPU second beyond start-up: for a
peer, (n - 1) items over the CPU seconds its n-item run took beyond its 1-item run; for
cope-eval, n items over ``create_run`` + ``execute_run`` timed inside its process (as benchmark 1
does; its own difference of two short runs would be mostly noise). Whole-process rates, start-up
included, are shown beside them. Each does its whole job: cope-eval runs end to end (prompts
built, replies parsed, P("1") computed, predictions stored in SQLite); promptfoo ``eval`` writes
its results database and a JSON output file; Inspect AI ``eval`` writes its log, its scorer
computing P("1") from the reply's top logprobs.

The peers are installed on first use, pinned, under the bench cache (``$COPE_EVAL_CACHE`` or
``~/.cache/cope-eval``, then ``bench/``): promptfoo PROMPTFOO_VERSION with npm, Inspect AI from
bench/requirements-peers.txt into its own venv (never the app's). A peer that cannot be
installed or run is skipped with the reason and never fails the benchmark: the verdict is
cope-eval's items per CPU second beyond start-up at least each peer's that ran (met when none ran).

    .venv/bin/python bench/bench_peers.py [--items 2000] [--quick] [--only promptfoo,inspect]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import REPO_ROOT, BenchResult, Clock, InstantServer, Timing, pinned

CONCURRENCY = 16
PROMPTFOO_VERSION = "0.121.20"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-peers.txt"
INSTALL_TIMEOUT_S = 900
PEERS = ("promptfoo", "inspect")
TOP_LOGPROBS = 20


def bench_cache() -> Path:
    """The bench's cache: the same root cope-eval's local server uses (``$COPE_EVAL_CACHE``, else
    ``$XDG_CACHE_HOME/cope-eval``, else ``~/.cache/cope-eval``), then ``bench/``."""
    explicit = os.environ.get("COPE_EVAL_CACHE")
    root = Path(explicit).expanduser() if explicit else \
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cope-eval"
    return root / "bench"


def prompts(n: int) -> list[str]:
    """The user message cope-eval sends for each of bench_scoring.texts(n), byte for byte."""
    from bench_scoring import POLICY, texts

    from cope_eval.scoring import build_body, get_template

    template = get_template("cope-b")
    out = []
    for text in texts(n):
        messages = build_body(template, model="stub", policy=POLICY.text, text=text)["messages"]
        assert len(messages) == 1 and messages[0]["role"] == "user", messages
        out.append(messages[0]["content"])
    return out


# -- running one client: a process, its CPU, its peak RSS ------------------------------------------

class Skip(Exception):
    """This peer cannot be installed or run here; the message says why, in a figure line."""


@dataclass(frozen=True)
class Usage:
    wall_s: float
    cpu_s: float
    """User + system seconds of the process and every child it waited for."""
    peak_rss_mb: float
    """The process's own peak resident set: its VmHWM, polled. (``ru_maxrss`` is only the fallback
    where there is no /proc: on Linux it carries the memory of the parent that forked the process.)"""


def high_water_mb(pid: int) -> float | None:
    """VmHWM of a live process, in MB; None when it is gone or there is no /proc."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def run_process(command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
                timeout_s: float, log: Path) -> Usage:
    """Run ``command`` to its end (stdout and stderr to ``log``); its own rusage from ``wait4``.
    Raises Skip when it fails or runs past ``timeout_s`` (the whole process group is killed)."""
    with open(log, "wb") as out:
        started = time.perf_counter()
        try:
            process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise Skip(f"cannot start {command[0]}: {exc}") from None
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        peak: list[float] = []
        done = threading.Event()

        def poll() -> None:  # VmHWM only grows: its last reading before the exit is the peak, near enough
            while not done.wait(0.05):
                mb = high_water_mb(process.pid)
                if mb is not None:
                    peak[:] = [mb]

        timer, poller = threading.Timer(timeout_s, kill), threading.Thread(target=poll, daemon=True)
        timer.start()
        poller.start()
        try:
            _, status, rusage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
            done.set()
            poller.join()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    if expired.is_set():
        raise Skip(f"timed out after {timeout_s:.0f} s (log {log})")
    if process.returncode != 0:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
        tail = [line for line in lines if line and not line.startswith("at ")][-3:]  # no stack frames
        raise Skip(f"exit status {process.returncode}: {' / '.join(tail)[:300]}")
    maxrss_mb = rusage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Usage(wall, rusage.ru_utime + rusage.ru_stime, peak[0] if peak else maxrss_mb)


@dataclass
class Measured:
    """One client: its 1-item run, its n-item run, and what it kept of the n-item run's replies."""

    name: str
    n: int
    one: Usage
    full: Usage
    kept: str = ""
    inner: Timing | None = None
    """cope-eval only: create_run + execute_run of the n-item run, timed inside the process."""

    @property
    def rate(self) -> tuple[float, float]:
        """(items per CPU second, per wall second) beyond start-up: inside the process for cope-eval,
        else what the n-item run took beyond the 1-item run (start-up, loading, the fixed cost)."""
        if self.inner is not None:
            return self.n / max(self.inner.cpu_s, 1e-9), self.n / max(self.inner.wall_s, 1e-9)
        return ((self.n - 1) / max(self.full.cpu_s - self.one.cpu_s, 1e-9),
                (self.n - 1) / max(self.full.wall_s - self.one.wall_s, 1e-9))

    def row(self) -> str:
        cpu, wall = self.rate
        return (f"{cpu:,.0f} items/CPU s, {wall:,.0f}/s wall beyond start-up; whole {self.n:,}-item process "
                f"{self.full.wall_s:.1f} s wall, {self.full.cpu_s:.2f} CPU s "
                f"({self.n / self.full.cpu_s:,.0f} items/CPU s), "
                f"peak RSS {self.full.peak_rss_mb:,.0f} MB; 1-item process {self.one.wall_s:.1f} s wall, "
                f"{self.one.cpu_s:.2f} CPU s, peak RSS {self.one.peak_rss_mb:,.0f} MB")


def measure(name: str, server: InstantServer, n: int, run_one, echo) -> Measured:
    """``run_one(k) -> (Usage, kept or Timing)`` for k = 1, then n; the server must answer exactly k each."""
    usages = []
    for k in (1, n):
        before = server.completions
        usage, extra = run_one(k)
        answered = server.completions - before
        if answered != k:
            raise Skip(f"the server answered {answered:,} completions for {k:,} items")
        echo(f"    {name:<9} {k:>6,} items  {usage.wall_s:7.1f} s wall  {usage.cpu_s:7.2f} CPU s  "
             f"peak RSS {usage.peak_rss_mb:,.0f} MB")
        usages.append(usage)
    if isinstance(extra, Timing):
        return Measured(name, n, usages[0], usages[1], inner=extra)
    return Measured(name, n, usages[0], usages[1], kept=extra)


# -- cope-eval, the reference ----------------------------------------------------------------------

def cope_eval_child(base_url: str, n: int) -> None:
    """In the child process: create_run + execute_run over texts(n), as bench_scoring.time_cope_eval
    does; prints the in-process timing of both (imports and start-up excluded) as JSON."""
    from bench_scoring import POLICY, texts

    from cope_eval.records import Endpoint
    from cope_eval.scoring import create_run, execute_run
    from cope_eval.store import Store
    from tests.factories import make_golden

    golden = make_golden(texts=texts(n))
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store:
        endpoint = Endpoint(base_url, "stub")
        with Clock() as clock:
            run = create_run(store, policy=POLICY, golden=golden, endpoint=endpoint, concurrency=CONCURRENCY)
            result = execute_run(store, run.id, endpoint, workspace_root=Path(tmp), use_cache=False)
        assert result.run.status == "completed" and result.progress.errors == 0, result
        assert result.requests == n and store.prediction_counts(run.id)[0] == n
    print(json.dumps({"wall_s": clock.timing.wall_s, "cpu_s": clock.timing.cpu_s}))


def run_cope_eval(base_url: str, work: Path):
    def one(k: int) -> tuple[Usage, Timing]:
        log = work / f"cope-eval-{k}.log"
        usage = run_process([sys.executable, str(Path(__file__).resolve()), "--child-cope-eval", base_url, str(k)],
                            cwd=REPO_ROOT, timeout_s=600, log=log)
        inner = json.loads(log.read_text().strip().splitlines()[-1])
        return usage, Timing(inner["wall_s"], inner["cpu_s"])
    return one


# -- promptfoo ---------------------------------------------------------------------------------------

def promptfoo_config(base_url: str, items: list[str], output: Path) -> dict:
    """A promptfoo config sending each prompt as the one user message, with cope-eval's parameters."""
    return {
        "description": "cope-eval benchmark 10",
        "prompts": ["{{prompt}}"],
        "providers": [{
            "id": "openai:chat:stub",
            "config": {"apiBaseUrl": base_url, "apiKey": "x", "max_tokens": 1, "temperature": 0,
                       "passthrough": {"logprobs": True, "top_logprobs": TOP_LOGPROBS}},
        }],
        "tests": [{"vars": {"prompt": item}} for item in items],
        "evaluateOptions": {"maxConcurrency": CONCURRENCY, "cache": False, "showProgressBar": False},
        "outputPath": str(output),
        "sharing": False,
    }


def promptfoo_env(config_dir: Path) -> dict[str, str]:
    return {**os.environ, "OPENAI_API_KEY": "x", "PROMPTFOO_CONFIG_DIR": str(config_dir),
            "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1", "PROMPTFOO_DISABLE_SHARING": "1",
            "PROMPTFOO_CACHE_ENABLED": "false", "PROMPTFOO_DISABLE_REMOTE_GENERATION": "1", "NO_COLOR": "1",
            # its debug log file (winston) crashes the process at exit after a long eval ("write after
            # end", promptfoo 0.121.20 on Node 20): off, which only spares promptfoo work
            "PROMPTFOO_DISABLE_DEBUG_LOG": "1"}


def read_promptfoo_output(output: dict) -> dict:
    """What a promptfoo JSON output says: results, errors, the first reply's text and the logprobs it kept."""
    results = output["results"]["results"]
    first = results[0] if results else {}
    response = first.get("response") or {}
    return {"results": len(results),
            "errors": sum(1 for r in results if r.get("error") or (r.get("response") or {}).get("error")),
            "output": response.get("output"), "logprobs": response.get("logProbs"),
            "prompt": (first.get("prompt") or {}).get("raw")}


def install_promptfoo(echo) -> Path:
    """The promptfoo command, installed (pinned) under the bench cache when it is not there yet."""
    if shutil.which("node") is None:
        raise Skip("node not found")
    npm = shutil.which("npm")
    if npm is None:
        raise Skip("npm not found")
    prefix = bench_cache() / "promptfoo"
    command = prefix / "node_modules" / ".bin" / "promptfoo"
    package = prefix / "node_modules" / "promptfoo" / "package.json"

    def installed() -> bool:
        try:
            return command.exists() and json.loads(package.read_text())["version"] == PROMPTFOO_VERSION
        except (OSError, ValueError, KeyError):
            return False

    if not installed():
        prefix.mkdir(parents=True, exist_ok=True)
        echo(f"    installing promptfoo {PROMPTFOO_VERSION} under {prefix} (once)")
        try:
            run_process([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
                         "--fetch-retries=1", "--fetch-timeout=30000", f"promptfoo@{PROMPTFOO_VERSION}"],
                        timeout_s=INSTALL_TIMEOUT_S, log=prefix / "install.log")
        except Skip as exc:
            raise Skip(f"npm install promptfoo@{PROMPTFOO_VERSION} failed: {exc}") from None
        if not installed():
            raise Skip(f"promptfoo {PROMPTFOO_VERSION} is not what npm installed under {prefix}")
    return command


def run_promptfoo(base_url: str, work: Path, items: list[str], echo):
    command = install_promptfoo(echo)
    config_dir = work / "promptfoo-home"
    config_dir.mkdir()
    found: dict = {}

    def one(k: int) -> tuple[Usage, str]:
        config, output = work / f"promptfooconfig-{k}.json", work / f"promptfoo-{k}.json"
        config.write_text(json.dumps(promptfoo_config(base_url, items[:k], output)))
        usage = run_process([str(command), "eval", "-c", str(config), "--no-cache", "--no-table",
                             "--no-progress-bar", "-j", str(CONCURRENCY)],
                            env=promptfoo_env(config_dir), cwd=work, timeout_s=120 + k, log=work / f"promptfoo-{k}.log")
        seen = read_promptfoo_output(json.loads(output.read_text()))
        if seen["results"] != k or seen["errors"]:
            raise Skip(f"{seen['results']:,} results, {seen['errors']:,} errors for {k:,} items")
        if seen["prompt"] != items[0]:
            raise Skip("promptfoo sent a different prompt from cope-eval's")
        found.update(seen)
        return usage, (f"kept per reply: output {seen['output']!r}, logProbs {seen['logprobs']} "
                       f"(the server sent top_logprobs \"1\": -0.1, \"0\": -2.4)")
    return one


# -- Inspect AI --------------------------------------------------------------------------------------

INSPECT_TASK = '''\
"""Benchmark 10's Inspect AI task: the prompts in $BENCH_PROMPTS, P("1") from the top logprobs."""
import json
import math
import os

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import Score, mean, scorer
from inspect_ai.solver import generate


@scorer(metrics=[mean()])
def p_one():
    async def score(state, target):
        top = state.output.choices[0].logprobs.content[0].top_logprobs
        probs = {t.token.strip(): math.exp(t.logprob) for t in top}
        p1, p0 = probs.get("1", 0.0), probs.get("0", 0.0)
        return Score(value=p1 / (p0 + p1) if p0 + p1 > 0 else -1.0)
    return score


@task
def peers():
    with open(os.environ["BENCH_PROMPTS"]) as f:
        prompts = json.load(f)
    return Task(dataset=MemoryDataset([Sample(input=p, id=i) for i, p in enumerate(prompts)]),
                solver=generate(), scorer=p_one())
'''

INSPECT_READ_LOG = '''\
import json, sys
from inspect_ai.log import list_eval_logs, read_eval_log, read_eval_log_sample
info = list_eval_logs(sys.argv[1])[0]
log = read_eval_log(info, header_only=True)
sample = read_eval_log_sample(info, id=0)
top = sample.output.choices[0].logprobs.content[0].top_logprobs
print(json.dumps({"status": log.status, "completed": log.results.completed_samples,
                  "mean": log.results.scores[0].metrics["mean"].value,
                  "top": {t.token: t.logprob for t in top}}))
'''


def requirements_hash() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def install_inspect(echo) -> Path:
    """The venv's python with bench/requirements-peers.txt installed (once per version of that file)."""
    venv = bench_cache() / "inspect-venv"
    python, marker = venv / "bin" / "python", venv / ".requirements-sha256"
    if python.exists() and marker.exists() and marker.read_text() == requirements_hash():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    echo(f"    installing {', '.join(REQUIREMENTS.read_text().split())} into {venv} (once)")
    log = venv.parent / "inspect-install.log"
    try:
        run_process([sys.executable, "-m", "venv", str(venv)], timeout_s=120, log=log)
        run_process([str(python), "-m", "pip", "install", "--quiet", "--retries", "1", "--timeout", "30",
                     "-r", str(REQUIREMENTS)], timeout_s=INSTALL_TIMEOUT_S, log=log)
    except Skip as exc:
        raise Skip(f"pip install -r {REQUIREMENTS.name} failed: {exc}") from None
    marker.write_text(requirements_hash())
    return python


def inspect_command(python: Path, task_file: Path, base_url: str, log_dir: Path) -> list[str]:
    return [str(python), "-m", "inspect_ai", "eval", f"{task_file}@peers", "--model", "openai-api/stub/stub",
            "--model-base-url", base_url, "--max-connections", str(CONCURRENCY), "--max-samples", str(CONCURRENCY),
            "--max-tokens", "1", "--temperature", "0", "--logprobs", "--top-logprobs", str(TOP_LOGPROBS),
            "--display", "none", "--log-level", "error", "--log-dir", str(log_dir)]


def run_inspect(base_url: str, work: Path, items: list[str], echo):
    python = install_inspect(echo)
    task_file = work / "peers_task.py"
    task_file.write_text(INSPECT_TASK)
    env = {**os.environ, "STUB_API_KEY": "x", "INSPECT_DISPLAY": "none", "NO_COLOR": "1",
           "INSPECT_LOG_LEVEL": "error"}

    def one(k: int) -> tuple[Usage, str]:
        (work / f"prompts-{k}.json").write_text(json.dumps(items[:k]))
        log_dir = work / f"inspect-logs-{k}"
        usage = run_process(inspect_command(python, task_file, base_url, log_dir),
                            env={**env, "BENCH_PROMPTS": str(work / f"prompts-{k}.json")}, cwd=work,
                            timeout_s=180 + k, log=work / f"inspect-{k}.log")
        read = subprocess.run([str(python), "-c", INSPECT_READ_LOG, str(log_dir)], capture_output=True, text=True,
                              timeout=300)
        if read.returncode != 0:
            raise Skip(f"could not read its log: {read.stderr.strip().splitlines()[-1:]}")
        seen = json.loads(read.stdout.strip().splitlines()[-1])
        if seen["status"] != "success" or seen["completed"] != k:
            raise Skip(f"log status {seen['status']}, {seen['completed']} of {k:,} samples completed")
        return usage, (f"kept per reply: top logprobs {seen['top']}; its scorer's mean P(\"1\") "
                       f"{seen['mean']:.3f} (cope-eval computes the same from the same reply)")
    return one


# -- the benchmark ---------------------------------------------------------------------------------

PROMPTFOO_CANNOT = (
    "promptfoo keeps only the chosen token's logprob (its openai chat provider stores "
    "choices[0].logprobs.content[i].logprob as logProbs and drops top_logprobs, even when the request asks for "
    "top_logprobs through config.passthrough), so when the answer is \"0\" there is no P(\"1\"): no score, no "
    "threshold curve")
INSPECT_CAN = ("Inspect AI keeps the top logprobs (GenerateConfig logprobs/top_logprobs, --logprobs --top-logprobs), "
               "so a custom scorer can compute P(\"1\") as cope-eval does; thresholds, curves and the rest are "
               "code the user writes")


def run(quick: bool = False, *, items: int | None = None, only: tuple[str, ...] = PEERS, echo=print) -> BenchResult:
    n = (300 if quick else 2000) if items is None else items
    texts = prompts(n)
    measured: dict[str, Measured] = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp, InstantServer() as server, pinned():
        work = Path(tmp)
        clients = [("cope-eval", lambda: run_cope_eval(server.base_url, work)),
                   ("promptfoo", lambda: run_promptfoo(server.base_url, work, texts, echo)),
                   ("inspect", lambda: run_inspect(server.base_url, work, texts, echo))]
        for name, prepare in clients:
            if name != "cope-eval" and name not in only:
                continue
            try:
                measured[name] = measure(name, server, n, prepare(), echo)
            except Exception as exc:  # noqa: BLE001 - a peer that breaks is skipped, never a failure
                if name == "cope-eval":
                    raise RuntimeError(f"cope-eval itself failed: {exc}") from exc
                skipped[name] = str(exc) if isinstance(exc, Skip) else f"{type(exc).__name__}: {exc}"
                echo(f"    {name}: skipped — {exc}")
    ours = measured["cope-eval"]
    peers = {name: m for name, m in measured.items() if name != "cope-eval"}
    ratios = {name: ours.rate[0] / m.rate[0] for name, m in peers.items()}
    met = all(r >= 1.0 for r in ratios.values())
    names = {"promptfoo": "promptfoo", "inspect": "Inspect AI"}
    labels = {"promptfoo": f"promptfoo {PROMPTFOO_VERSION}", "inspect": f"Inspect AI {_inspect_version()}"}
    figures = [("items, concurrency", f"{n:,} (and 1, for start-up), concurrency {CONCURRENCY}, one client core"),
               ("cope-eval (create_run + execute_run: prompts, requests, parse, P(\"1\"), SQLite)", ours.row())]
    for name in PEERS:
        if name in peers:
            figures += [(labels[name], peers[name].row()),
                        (f"{labels[name]}: what it kept of a reply", peers[name].kept),
                        (f"cope-eval vs {labels[name]}, per CPU s (beyond start-up / whole run)",
                         f"{ratios[name]:.1f}x / {(n / ours.full.cpu_s) / (n / peers[name].full.cpu_s):.1f}x")]
        elif name in skipped:
            figures.append((names[name], f"skipped — {skipped[name]}"))
    ratio = ", ".join(f"{ratios[name]:.1f}x {name}" for name in ratios) or "no peer ran"
    cannot = [PROMPTFOO_CANNOT if "promptfoo" in only else "", INSPECT_CAN if "inspect" in only else ""]
    return BenchResult(
        name="10. Peers: promptfoo and Inspect AI (instant server)",
        figures=figures,
        ratio=f"cope-eval items per CPU second beyond start-up: {ratio}",
        target="cope-eval items per client CPU second >= each peer's that ran (same prompts, same server)",
        met=met,
        note=" ".join(filter(None, [
            f"{'PASS' if met else 'FAIL'}: cope-eval {ours.rate[0]:,.0f} items/CPU s"
            + "".join(f", {name} {m.rate[0]:,.0f}" for name, m in peers.items()) + " (beyond start-up).",
            "; ".join(f"{name} skipped ({why})" for name, why in skipped.items()),
            *[c + "." for c in cannot if c]])),
    )


def _inspect_version() -> str:
    pins = dict(line.split("==", 1) for line in REQUIREMENTS.read_text().split() if "==" in line)
    return pins.get("inspect-ai", "(unpinned)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int)
    parser.add_argument("--quick", action="store_true", help="300 items instead of 2000")
    parser.add_argument("--only", default=",".join(PEERS), help=f"comma-separated peers, of {', '.join(PEERS)}")
    parser.add_argument("--child-cope-eval", nargs=2, metavar=("BASE_URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_cope_eval:
        cope_eval_child(args.child_cope_eval[0], int(args.child_cope_eval[1]))
        return
    only = tuple(p.strip() for p in args.only.split(",") if p.strip())
    unknown = [p for p in only if p not in PEERS]
    if unknown:
        parser.error(f"--only: unknown peer(s) {', '.join(unknown)}; choose from {', '.join(PEERS)}")
    print(run(args.quick, items=args.items, only=only).report())


if __name__ == "__main__":
    main()
