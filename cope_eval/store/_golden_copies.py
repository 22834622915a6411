"""Golden-set items kept as content-addressed Parquet copies beside the database
(``.cope_eval/golden/<hex>.parquet``): a million rows load in a second from there, a run can
always be resumed or re-read against exactly the items it was scored on, and a page of items or a
few columns are read without the rest (row groups of ``SNAPSHOT_ROW_GROUP`` rows).

The database row of a set (its name and source) is the Store's; this module only names it in an
error, through the ``whose`` function it is given.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import ConfigError
from ..records import GoldenSet

SNAPSHOT_ROW_GROUP = 65_536
"""Rows per row group of a stored copy: a page of items reads one or two groups, not the set."""
PAGE_BATCH_ROWS = 8_192
"""Rows decoded at a time when a page or a pass reads a stored copy."""


class GoldenCopies:
    """The folder of stored copies. ``whose(hash)`` gives a registered set's (name, source) and
    raises NotFoundError for a set the store does not know."""

    def __init__(self, folder: Path, whose: Callable[[str], tuple[str, str]]):
        self.folder, self._whose = folder, whose

    def path(self, golden_hash: str) -> Path:
        return self.folder / (golden_hash.split(":", 1)[-1] + ".parquet")

    def exists(self, golden_hash: str) -> bool:
        """True when the copy is on disk: checked without reading it."""
        return self.path(golden_hash).is_file()

    def write(self, golden: GoldenSet) -> None:
        """Keep the items once per hash; written whole or not at all (a temporary file, renamed)."""
        snapshot = self.path(golden.hash)
        if snapshot.exists():
            return
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        os.close(fd)
        try:
            golden.items.to_parquet(tmp, index=False, row_group_size=SNAPSHOT_ROW_GROUP)
            os.replace(tmp, snapshot)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def read(self, golden_hash: str, *, only=None, without=(), ids=None) -> pd.DataFrame:
        """The items in golden order: ``only`` these columns (those the set has), or every one
        ``without`` these; with ``ids``, only the items with those ids."""
        name_source = self._whose(golden_hash)
        snapshot = self.path(golden_hash)
        try:
            if only is None and not without and ids is None:
                return pd.read_parquet(snapshot)
            present = pq.read_schema(snapshot).names
            return pd.read_parquet(snapshot, columns=[c for c in present
                                                      if (only is None or c in only) and c not in without],
                                   filters=None if ids is None else [("id", "in", list(ids))])
        except (OSError, ValueError) as exc:  # missing, unreadable, or not Parquet (ArrowInvalid)
            raise _unreadable(*name_source, snapshot, exc) from None

    def lookup(self, golden_hash: str, columns: list[str]) -> "ItemLookup":
        """``columns`` (those the set has; ``id`` always) of every item, held compactly, for
        looking up a few items at a time (``ItemLookup``)."""
        present = self._open(golden_hash).schema_arrow.names
        wanted = ["id", *(c for c in columns if c in present and c != "id")]
        return ItemLookup(pq.read_table(self.path(golden_hash), columns=wanted))

    def page(self, golden_hash: str, offset: int, limit: int) -> pd.DataFrame:
        """Items ``offset`` to ``offset + limit`` (0-based, in the set's order), every column:
        only the row groups that hold them are read, a batch at a time."""
        offset, limit = max(0, int(offset)), max(0, int(limit))
        file = self._open(golden_hash)
        groups, start, at = [], 0, 0
        for i in range(file.metadata.num_row_groups):
            size = file.metadata.row_group(i).num_rows
            if at + size > offset and at < offset + limit:
                start = start if groups else at
                groups.append(i)
            at += size
        batches, skip = [], offset - start
        for batch in file.iter_batches(batch_size=PAGE_BATCH_ROWS, row_groups=groups) if groups and limit else ():
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            batches.append(batch.slice(skip, limit - sum(b.num_rows for b in batches)))
            skip = 0
            if sum(b.num_rows for b in batches) >= limit:
                break
        return pa.Table.from_batches(batches, schema=file.schema_arrow).to_pandas()

    def batches(self, golden_hash: str, *, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """The items (``columns`` only, when given) in order, ``PAGE_BATCH_ROWS`` at a time: a
        pass over a million items holds one batch."""
        file = self._open(golden_hash)
        schema = file.schema_arrow
        if columns is not None:
            columns = [c for c in columns if c in schema.names]
            schema = pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)
        for batch in file.iter_batches(batch_size=PAGE_BATCH_ROWS, columns=columns):
            yield pa.Table.from_batches([batch], schema=schema).to_pandas()

    def _open(self, golden_hash: str) -> pq.ParquetFile:
        name_source = self._whose(golden_hash)
        snapshot = self.path(golden_hash)
        try:
            return pq.ParquetFile(snapshot)
        except (OSError, ValueError) as exc:
            raise _unreadable(*name_source, snapshot, exc) from None


class ItemLookup:
    """Some columns of a set's items as one Arrow table (a million short texts: about 130 MB, not
    the Python strings a pandas index of them builds), and ``rows(ids)``: the items with those ids,
    found by one scan of the id column (10 ms for 25 of a million), never an index of a million ids."""

    def __init__(self, table: pa.Table):
        self.table = table

    def frame(self) -> pd.DataFrame:
        """Every item, in the set's order (its text stays Arrow: no million Python strings)."""
        return self.table.to_pandas()

    def rows(self, ids: list[str]) -> pd.DataFrame:
        """The items of ``ids``, in that order; an id the set lacks gives a row of missing values."""
        wanted = pa.array(list(ids), type=self.table.schema.field("id").type)
        found = self.table.filter(pc.is_in(self.table["id"], value_set=wanted)).to_pandas()
        return found.set_index("id").reindex(list(ids)).rename_axis("id").reset_index()


def _unreadable(name: str, source: str, snapshot: Path, exc: Exception) -> ConfigError:
    """Why a set's stored copy cannot be read (missing, unreadable, not Parquet), and the fix."""
    missing = isinstance(exc, FileNotFoundError)
    return ConfigError(
        f"The stored copy of golden set {name!r} ({snapshot}) is {'missing' if missing else 'damaged'}; "
        f"{'' if missing else 'delete it, then '}add the golden set's file again"
        f"{f' ({source})' if source else ''}: the same items restore this very set.")
