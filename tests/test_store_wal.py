"""The store keeps its -wal file bounded: checkpointed after large writes, never stalling a run on readers."""

import os
import sqlite3
import time

import pytest

from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy

RAW = "1 " + "because the post describes the act plainly, " * 6
BATCH = 200


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        store.wal_floor = 256 * 1024  # lowered: a few batches outgrow it
        store.wal_busy_ms = 200
        yield store


def wal_size(store: Store) -> int:
    try:
        return os.path.getsize(f"{store.path}-wal")
    except FileNotFoundError:
        return 0


def batches(n: int):
    ids = [f"item-{i:05d}" for i in range(n)]
    for start in range(0, n, BATCH):
        yield [(item, 0.9, 1, RAW, None, 5.0, 0) for item in ids[start:start + BATCH]]


def started_run(store: Store, n: int):
    return create_run(store, policy=make_policy(), golden=make_golden(n), endpoint=Endpoint("http://h/v1", "m"))


def reading(store: Store) -> sqlite3.Connection:
    """Another connection (an app session) inside a read transaction that has read the run."""
    reader = sqlite3.connect(store.path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM predictions").fetchone()
    return reader


def test_a_reader_that_keeps_overlapping_writes_does_not_make_the_wal_grow(store):
    """Each batch is written while a session's read transaction that began before it is still
    open (a new one starts before the old one ends), so SQLite's own checkpoints can never restart
    the file; the store's bound keeps it near max(floor, database)."""
    n = 6000
    run = started_run(store, n)
    reader, peak = reading(store), 0
    for rows in batches(n):
        store.add_predictions(run.id, rows)
        peak = max(peak, wal_size(store))
        reader.execute("COMMIT")  # the old session ends only after the next one has begun
        reader = reading(store)
        reader.close()  # (a fresh session per batch; the overlap is with the write, not between them)
        reader = reading(store)
    reader.execute("COMMIT")
    reader.close()
    database = os.path.getsize(store.path)
    assert peak < 2 * max(store.wal_floor, database), (peak, database)
    assert store.prediction_counts(run.id) == (n, 0, 0) and store.integrity_ok()


def test_a_long_reader_does_not_fail_or_stall_a_write_and_a_later_write_checkpoints(store):
    store.wal_busy_ms = 300
    store.wal_retry_growth = 0  # the very next write tries again
    n = 3000
    run = started_run(store, n)
    chunks = list(batches(n))
    reader = reading(store)  # holds its snapshot through every write below
    for rows in chunks[:-1]:
        store.add_predictions(run.id, rows)
    assert wal_size(store) > max(store.wal_floor, os.path.getsize(store.path))  # over the bound, stuck behind the reader
    began = time.perf_counter()
    store.add_predictions(run.id, chunks[-1][:100])  # the checkpoint gives up after wal_busy_ms; the write stands
    assert time.perf_counter() - began < 5
    assert store._db.execute("PRAGMA busy_timeout").fetchone()[0] == 30000  # the connection's own wait is back
    reader.execute("COMMIT")
    reader.close()
    store.add_predictions(run.id, chunks[-1][100:])  # the reader is gone: this one checkpoints
    assert wal_size(store) == 0
    assert store.prediction_counts(run.id) == (n, 0, 0) and store.integrity_ok()


def test_no_checkpoint_while_the_wal_is_under_the_floor(store):
    store.wal_floor = 1024 * 1024 * 1024
    run = started_run(store, 600)
    for rows in batches(600):
        store.add_predictions(run.id, rows)
    assert wal_size(store) > 0
    assert store.prediction_counts(run.id) == (600, 0, 0)


def test_a_write_inside_atomic_is_not_checkpointed_mid_transaction(store):
    run = started_run(store, 2000)
    with store.atomic():
        for rows in batches(2000):
            store.add_predictions(run.id, rows)
    assert store.prediction_counts(run.id) == (2000, 0, 0) and store.integrity_ok()


def test_readers_that_never_let_go_cost_one_wait_per_step_of_growth_not_one_per_write(store):
    """A checkpoint that gave up is tried again only once the file has grown by a step more
    (``wal_retry_growth`` of the bound): a run beside sessions that always hold a snapshot waits
    a few times, not once per batch."""
    store.wal_busy_ms = 50
    store.wal_retry_growth = 2.0  # the test's floor is tiny: a step of growth spans several batches, as it does at 64 MiB
    n = 8000
    run = started_run(store, n)
    tried = []
    store._db.set_trace_callback(lambda sql: tried.append(sql) if "wal_checkpoint(TRUNCATE)" in sql else None)
    reader = reading(store)  # holds its snapshot through every write below
    over = 0
    for rows in batches(n):
        store.add_predictions(run.id, rows)
        over += wal_size(store) > max(store.wal_floor, os.path.getsize(store.path))
    store._db.set_trace_callback(None)
    reader.execute("COMMIT")
    reader.close()
    assert over >= 20, over  # most writes left the file over the bound
    assert 1 <= len(tried) <= over // 3, (len(tried), over)
    assert store.prediction_counts(run.id) == (n, 0, 0) and store.integrity_ok()
