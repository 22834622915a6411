"""Benchmark 12, the WAL under readers: a run's writes beside app sessions polling the store.

A writer (this process, as a run worker is its own) stores predictions and cache entries in
batches through ``Store.add_predictions`` (cache keys random, as the scorer's sha256 keys are)
while reader processes (app sessions, each its own ``Store``) poll the same run without pause
between them: ``prediction_counts`` every poll, the whole ``run_results`` frame of an earlier run
(Compare, Insight). Their reads overlap constantly, so SQLite's automatic (PASSIVE) checkpoints
never get to restart the ``-wal`` file and it only grows. The same load runs in one run with the
bound off (``Store.wal_floor = None``, the baseline) and on (the default floor), readers querying
as the app's store does (each statement its own snapshot), and once more with the bound on and
readers holding one read transaction per poll, a worst case no page has.
A sampler thread reads the ``-wal`` and database file sizes every 10 ms.

    .venv/bin/python bench/bench_wal.py [--items 100000] [--readers 4]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import tempfile
import threading
import time
from pathlib import Path

from _harness import BenchResult, Clock

from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store, run_results
from tests.factories import make_golden, make_policy

BATCH = 750
"""Predictions per ``add_predictions`` call: what a run at 3,000 items/s flushes every 0.25 s."""
POLL_S = 0.05
"""A reader's pause between polls (the app's pages poll about every second; several sessions)."""
RESULTS_EVERY = 1
"""A reader reads the whole ``run_results`` frame every this many polls (counts the others)."""
RAW = "1 " + "because the post describes the act plainly, " * 6
"""A model reply of a few hundred characters, as an explaining template stores."""
PACE_S = 0.05
"""The writer's pause between batches (a run flushes what it scored every ``FLUSH_EVERY_S``)."""
MIB = 1024 * 1024


def _reader(private_dir: str, run_id: str, earlier_id: str, stop, polls, held: bool) -> None:
    """One app session: poll the run until told to stop (and read an earlier run's results, as
    Compare and Insight do: a long read); count the polls. As the app's store reads, each query
    is its own snapshot; ``held``: the whole poll is one read transaction (the worst case, which
    no page does: the store's connection is in autocommit)."""
    with Store(Path(private_dir)) as store:
        n = 0
        while not stop.is_set():
            if held:
                store._db.execute("BEGIN")
            store.prediction_counts(run_id)
            if n % RESULTS_EVERY == 0:
                run_results(store, earlier_id)
            store.prediction_counts(run_id)
            if held:
                store._db.execute("COMMIT")
            n += 1
            time.sleep(POLL_S)
        polls.put(n)


def _cache_key(run_id: str, item: str) -> str:
    """A key like the scorer's (``sha256:`` of the request): random over the cache's B-tree, so
    each batch rewrites pages all over it, as a real run does (sequential keys only append)."""
    return "sha256:" + hashlib.sha256(f"{run_id}:{item}".encode()).hexdigest()


class _Sampler(threading.Thread):
    """Peak ``-wal`` size, and the largest WAL / database ratio once the database is past
    ``floor`` (below it the floor, not the database, is the bound)."""

    def __init__(self, path: Path, floor: int):
        super().__init__(daemon=True)
        self.path, self.floor, self.done = path, floor, threading.Event()
        self.peak_wal, self.peak_ratio = 0, 0.0

    def run(self) -> None:
        while not self.done.is_set():
            try:
                wal, database = os.path.getsize(f"{self.path}-wal"), os.path.getsize(self.path)
            except OSError:
                wal, database = 0, 1
            self.peak_wal = max(self.peak_wal, wal)
            if database > self.floor:
                self.peak_ratio = max(self.peak_ratio, wal / database)
            time.sleep(0.01)


def measure(n: int, readers: int, *, bound: bool, held: bool = False) -> dict:
    """Store ``n`` items in batches beside ``readers`` polling sessions; sizes and timings."""
    golden = make_golden(texts=[f"post {i}" for i in range(n)])
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store:
        if not bound:
            store.wal_floor = None
        endpoint, ids = Endpoint("http://h/v1", "m"), golden.items["id"].tolist()
        earlier = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint)
        for start in range(0, n, BATCH):  # a finished run the sessions look at, written before they start
            store.add_predictions(earlier.id, [(item, 0.9, 1, RAW, None, 5.0, 0) for item in ids[start:start + BATCH]])
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        run = create_run(store, policy=make_policy("Another policy."), golden=golden, endpoint=endpoint)
        context = multiprocessing.get_context("spawn")  # fresh readers: nothing of this process shared
        stop, polls = context.Event(), context.Queue()
        sessions = [context.Process(target=_reader, args=(tmp, run.id, earlier.id, stop, polls, held))
                    for _ in range(readers)]
        for session in sessions:
            session.start()
        time.sleep(3)  # the readers are polling before the first write
        sampler = _Sampler(store.path, Store.wal_floor)
        sampler.start()
        slowest = 0.0
        with Clock() as clock:
            for start in range(0, n, BATCH):
                chunk = ids[start:start + BATCH]
                rows = [(item, 0.9, 1, RAW, None, 5.0, 0) for item in chunk]
                cache = [(_cache_key(run.id, item), 0.9, 1, RAW) for item in chunk]
                began = time.perf_counter()
                store.add_predictions(run.id, rows, cache)
                slowest = max(slowest, time.perf_counter() - began)
                time.sleep(PACE_S)
        sampler.done.set()
        sampler.join()
        stop.set()
        total_polls = sum(polls.get(timeout=60) for _ in sessions)
        for session in sessions:
            session.join(30)
        stored, errors, _ = store.prediction_counts(run.id)
        ok = store.integrity_ok() and stored == n and errors == 0
        database = os.path.getsize(store.path)
    return {"peak_wal": sampler.peak_wal, "database": database, "ratio": sampler.peak_wal / database,
            "ratio_past_floor": sampler.peak_ratio, "wall": clock.timing.wall_s, "slowest": slowest,
            "polls": total_polls, "ok": ok}


def run(quick: bool = False, *, items: int | None = None, readers: int = 4, echo=print) -> BenchResult:
    n = (50_000 if quick else 100_000) if items is None else items
    off = measure(n, readers, bound=False)
    echo(f"    bound off: peak WAL {off['peak_wal'] / MIB:.0f} MiB beside {off['database'] / MIB:.0f} MiB")
    on = measure(n, readers, bound=True)
    echo(f"    bound on:  peak WAL {on['peak_wal'] / MIB:.0f} MiB beside {on['database'] / MIB:.0f} MiB")
    held = measure(n, readers, bound=True, held=True)
    echo(f"    bound on, readers holding a transaction per poll: peak WAL {held['peak_wal'] / MIB:.0f} MiB beside "
         f"{held['database'] / MIB:.0f} MiB")

    def figures(what: str, m: dict) -> list[tuple[str, str]]:
        return [
            (f"{what}: peak WAL / database at the end",
             f"{m['peak_wal'] / MIB:,.0f} MiB / {m['database'] / MIB:,.0f} MiB = {m['ratio']:.2f}x"),
            (f"{what}: largest WAL / database once the database was past the floor", f"{m['ratio_past_floor']:.2f}x"),
            (f"{what}: writes", f"{m['wall']:.1f} s wall, slowest batch {m['slowest'] * 1000:,.0f} ms; "
                                f"{m['polls']:,} reader polls; integrity and counts {'ok' if m['ok'] else 'WRONG'}"),
        ]

    met = on["ratio"] < 2 and on["ratio_past_floor"] < 2 and on["ok"] and off["ok"]
    return BenchResult(
        name="12. WAL under polling readers (checkpointed)",
        figures=[("items, batches, readers", f"{n:,} in batches of {BATCH:,}; {readers} reader processes "
                                             f"polling every {POLL_S * 1000:.0f} ms"),
                 ("floor (Store.wal_floor)", f"{Store.wal_floor / MIB:.0f} MiB")]
                + figures("bound off (baseline)", off) + figures("bound on", on)
                + figures("bound on, readers holding one transaction per poll (worst case, not in the verdict)", held),
        ratio=(f"peak WAL / database: {on['ratio']:.2f}x with the bound, {off['ratio']:.2f}x without; "
               f"{held['ratio']:.2f}x with the bound when readers hold a transaction per poll"),
        target="WAL < 2x the database",
        met=met,
        note=("peak of the -wal file sampled every 10 ms, over the database file at the end; the bound checkpoints "
              "(TRUNCATE, waiting at most Store.wal_busy_ms for readers) after a write that leaves the WAL larger "
              "than both the floor and the database"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--readers", type=int, default=4)
    args = parser.parse_args()
    print(run(items=args.items, readers=args.readers).report())


if __name__ == "__main__":
    main()
