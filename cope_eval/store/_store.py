"""The workspace store: SQLite (WAL, foreign keys, numbered migrations). All SQL is in this package:
here, and in ``_analyst_records`` for studies, test-split looks, suggestions and triage tags.

Golden-set items are kept as Parquet copies beside the database (``GoldenCopies``); the store
registers each set and reads its items through them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, NotFoundError
from ..records import GoldenSet, PolicyVersion, Run
from ._analyst_records import AnalystRecords
from ._golden_copies import GoldenCopies, ItemLookup
from ._schema import MIGRATIONS
from ._score_files import ScoreFiles
from ._time import utc_now

RUN_COLUMNS = ", ".join(f.name for f in dataclasses.fields(Run))
PREDICTION_FIELDS = ("item_id", "score", "hard_label", "raw", "error", "latency_ms", "cached")


def _run(row: tuple) -> Run:
    """A ``runs`` row (RUN_COLUMNS) as a Run; ``adaptive`` is stored as 0/1."""
    run = Run(*row)
    return dataclasses.replace(run, adaptive=bool(run.adaptive))


def _cannot_open(path: Path, exc: Exception) -> str:
    """Why the store at ``path`` cannot be opened, and what to do, in one sentence."""
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return (f"{path} is not a usable cope-eval store ({exc}). Move it aside (e.g. rename it to store.sqlite3.bad): "
                "an empty store is then created, and policies and golden-set files, kept outside it, are not lost.")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return (f"Cannot open the workspace store {path} ({reason}): the workspace folder must be writable "
            "(not read-only) and its disk not full.")


class Store(AnalystRecords):
    """One SQLite database per workspace. Safe to share between threads (one lock). The analysts'
    records (studies, test-split looks, suggestions, triage tags) are ``AnalystRecords``' SQL."""

    wal_floor: int | None = 64 * 1024 * 1024
    """Bytes of ``-wal`` file below which no write forces a checkpoint (``_bound_wal``); None
    turns the bound off. Tests and benchmarks lower it or switch it off on an instance."""
    wal_busy_ms: int = 2000
    """How long a forced checkpoint waits for readers before it gives up until a later write."""
    wal_retry_growth: float = 0.25
    """After a checkpoint gave up, the next is tried once the ``-wal`` file has grown by this
    fraction of the bound (``max(wal_floor, database)``) more."""

    def __init__(self, private_dir: Path):
        self.private_dir = Path(private_dir)
        self.golden_dir = self.private_dir / "golden"
        self._copies = GoldenCopies(self.golden_dir, self._golden_row)
        self._score_files = ScoreFiles(self.private_dir / "scores")
        self._counts: dict[str, tuple[int, tuple[int, int, int]]] = {}  # run id: (predictions version, counts)
        self._wal_retry_above = 0
        self.path = self.private_dir / "store.sqlite3"
        self._lock = threading.RLock()
        self._db = None
        try:
            self.private_dir.mkdir(parents=True, exist_ok=True)
            self.golden_dir.mkdir(exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:  # a read-only workspace, a full disk, a file that is not a store
            if self._db is not None:
                self._db.close()
            raise ConfigError(_cannot_open(self.path, exc)) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema --------------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self._lock, self._transaction():
            self._db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
            done = {row[0] for row in self._db.execute("SELECT name FROM migrations")}
            for name, sql in MIGRATIONS:
                if name not in done:
                    for statement in sql.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute("INSERT INTO migrations VALUES (?, ?)", (name, utc_now()))

    def migrations(self) -> list[str]:
        return [row[0] for row in self._query("SELECT name FROM migrations ORDER BY name")]

    def integrity_ok(self) -> bool:
        return self._query("PRAGMA integrity_check")[0][0] == "ok"

    # -- policy versions -----------------------------------------------------------------------
    def put_policy_version(self, version: PolicyVersion) -> None:
        self._execute(
            "INSERT OR IGNORE INTO policy_versions (id, policy, text, parent, note, author, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (version.id, version.policy, version.text, version.parent, version.note, version.author,
             version.created or utc_now()),
        )

    def policy_version(self, version_id: str) -> PolicyVersion:
        rows = self._query("SELECT id, policy, text, parent, note, author, created FROM policy_versions WHERE id = ?",
                           (version_id,))
        if not rows:
            raise NotFoundError(f"No policy version {version_id!r} in this workspace's store.")
        return PolicyVersion(*rows[0])

    # -- golden sets ---------------------------------------------------------------------------
    def put_golden_set(self, golden: GoldenSet, *, source: str = "", parent_hash: str | None = None) -> None:
        """Keep a copy of the items (once per hash, ``GoldenCopies``) and register the set."""
        self._copies.write(golden)
        self._execute(
            "INSERT OR IGNORE INTO golden_sets (hash, name, n_items, source, parent_hash, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (golden.hash, golden.name, len(golden), source, parent_hash, utc_now()),
        )

    def golden_set(self, golden_hash: str) -> GoldenSet:
        items = self._copies.read(golden_hash)
        return GoldenSet(self._golden_row(golden_hash)[0], golden_hash, items)

    def golden_columns(self, golden_hash: str, *, only=None, without=(), ids=None) -> pd.DataFrame:
        """Some columns of a stored set's items, in golden order: ``only`` these (those the set
        has), or every one ``without`` these; with ``ids``, only the items with those ids. A page
        that needs labels and categories of a million items does not read their text, and one
        that shows 25 items' text does not hold a million."""
        return self._copies.read(golden_hash, only=only, without=without, ids=ids)

    def golden_lookup(self, golden_hash: str, columns: list[str]) -> ItemLookup:
        """``columns`` of a stored set's items held for looking up a few items at a time (a page of
        flips' text), without a pandas index of a million ids (``ItemLookup``)."""
        return self._copies.lookup(golden_hash, columns)

    def golden_item_count(self, golden_hash: str) -> int:
        """How many items a stored set has, from its row: nothing of the copy is read."""
        rows = self._query("SELECT n_items FROM golden_sets WHERE hash = ?", (golden_hash,))
        if not rows:
            raise NotFoundError(f"No golden set {golden_hash!r} in this workspace's store.")
        return int(rows[0][0])

    def golden_items_page(self, golden_hash: str, offset: int, limit: int) -> pd.DataFrame:
        """Items ``offset`` to ``offset + limit`` (0-based, in the set's order) of a stored set,
        every column; only the row groups that hold them are read."""
        return self._copies.page(golden_hash, offset, limit)

    def golden_item_batches(self, golden_hash: str, *, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """A stored set's items (``columns`` only, when given) in order, a batch at a time."""
        return self._copies.batches(golden_hash, columns=columns)

    def _golden_row(self, golden_hash: str) -> tuple[str, str]:
        """A stored set's (name, source); NotFoundError for a set this store does not know."""
        rows = self._query("SELECT name, source FROM golden_sets WHERE hash = ?", (golden_hash,))
        if not rows:
            raise NotFoundError(f"No golden set {golden_hash!r} in this workspace's store.")
        return rows[0]

    def golden_sets(self, *, study_subsets: bool = False) -> pd.DataFrame:
        """Stored sets, oldest first. A study's item subset (a set only study variants scored, see
        ``runs(variants=False)``) is left out unless ``study_subsets``: it is no set to evaluate on.
        Derived from the runs, so subsets stored before this rule are left out too."""
        variant = "id IN (SELECT run_id FROM study_runs)"
        where = "" if study_subsets else (
            f"WHERE NOT (hash IN (SELECT golden_hash FROM runs WHERE {variant}) "
            f"AND hash NOT IN (SELECT golden_hash FROM runs WHERE NOT {variant})) ")
        return self._frame("SELECT hash, name, n_items, source, parent_hash, created FROM golden_sets "
                           f"{where}ORDER BY created")

    def record_label_change(self, change, *, author: str, reason: str) -> None:
        """Keep who/when/why of a relabel (``golden.LabelChange``); both sets must be stored."""
        self._execute(
            "INSERT INTO label_changes (old_hash, new_hash, item_id, old_label, new_label, author, reason, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (change.old_hash, change.new_hash, change.item_id, change.old_label, change.new_label, author, reason,
             utc_now()),
        )

    def label_history(self, golden_hash: str) -> pd.DataFrame:
        """Every label change that led to ``golden_hash``, oldest first, following parents back."""
        return self._frame(
            "WITH RECURSIVE chain(hash) AS (SELECT ? UNION SELECT g.parent_hash FROM golden_sets g "
            "JOIN chain ON g.hash = chain.hash WHERE g.parent_hash IS NOT NULL) "
            "SELECT c.item_id, c.old_label, c.new_label, c.author, c.reason, c.created, c.old_hash, c.new_hash "
            "FROM label_changes c JOIN chain ON c.new_hash = chain.hash ORDER BY c.id",
            (golden_hash,),
        )

    def has_golden_copy(self, golden_hash: str) -> bool:
        """True when the set's stored copy (its items) is on disk: checked without reading it."""
        return self._copies.exists(golden_hash)

    def golden_lineage(self, golden_hash: str) -> str:
        """The first version of ``golden_hash``'s set: follow parents back to one with none."""
        rows = self._query(
            "WITH RECURSIVE chain(hash, parent, depth) AS (SELECT hash, parent_hash, 0 FROM golden_sets WHERE hash = ? "
            "UNION ALL SELECT g.hash, g.parent_hash, chain.depth + 1 FROM golden_sets g "
            "JOIN chain ON g.hash = chain.parent WHERE chain.depth < 100000) "
            "SELECT hash FROM chain ORDER BY depth DESC LIMIT 1", (golden_hash,))
        if not rows:
            raise NotFoundError(f"No golden set {golden_hash!r} in this workspace's store.")
        return rows[0][0]

    def golden_leaves(self, golden_hash: str) -> list[str]:
        """Versions derived from ``golden_hash`` (itself included) that nothing derives from, newest first."""
        rows = self._query(
            "WITH RECURSIVE tree(hash) AS (SELECT ? UNION SELECT g.hash FROM golden_sets g "
            "JOIN tree ON g.parent_hash = tree.hash) "
            "SELECT g.hash FROM golden_sets g JOIN tree ON g.hash = tree.hash "
            "WHERE NOT EXISTS (SELECT 1 FROM golden_sets c WHERE c.parent_hash = g.hash) "
            "ORDER BY g.created DESC, g.rowid DESC",
            (golden_hash,))
        return [row[0] for row in rows]

    # -- runs ----------------------------------------------------------------------------------
    def create_run(self, run: Run) -> None:
        self._execute(
            "INSERT INTO runs (id, policy_version_id, golden_hash, base_url, model, template, answer_mode, "
            "threshold, concurrency, status, n_items, created, adaptive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run.id, run.policy_version_id, run.golden_hash, run.base_url, run.model, run.template,
             run.answer_mode, run.threshold, run.concurrency, run.status, run.n_items, run.created or utc_now(),
             int(run.adaptive)),
        )

    def run(self, run_id: str) -> Run:
        rows = self._query(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise NotFoundError(f"No run {run_id!r} in this workspace's store.")
        return _run(rows[0])

    def runs(self, *, variants: bool = True) -> list[Run]:
        """Oldest first; runs of the same second in the order they were created. ``variants=False``
        leaves out study variants, keeping the runs an analyst started."""
        where = "" if variants else "WHERE id NOT IN (SELECT run_id FROM study_runs) "
        return [_run(r) for r in self._query(f"SELECT {RUN_COLUMNS} FROM runs {where}ORDER BY created, rowid")]

    def mark_run(self, run_id: str, status: str, *, error: str | None = None, pid: int | None = None,
                 checkpoint: str | None = None, settled_concurrency: int | None = None) -> None:
        """Record a status change; 'running' stamps start and owner (and the checkpoint, when
        given: None keeps the one recorded), end states stamp finish (and the level an adaptive
        run settled on, when given: None keeps the one recorded). A completed run's score file is
        written (``keep_scores``)."""
        now = utc_now()
        if status == "running":
            self._execute("UPDATE runs SET status = ?, started = COALESCE(started, ?), heartbeat = ?, runner_pid = ?, "
                          "error = NULL, checkpoint = COALESCE(?, checkpoint) WHERE id = ?",
                          (status, now, now, pid, checkpoint, run_id))
        else:
            self._execute("UPDATE runs SET status = ?, finished = ?, heartbeat = ?, error = ?, "
                          "settled_concurrency = COALESCE(?, settled_concurrency) WHERE id = ?",
                          (status, now, now, error, settled_concurrency, run_id))
        if status == "completed":
            self.keep_scores(run_id)

    def record_progress(self, run_id: str, progress: dict) -> None:
        """Keep the latest execution's progress (a JSON-able dict) beside the run; it also beats
        the run's heartbeat."""
        self._execute("UPDATE runs SET progress = ?, heartbeat = ? WHERE id = ?",
                      (json.dumps(progress, separators=(",", ":")), utc_now(), run_id))

    def run_progress(self, run_id: str) -> dict | None:
        """What ``record_progress`` kept for the run's latest execution; None before any."""
        rows = self._query("SELECT progress FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise NotFoundError(f"No run {run_id!r} in this workspace's store.")
        return None if rows[0][0] is None else json.loads(rows[0][0])

    def set_run_author(self, run_id: str, author: str) -> None:
        """Record who started the run (``run_authors``); kept apart from ``Run`` so every reader of
        runs stays as it was."""
        self._execute("UPDATE runs SET author = ? WHERE id = ?", (author, run_id))

    def run_authors(self) -> dict[str, str]:
        """Who started each run that records someone (``set_run_author``), by run id."""
        return dict(self._query("SELECT id, author FROM runs WHERE author != ''"))

    # -- predictions and cache -----------------------------------------------------------------
    def add_predictions(self, run_id: str, rows: list[tuple], cache_rows: list[tuple] = ()) -> None:
        """Commit a batch of predictions (and new cache entries) in one transaction.

        ``rows`` follow PREDICTION_FIELDS; ``cache_rows`` are (key, score, hard_label, raw), and
        remember ``run_id`` as the run that stored the answer. A second prediction for an item is
        a bug, so the primary key (run_id, item_id) makes it fail loudly instead of double-counting.
        """
        with self._lock:
            with self._transaction():
                self._db.executemany(
                    "INSERT INTO predictions (run_id, item_id, score, hard_label, raw, error, latency_ms, cached) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(run_id, *row) for row in rows],
                )
                if cache_rows:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO cache (key, score, hard_label, raw, run_id) VALUES (?, ?, ?, ?, ?)",
                        [(*row, run_id) for row in cache_rows],
                    )
                self._db.execute("UPDATE runs SET heartbeat = ?, predictions_version = predictions_version + 1 "
                                 "WHERE id = ?", (utc_now(), run_id))
            self._bound_wal()  # committed: a checkpoint that gives up cannot lose the batch

    def scored_item_ids(self, run_id: str, *, errors: bool = True) -> set[str]:
        """Items of the run with a stored prediction; ``errors=False`` leaves failed ones out."""
        sql = "SELECT item_id FROM predictions WHERE run_id = ?" + ("" if errors else " AND error IS NULL")
        return {row[0] for row in self._query(sql, (run_id,))}

    def delete_errors(self, run_id: str) -> int:
        """Forget a run's failed items so a resume sends them again."""
        with self._lock, self._transaction():
            cursor = self._db.execute("DELETE FROM predictions WHERE run_id = ? AND error IS NOT NULL", (run_id,))
            self._db.execute("UPDATE runs SET predictions_version = predictions_version + 1 WHERE id = ?", (run_id,))
            return cursor.rowcount

    def predictions(self, run_id: str) -> pd.DataFrame:
        return self._frame(f"SELECT {', '.join(PREDICTION_FIELDS)} FROM predictions WHERE run_id = ?", (run_id,))

    def prediction_errors(self, run_id: str) -> pd.DataFrame:
        """The run's predictions that hold an error: ``item_id`` and ``error`` (a million-item run's
        few thousand errors, without reading its million rows into Python)."""
        return self._frame("SELECT item_id, error FROM predictions WHERE run_id = ? AND error IS NOT NULL", (run_id,))

    def prediction_scores(self, run_id: str) -> pd.DataFrame:
        """A run's item_id, score, error and cached, and nothing else: what metrics read. A run
        no process is writing is read from its score file (``ScoreFiles``) when that holds the
        run's predictions version, and the file is written when it does not."""
        version, status = self._predictions_version(run_id)
        found = self._score_files.read(run_id, version)
        if found is None and status not in ("pending", "running"):
            self.keep_scores(run_id)
            found = self._score_files.read(run_id, self._predictions_version(run_id)[0])
        return self._read_scores(run_id) if found is None else found  # None: still scoring, or no file (a full disk)

    def keep_scores(self, run_id: str) -> None:
        """Write the run's score file now, unless it holds the run's predictions already: what
        ``mark_run`` does when a run completes, so that the first page to open it reads the file.
        The rows are streamed into it 100,000 at a time, so a million-item run's runner never
        holds them all at once; one statement reads them, one snapshot. Each row names its item's
        position in the run's golden set (``ScoreFiles``)."""
        version, _ = self._predictions_version(run_id)
        if self._score_files.holds(run_id, version):
            return
        try:  # each score's row in the set, so a reader places the scores without matching a million ids
            golden_ids = pd.Index(self.golden_columns(self.run(run_id).golden_hash, only=["id"])["id"])
        except (ConfigError, NotFoundError):  # no such run, or its set's copy is missing or damaged: no file
            return
        with self._lock:
            cursor = self._db.execute("SELECT item_id, score, error, cached FROM predictions WHERE run_id = ?",
                                      (run_id,))
            self._score_files.write(run_id, version, iter(lambda: cursor.fetchmany(100_000), []), golden_ids)

    def predictions_version(self, run_id: str) -> int:
        """A number every write of the run's predictions raises (a stored batch, errors forgotten
        before a resend): what a cache of them is keyed by. Their count is not: a resend stores as
        many predictions as it forgot."""
        return int(self._predictions_version(run_id)[0])

    def _predictions_version(self, run_id: str) -> tuple[int, str]:
        rows = self._query("SELECT predictions_version, status FROM runs WHERE id = ?", (run_id,))
        return rows[0] if rows else (0, "pending")

    def _read_scores(self, run_id: str) -> pd.DataFrame:
        """``prediction_scores`` from the database, built from the rows as they come (pandas' SQL
        reader takes three times as long on a million). Read after the version: a write between the
        two can only make the file hold more than its version says, and a later version is another
        key, so a file is never used for predictions it lacks."""
        rows = self._query("SELECT item_id, score, error, cached FROM predictions WHERE run_id = ?", (run_id,))
        item_id, score, error, cached = zip(*rows) if rows else ((), (), (), ())
        return pd.DataFrame({"item_id": pd.array(item_id, dtype="str"),
                             "score": np.array(score, dtype=np.float64),  # None (an error) reads as NaN
                             "error": np.array(error, dtype=object), "cached": np.array(cached, dtype=np.int64)})

    def prediction_counts(self, run_id: str) -> tuple[int, int, int]:
        """(stored, errors, served from cache) for a run. Counted once per predictions version
        (every page that lists runs asks on every rerun; a million rows take 0.1 s to count), and
        read after the version, as ``_read_scores`` is."""
        version, _ = self._predictions_version(run_id)
        known = self._counts.get(run_id)
        if known is None or known[0] != version:
            row = self._query("SELECT COUNT(*), COUNT(error), COALESCE(SUM(cached), 0) FROM predictions "
                              "WHERE run_id = ?", (run_id,))[0]
            known = self._counts[run_id] = (version, (int(row[0]), int(row[1]), int(row[2])))
        return known[1]

    def cached(self, keys: list[str]) -> dict[str, tuple]:
        """Cache entries for ``keys``: key -> (score, hard_label, raw)."""
        found: dict[str, tuple] = {}
        with self._lock:
            for start in range(0, len(keys), 900):  # SQLite's bound-parameter limit
                chunk = keys[start:start + 900]
                marks = ",".join("?" * len(chunk))
                for key, *value in self._db.execute(f"SELECT key, score, hard_label, raw FROM cache WHERE key IN ({marks})", chunk):
                    found[key] = tuple(value)
        return found

    # -- plumbing ------------------------------------------------------------------------------
    @contextmanager
    def atomic(self):
        """Everything written inside commits together or not at all (other threads wait). Golden
        snapshot files written inside stay on a rollback: unregistered, content-addressed, harmless."""
        with self._lock, self._transaction():
            yield self

    def _transaction(self):
        return _Transaction(self._db)

    def _bound_wal(self) -> None:
        """After a large write, checkpoint and truncate the ``-wal`` file once it outgrows both
        ``wal_floor`` and the database.

        SQLite's automatic checkpoints are PASSIVE: they copy WAL frames into the database, but the
        file only restarts from its beginning when no reader is using it, and app sessions polling
        the store every second overlap constantly, so it grew without end (932 MB beside a 397 MB
        database). ``wal_checkpoint(TRUNCATE)`` waits for the readers then empties the file. It
        waits through the busy handler, so for this call only the wait is ``wal_busy_ms`` instead
        of the connection's 30 s: a run must not stall behind a reader. Busy (a reader stayed) is
        no error: the write is already committed, and a later write tries again, once the file has
        grown by ``wal_retry_growth`` of the bound more, so readers that never let go cost a run
        one wait per step of growth, not one per write. Inside ``atomic`` (a transaction still
        open) nothing is tried: a checkpoint cannot run there.
        """
        if self.wal_floor is None or self._db.in_transaction:
            return
        try:
            wal, database = os.path.getsize(f"{self.path}-wal"), os.path.getsize(self.path)
        except OSError:  # no -wal file (nothing written since the last one was removed)
            return
        bound = max(self.wal_floor, database)
        if wal <= max(bound, self._wal_retry_above):
            return
        waited = self._db.execute("PRAGMA busy_timeout").fetchone()[0]
        self._db.execute(f"PRAGMA busy_timeout={int(self.wal_busy_ms)}")
        try:
            busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]  # (busy, log, checkpointed)
        except sqlite3.OperationalError:  # locked by another writer: as busy, a later write tries again
            busy = 1
        finally:
            self._db.execute(f"PRAGMA busy_timeout={int(waited)}")
        self._wal_retry_above = wal + int(bound * self.wal_retry_growth) if busy else 0

    def _execute(self, sql: str, params: tuple = ()) -> None:
        with self._lock:
            self._db.execute(sql, params)

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _frame(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        with self._lock:
            return pd.read_sql_query(sql, self._db, params=params)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception. Inside ``Store.atomic`` it joins the
    transaction already open, so the outer one decides."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.joined = False

    def __enter__(self):
        self.joined = self.db.in_transaction
        if not self.joined:
            self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *_):
        if not self.joined:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
