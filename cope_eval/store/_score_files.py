"""A finished run's scores kept as one Parquet file beside the database
(``.cope_eval/scores/<run id>.parquet``): the columns every metric reads (``item_id``, ``score``,
``error``, ``cached``), so a page that opens two million-item runs reads two small files instead
of turning two million SQLite rows into Python objects (seconds each).

A file names the version of the run's predictions it holds (``runs.predictions_version``, which
every write of a run's predictions raises in the same transaction), and is used only when that is
the run's version now: a resumed run, or errors sent again, makes it stale, never wrong. Only a run
no process is writing gets a file; a run still scoring is read from the database each time.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

VERSION_KEY = b"cope_eval.predictions_version"
"""Parquet metadata naming the predictions version the file holds."""
SCHEMA = pa.schema([("item_id", pa.string()), ("score", pa.float64()), ("error", pa.string()),
                    ("cached", pa.int64()), ("row", pa.int64())])
"""``row``: the item's position in the run's golden set (its stored copy, which never changes), so
that a reader places each score by position instead of matching a million ids (``run_scores``); -1
for an id the set lacks. Files written before it was kept have no ``row``."""


class ScoreFiles:
    """The folder of score files."""

    def __init__(self, folder: Path):
        self.folder = folder

    def read(self, run_id: str, version: int) -> pd.DataFrame | None:
        """The run's scores as of ``version`` (``SCHEMA``; a missing score is NaN, a missing error
        NaN too), or None (no file, another version, unreadable)."""
        if not self.holds(run_id, version):  # none yet, another version, damaged: read the database
            return None
        try:
            table = pq.read_table(self._path(run_id))
        except (OSError, ValueError):
            return None
        return table.to_pandas()  # ids and errors stay Arrow text: no million Python strings

    def holds(self, run_id: str, version: int) -> bool:
        """True when the run's file holds ``version``."""
        try:
            return pq.read_schema(self._path(run_id)).metadata.get(VERSION_KEY) == str(version).encode()
        except (OSError, ValueError, AttributeError):
            return False

    def write(self, run_id: str, version: int, chunks: Iterable[list[tuple]], golden_ids: pd.Index) -> None:
        """Keep the rows (item_id, score, error, cached), given in chunks and written as they come,
        with each item's ``row`` in ``golden_ids`` (the run's set, in order), as version ``version``:
        a temporary file, renamed, so whole or not at all. A write that fails (a full disk) is left
        out: the database still holds every score."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        os.close(fd)
        try:
            with pq.ParquetWriter(tmp, SCHEMA.with_metadata({VERSION_KEY: str(version).encode()})) as writer:
                for rows in chunks:
                    columns = list(zip(*rows))
                    columns.append(golden_ids.get_indexer(list(columns[0])))
                    writer.write_table(pa.Table.from_arrays([pa.array(column, type=field.type) for column, field
                                                             in zip(columns, SCHEMA)], schema=SCHEMA))
            os.replace(tmp, self._path(run_id))
        except OSError:
            pass
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.parquet"
