"""Bulk scoring throughput, end to end, against an instant local server.

End to end = prompt build, request, parse, P("1"), SQLite store, on ONE core (the server runs
in another process on the other core). The baseline, measured in the same run, is the
`openai` AsyncOpenAI client doing just the requests (no prompt build, no store) at the same
concurrency: the path a naive implementation would take.

    .venv/bin/python bench/bench_scoring.py [--items 20000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cope_eval.records import Endpoint  # noqa: E402
from cope_eval.runner import create_run, execute_run  # noqa: E402
from cope_eval.store import Store  # noqa: E402
from tests.factories import make_golden, make_policy  # noqa: E402
from tests.stub_server import StubServer  # noqa: E402

POLICY = make_policy("# Criteria\n\n" + "Content that threatens violence against a person or group. " * 12)


def _serve(port_queue, core: int) -> None:
    _pin(core)
    with StubServer(record=False) as server:
        port_queue.put(server.port)
        time.sleep(3600)


def _pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > 1:
        os.sched_setaffinity(0, {core})


def bench_engine(base_url: str, n: int, concurrency: int) -> float:
    golden = make_golden(texts=[f"post {i}: " + "some user text that may or may not be a threat " * 3 for i in range(n)])
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store:
        endpoint = Endpoint(base_url, "stub")
        run = create_run(store, policy=POLICY, golden=golden, endpoint=endpoint, concurrency=concurrency)
        started = time.perf_counter()
        result = execute_run(store, run.id, endpoint, workspace_root=Path(tmp), use_cache=False)
        elapsed = time.perf_counter() - started
        assert result.run.status == "completed" and result.progress.errors == 0
        return n / elapsed


def bench_engine_cached(base_url: str, n: int) -> float:
    golden = make_golden(texts=[f"cached post {i}" for i in range(n)])
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store:
        endpoint = Endpoint(base_url, "stub")
        first = create_run(store, policy=POLICY, golden=golden, endpoint=endpoint)
        execute_run(store, first.id, endpoint, workspace_root=Path(tmp))
        again = create_run(store, policy=POLICY, golden=golden, endpoint=endpoint)
        started = time.perf_counter()
        result = execute_run(store, again.id, endpoint, workspace_root=Path(tmp))
        assert result.requests == 0
        return time.perf_counter() - started


def bench_openai(base_url: str, n: int, concurrency: int) -> float:
    import openai

    async def go() -> float:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
        semaphore = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with semaphore:
                await client.chat.completions.create(
                    model="stub", messages=[{"role": "user", "content": f"post {i}"}],
                    max_tokens=1, logprobs=True, top_logprobs=20)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        elapsed = time.perf_counter() - started
        await client.close()
        return n / elapsed

    return asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports, 1), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{ports.get(timeout=30)}/v1"
    _pin(0)
    try:
        baseline = bench_openai(base_url, min(args.items, 5000), args.concurrency)
        engine = bench_engine(base_url, args.items, args.concurrency)
        cached_s = bench_engine_cached(base_url, 10000)
    finally:
        server.kill()
    print(f"items: {args.items:,}, concurrency {args.concurrency}, client on one core")
    print(f"baseline  openai.AsyncOpenAI, requests only : {baseline:8,.0f} requests/s")
    print(f"cope-eval bulk path, end to end (stored)    : {engine:8,.0f} items/s   ratio {engine / baseline:5.1f}x"
          f"   target >= 2,000 items/s: {'met' if engine >= 2000 else 'NOT met'}")
    print(f"cope-eval re-run of 10,000 cached items     : {cached_s:8.2f} s        target about 1 s")


if __name__ == "__main__":
    main()
