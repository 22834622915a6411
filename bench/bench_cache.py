"""Benchmark 3, the cache: re-running an unchanged 10k-item run makes no model calls.

A first run scores every item against the instant server (another process) and fills the cache;
a second run of the same policy, golden set, model and template is created and executed with
the cache on. Model calls are counted twice: by cope-eval (``RunResult.requests``) and by the
server itself (completion requests it answered during the re-run). The re-run still asks the
server two cheap questions before it starts (``GET /models`` for the context length and
``POST /tokenize`` for the policy's token count); those are reported apart, they are not model
calls.

    .venv/bin/python bench/bench_cache.py [--items 10000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _harness import BenchResult, Clock, InstantServer, pinned
from bench_scoring import POLICY, texts

from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store
from tests.factories import make_golden


def run(quick: bool = False, *, items: int | None = None, echo=print) -> BenchResult:
    n = (2000 if quick else 10000) if items is None else items
    golden = make_golden(texts=texts(n, prefix="cached post"))
    with InstantServer() as server, tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store, pinned():
        endpoint = Endpoint(server.base_url, "stub")
        first = create_run(store, policy=POLICY, golden=golden, endpoint=endpoint)
        with Clock() as cold:
            execute_run(store, first.id, endpoint, workspace_root=Path(tmp))
        again = create_run(store, policy=POLICY, golden=golden, endpoint=endpoint)
        calls, other = server.completions, server.other
        with Clock() as warm:
            result = execute_run(store, again.id, endpoint, workspace_root=Path(tmp))
        calls, other = server.completions - calls, server.other - other
        stored, errors, cached = store.prediction_counts(again.id)
    echo(f"    first run {cold.timing.wall_s:.2f} s wall; re-run {warm.timing.wall_s:.2f} s wall, "
         f"{warm.timing.cpu_s:.2f} CPU s, {calls} completion requests")
    met = calls == 0 and result.requests == 0 and cached == n and stored == n and result.run.status == "completed"
    return BenchResult(
        name="3. Cache (unchanged re-run)",
        figures=[
            ("items", f"{n:,}"),
            ("first run (cold cache): wall / CPU", f"{cold.timing.wall_s:.2f} s / {cold.timing.cpu_s:.2f} s"),
            ("re-run (warm cache): wall / CPU", f"{warm.timing.wall_s:.2f} s / {warm.timing.cpu_s:.2f} s"),
            ("re-run: model calls (cope-eval count / server count)", f"{result.requests} / {calls}"),
            ("re-run: other requests (/models, /tokenize)", f"{other}"),
            ("re-run: predictions stored / from cache / errors", f"{stored:,} / {cached:,} / {errors:,}"),
        ],
        ratio=f"re-run {cold.timing.wall_s / warm.timing.wall_s:.1f}x faster than the first run (wall)",
        target="model calls = 0; wall time reported",
        met=met,
        note="" if met else f"{calls} completion requests reached the server on the re-run",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10000)
    result = run(items=parser.parse_args().items)
    for what, value in result.figures:
        print(f"{what:<56} {value}")
    print(f"{result.ratio}; target {result.target}: {result.verdict}")


if __name__ == "__main__":
    main()
