"""Benchmark 9, saturation: default settings against a server whose limit the client is not told.

The server is tests/capacity_server.py in another process on the server core: ``N`` slots, each
request served for about ``s`` seconds, every request beyond ``N`` waiting in a FIFO queue, so
it answers at most ``N / s`` per second and only queues what it is sent past ``N``. It counts
its mean running and waiting requests over each measurement. cope-eval runs end to end
(``create_run`` + ``execute_run``, prompts built, replies parsed, predictions stored) on the
client core, timed from the start of ``execute_run`` to its end, ramp-up included.

In the same run, for each server:
- the baseline: a raw aiohttp loop with exactly ``N`` requests in flight (the server's
  saturating concurrency, which only someone who knows the server can pick);
- cope-eval with default settings (adaptive concurrency), the server serving no ``/metrics``:
  the hill climb on throughput alone;
- the same with vLLM's Prometheus gauges served at ``/metrics`` (the queue decides);
- cope-eval at the old fixed default of 16: what the adaptive default replaced;
- cope-eval fixed at ``N`` (told the knee): the client's own cost against the raw loop, so that
  what the adaptive runs lose beyond it is the controller's (ramp-up and probing).

Issue 17's target, for both adaptive runs: items/s at least 0.9x the raw loop's, with the
server's mean waiting queue at most a quarter of its slots (no flooding). Servers: N=96, s=0.25
(the issue's example: 384/s, where a fixed 16 gets 64/s, 0.16x) and N=8 (a small server, which a
client that floods would drown). Each measurement lasts about ``seconds`` at the server's rate,
so the ramp-up from the start level is a small share of it; the rate over the run's second half
is shown beside the whole run's.

    .venv/bin/python bench/bench_saturation.py [--seconds 20] [--servers 96x0.25,8x0.25]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import SERVER_CORE, BenchResult, can_pin, pinned
from bench_scoring import POLICY, texts

from cope_eval.records import Endpoint
from cope_eval.scoring import build_body, create_run, execute_run, get_template
from cope_eval.store import Store
from tests.capacity_server import Stats, read_stats
from tests.factories import make_golden

SERVERS = ((96, 0.25), (8, 0.25))
"""(slots, service seconds) of each server measured."""
TARGET_RATIO = 0.9
"""Adaptive items/s as a share of the raw loop's at the server's saturating concurrency."""
TARGET_WAITING = 0.25
"""The server's mean waiting queue, as a share of its slots, at most."""
OLD_DEFAULT = 16
SAMPLE_EVERY_S = 0.5


# -- the server, in its own process on its own core ----------------------------------------------

def _serve(port_queue, slots: int, service_s: float, metrics: bool, core: int) -> None:
    if can_pin():
        os.sched_setaffinity(0, {core})
    from tests.capacity_server import CapacityServer

    with CapacityServer(slots=slots, service_s=service_s, metrics=metrics) as server:
        port_queue.put(server.port)
        while True:
            time.sleep(3600)


class HiddenServer:
    """A CapacityServer in another process; ``base_url``, ``origin``, ``stats()``."""

    def __init__(self, slots: int, service_s: float, *, metrics: bool, core: int = SERVER_CORE):
        self._ports = multiprocessing.Queue()
        self._process = multiprocessing.Process(target=_serve, args=(self._ports, slots, service_s, metrics, core),
                                                daemon=True)

    def __enter__(self) -> "HiddenServer":
        self._process.start()
        self.origin = f"http://127.0.0.1:{self._ports.get(timeout=60)}"
        self.base_url = f"{self.origin}/v1"
        return self

    def __exit__(self, *exc) -> None:
        self._process.kill()
        self._process.join(10)

    def stats(self) -> Stats:
        return read_stats(self.origin)


# -- the clients ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    items: int
    seconds: float
    """Wall seconds of the client's whole run."""
    running: float
    """The server's mean requests running over the run."""
    waiting: float
    """The server's mean requests waiting over the run."""
    late_rate: float
    """Completions per second over the run's second half (the ramp-up left out)."""
    settled: int | None = None
    """cope-eval's settled concurrency (adaptive runs)."""

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def measured(server: HiddenServer, client, n: int) -> Measure:
    """Run ``client(base_url, n)`` (returns its wall seconds and settled level), reading the server's
    counters every SAMPLE_EVERY_S meanwhile."""
    samples, done = [server.stats()], threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_EVERY_S):
            samples.append(server.stats())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        seconds, settled = client(server.base_url, n)
    finally:
        done.set()
        sampler.join()
    samples.append(server.stats())
    first, last = samples[0], samples[-1]
    middle = min(samples, key=lambda s: abs(s.at - (first.at + last.at) / 2))
    _, running, waiting = last.since(first)
    late_rate = last.since(middle)[0] if middle is not last else 0.0
    return Measure(n, seconds, running, waiting, late_rate, settled)


def raw_loop(concurrency: int):
    """aiohttp, keep-alive, exactly ``concurrency`` requests in flight, one fixed real body."""
    import aiohttp

    body = json.dumps(build_body(get_template("cope-b"), model="stub", policy=POLICY.text, text=texts(1)[0]),
                      separators=(",", ":")).encode()

    def client(base_url: str, n: int) -> tuple[float, None]:
        async def go() -> None:
            left = n
            connector = aiohttp.TCPConnector(limit=concurrency)
            async with aiohttp.ClientSession(connector=connector) as session:
                async def worker() -> None:
                    nonlocal left
                    while left > 0:
                        left -= 1
                        async with session.post(f"{base_url}/chat/completions", data=body,
                                                headers={"content-type": "application/json"}) as reply:
                            await reply.read()
                            assert reply.status == 200
                await asyncio.gather(*(worker() for _ in range(concurrency)))

        started = time.perf_counter()
        asyncio.run(go())
        return time.perf_counter() - started, None
    return client


def cope_eval(concurrency: int | None):
    """``create_run`` + ``execute_run`` over ``n`` new items; None: default settings (adaptive)."""
    def client(base_url: str, n: int) -> tuple[float, int | None]:
        golden = make_golden(texts=texts(n))
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store:
            endpoint = Endpoint(base_url, "stub")
            options = {} if concurrency is None else {"concurrency": concurrency}
            run = create_run(store, policy=POLICY, golden=golden, endpoint=endpoint, **options)
            started = time.perf_counter()
            result = execute_run(store, run.id, endpoint, workspace_root=Path(tmp))
            seconds = time.perf_counter() - started
            assert result.run.status == "completed" and result.progress.errors == 0, result
            assert result.requests == n and store.prediction_counts(run.id)[0] == n
        return seconds, result.run.settled_concurrency
    return client


# -- the benchmark -------------------------------------------------------------------------------

def measure_server(slots: int, service_s: float, seconds: float, echo=print) -> dict[str, Measure]:
    """Client name -> its Measure, against one hidden-capacity server (two processes: with and
    without /metrics)."""
    n = round(slots / service_s * seconds)
    n_fixed = round(min(OLD_DEFAULT, slots) / service_s * seconds)  # about as long at the rate it gets
    clients = [("raw loop", False, raw_loop(slots), n), ("auto", False, cope_eval(None), n),
               ("auto + /metrics", True, cope_eval(None), n), (f"fixed {OLD_DEFAULT}", False, cope_eval(OLD_DEFAULT), n_fixed),
               (f"fixed {slots}", False, cope_eval(slots), n)]
    found = {}
    with pinned(), HiddenServer(slots, service_s, metrics=False) as plain, \
            HiddenServer(slots, service_s, metrics=True) as with_metrics:
        for name, metrics, client, items in clients:
            m = found[name] = measured(with_metrics if metrics else plain, client, items)
            echo(f"    N={slots} {name:<16} {items:>6,} items {m.seconds:6.1f} s  {m.rate:6.1f}/s "
                 f"(2nd half {m.late_rate:6.1f}/s)  running {m.running:5.1f}  waiting {m.waiting:5.1f}"
                 + ("" if m.settled is None else f"  settled {m.settled}"))
    return found


def run(quick: bool = False, *, seconds: float | None = None, servers=SERVERS, echo=print) -> BenchResult:
    seconds = seconds or (6.0 if quick else 20.0)
    figures, ratios, failures = [], [], []
    for slots, service_s in servers:
        m = measure_server(slots, service_s, seconds, echo)
        raw = m["raw loop"]
        where = f"N={slots}, s={service_s:g}"
        figures.append((f"{where}: raw aiohttp loop at {slots} in flight ({slots / service_s:,.0f}/s at most)",
                        f"{raw.rate:,.1f} items/s over {raw.items:,} ({raw.late_rate:,.1f}/s 2nd half); "
                        f"server running {raw.running:.1f}, waiting {raw.waiting:.1f}"))
        for name in ("auto", "auto + /metrics", f"fixed {OLD_DEFAULT}", f"fixed {slots}"):
            ours = m[name]
            ratio, queue = ours.rate / raw.rate, ours.waiting / slots
            settled = "" if ours.settled is None else f"; settled at {ours.settled}"
            figures.append((f"{where}: cope-eval {name}",
                            f"{ours.rate:,.1f} items/s over {ours.items:,} = {ratio:.2f}x the raw loop "
                            f"({ours.late_rate / raw.late_rate:.2f}x over the 2nd half); server running "
                            f"{ours.running:.1f}, waiting {ours.waiting:.1f} = {queue:.2f} N{settled}"))
            if name.startswith("auto"):
                ratios.append(f"N={slots} {name}: {ratio:.2f}x, waiting {queue:.2f} N")
                if ratio < TARGET_RATIO:
                    failures.append(f"N={slots} {name} at {ratio:.3f}x the raw loop")
                if queue > TARGET_WAITING:
                    failures.append(f"N={slots} {name} kept {queue:.2f} N waiting")
            elif name == f"fixed {OLD_DEFAULT}":
                ratios.append(f"N={slots} fixed {OLD_DEFAULT}: {ratio:.2f}x, waiting {queue:.2f} N")
    met = not failures
    return BenchResult(
        name="9. Saturation (hidden-capacity server, default settings)",
        figures=[("measurement", f"about {seconds:g} s of the server's capacity per client, one run each; "
                                 "items/s from the client's whole run (ramp-up included)")] + figures,
        ratio="; ".join(ratios),
        target=f">= {TARGET_RATIO:g}x a raw loop at the server's saturating concurrency; mean waiting <= N/4 "
               "(adaptive, with and without /metrics)",
        met=met,
        note=("wall rates; the client on one core, the server process on the other; the mean queue and the "
              "rate cover the whole run, so the start (16 in flight, doubled or halved per window of about "
              "a latency and a half, then a jump to the knee) and the 10 % probe steps weigh in; 'fixed N' "
              "is cope-eval told the knee, its own cost; " + ("PASS" if met else "FAIL: " + "; ".join(failures))),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="each client's length at the server's rate")
    parser.add_argument("--servers", default=",".join(f"{n}x{s:g}" for n, s in SERVERS),
                        help="SLOTSxSERVICE_S, comma-separated")
    args = parser.parse_args()
    servers = [(int(n), float(s)) for n, s in (spec.split("x") for spec in args.servers.split(","))]
    result = run(seconds=args.seconds, servers=servers)
    print(result.report())


if __name__ == "__main__":
    main()
