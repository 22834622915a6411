"""Read only the first records of a golden-set file: what an import step shows before mapping.

A preview never parses the whole file: CSV/TSV and JSONL are read as a stream and left after
``limit`` records, Parquet by its first batch. A JSON array has no record boundaries to stop at
without parsing it, so it is read whole and cut (Zentropi's test samples are small files).

Delimiter and encoding are chosen as ``read_table`` chooses them, from the file's first bytes: the
one given, else sniffed or detected. A file that is not UTF-8 is read as ``read_table`` would read
it when the first bytes show it (Windows-1252, or Latin-1); a bad byte further on is the full
load's to report. Rows are numbered as the full load numbers them.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ValidationError
from ._formats import (
    _CP1252_UNDEFINED, _HEAD_BYTES, RawTable, _column_names, _encoding, _fail, _integers_as_text, _read_head,
    csv_records, jsonl_records, pick_delimiter, read_table,
)
from ._mapping import ENCODINGS


def read_head(source: Path | bytes, name: str, fmt: str, limit: int, *, delimiter: str | None = None,
              encoding: str | None = None) -> RawTable:
    """The first ``limit`` records of ``source`` as ``read_table`` would read them, reading no further."""
    if encoding is not None and encoding not in ENCODINGS:
        _fail(name, f"unknown encoding {encoding!r}; use one of {', '.join(ENCODINGS)}", options=("encoding",))
    if fmt == "json":
        table = read_table(source, name, fmt, delimiter=delimiter, encoding=encoding)
        table.frame, table.rows = table.frame.head(limit), table.rows[:limit]
        return table
    if fmt == "parquet":
        return _parquet_head(source, name, limit)
    head = source[:_HEAD_BYTES] if isinstance(source, bytes) else _read_head(source, name)
    if len(head) < _HEAD_BYTES and not head.strip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00"):
        _fail(name, "file is empty")
    text_encoding, how = (encoding, "chosen") if encoding is not None else (_detected(head), "detected")
    stream = _text(source, text_encoding)
    try:
        if fmt in ("csv", "tsv"):
            sep, sep_how = pick_delimiter(fmt, delimiter, head)
            table = csv_records(stream, name, sep, limit=limit)
            table.delimiter, table.delimiter_how = sep, sep_how
        else:
            table = jsonl_records((line.rstrip("\r\n") for line in stream), name, limit=limit)
    finally:
        stream.close()
    table.encoding, table.encoding_how = text_encoding, how
    return table


def _detected(head: bytes) -> str:
    """The encoding ``read_table`` would detect, judged by the first bytes."""
    encoding = _encoding(head)
    if encoding != "utf-8":
        return encoding
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as ex:
        if ex.start < len(head) - 3 or len(head) < _HEAD_BYTES:  # not a character cut at the end of the head
            return "latin-1" if _CP1252_UNDEFINED.search(head) else "cp1252"
    return "utf-8"


def _text(source: Path | bytes, encoding: str) -> io.TextIOWrapper:
    """``source`` as a text stream, BOM skipped; undecodable bytes replaced (the full load reports them)."""
    raw = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115 - closed by caller
    codec = "utf-8-sig" if encoding.startswith("utf-8") else encoding
    return io.TextIOWrapper(raw, encoding=codec, errors="replace", newline="")


def _parquet_head(source: Path | bytes, name: str, limit: int) -> RawTable:
    try:
        file = pq.ParquetFile(pa.BufferReader(source) if isinstance(source, bytes) else str(source))
        batch = next(file.iter_batches(batch_size=max(limit, 1)), None)
        table = pa.Table.from_batches([batch]) if batch is not None else file.schema_arrow.empty_table()
        table = table.slice(0, limit)
        table.validate(full=True)
        names = _column_names([str(n) for n in table.column_names], name)
        frame = _integers_as_text(table.rename_columns(names)).to_pandas(ignore_metadata=True)
    except ValidationError:
        raise
    except Exception as ex:  # noqa: BLE001 - input boundary, as in ``_read_parquet``
        _fail(name, f"not a readable Parquet file ({type(ex).__name__}: {ex})")
    return RawTable(frame, np.arange(1, len(frame) + 1))

