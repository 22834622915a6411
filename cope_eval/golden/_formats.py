"""Readers that turn a golden-set file into a raw table, before any column mapping.

Formats: ``csv`` (also ``tsv``), ``jsonl``, ``json`` (an array of objects, as in Zentropi's test
samples) and ``parquet``. Text formats are read as UTF-8 (a UTF-8 BOM is skipped), as UTF-16
when the file starts with a UTF-16 BOM, and otherwise, with a warning naming the encoding, as
Windows-1252 (Excel's "CSV" on Western systems: “ ” € are bytes 0x80-0x9f there), or as Latin-1
when the file holds one of the five bytes Windows-1252 leaves undefined.

CSV cells are all read as text (so ``007`` stays ``007``); an empty cell is missing. Parquet
integer columns are read as their exact decimal text too (see ``_integers_as_text``). The fast
path is pyarrow's multi-threaded CSV reader straight from the file. Only a file with ragged rows
(a row with more or fewer fields than the header) is re-read with Python's ``csv`` module, to
report those rows by number and let the caller drop them.

The delimiter is the one given, else a tab for ``tsv``, else sniffed (``_mapping.sniff_delimiter``)
from the first lines, else a comma. An encoding given (``_mapping.ENCODINGS``) is used as is, with
no fallback: a byte it cannot read is a file-level problem naming the offset.

Row numbers are 1-based: data rows after the header for CSV, lines for JSONL, elements for a
JSON array, rows for Parquet.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import RowProblem, ValidationError
from ._mapping import ENCODINGS, sniff_delimiter

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
"""Format names accepted by ``read_table`` and ``load_golden_set(fmt=...)``."""

_EXTENSIONS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".json": "json", ".parquet": "parquet", ".pq": "parquet",
}
_HEAD_BYTES = 65536
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
"""The bytes Windows-1252 does not define: a file holding one is not Windows-1252."""
_ENCODING_NAMES = {"cp1252": "Windows-1252", "latin-1": "Latin-1"}


@dataclass
class RawTable:
    """A file's records as read, plus the records that could not be read at all."""

    frame: pd.DataFrame
    """One row per readable record, columns as named in the file."""
    rows: np.ndarray
    """1-based source row number of each frame row."""
    unreadable: list[tuple[int, str, str]] = field(default_factory=list)
    """``(row, problem, raw text)`` for each record that could not be parsed."""
    warnings: list[RowProblem] = field(default_factory=list)
    """File-level notes (encoding fallbacks)."""
    delimiter: str | None = None
    """The delimiter the file was read with (delimited text only)."""
    delimiter_how: str = ""
    """``"chosen"``, ``"sniffed"`` or ``"default"``."""
    encoding: str | None = None
    """The encoding the file was read with (text formats only)."""
    encoding_how: str = ""
    """``"chosen"`` or ``"detected"``."""


def detect_format(name: str, head: bytes = b"") -> str:
    """Format from the file extension, else from the first bytes; defaults to ``csv``."""
    fmt = _EXTENSIONS.get(Path(name).suffix.lower())
    if fmt:
        return fmt
    if head.startswith(b"PAR1"):
        return "parquet"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    return "csv"


def read_table(source: Path | bytes, name: str, fmt: str, *, delimiter: str | None = None,
               encoding: str | None = None) -> RawTable:
    """Read ``source`` (a path or the file's bytes); file-level problems raise ValidationError.

    ``delimiter`` (delimited text) and ``encoding`` (text formats) override what is detected."""
    if fmt not in FORMATS:
        _fail(name, f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if encoding is not None and encoding not in ENCODINGS:
        _fail(name, f"unknown encoding {encoding!r}; use one of {', '.join(ENCODINGS)}", options=("encoding",))
    if fmt == "parquet":
        return _read_parquet(source, name)
    if encoding is not None:  # the user's encoding, strictly: what pyarrow then reads is UTF-8
        data = source if isinstance(source, bytes) else _read_bytes(source, name)
        source = _decode_chosen(data, name, encoding).encode("utf-8")
    head = source[:_HEAD_BYTES] if isinstance(source, bytes) else _read_head(source, name)
    if len(head) < _HEAD_BYTES and not head.strip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00"):
        _fail(name, "file is empty")
    if fmt in ("csv", "tsv"):
        sep, how = pick_delimiter(fmt, delimiter, head)
        table = _read_csv(source, head, name, sep)
        table.delimiter, table.delimiter_how = sep, how
    else:
        data = source if isinstance(source, bytes) else _read_bytes(source, name)
        text, warnings = _decode(data, name)
        table = _read_jsonl(text, name) if fmt == "jsonl" else _read_json(text, name)
        table.warnings[:0] = warnings
        table.encoding, table.encoding_how = _encoding(data), "detected"
        if warnings and table.encoding == "utf-8":
            table.encoding = _fallback_encoding(data)
    if encoding is not None:
        table.encoding, table.encoding_how = encoding, "chosen"
    return table


def _decode_chosen(data: bytes, name: str, encoding: str) -> str:
    """``data`` in the chosen encoding (UTF-8 with or without a BOM); a byte it cannot read fails."""
    try:
        return data.decode("utf-8-sig" if encoding.startswith("utf-8") else encoding)
    except UnicodeDecodeError as ex:
        _fail(name, f"byte 0x{data[ex.start]:02x} at offset {ex.start} cannot be read as {encoding}; "
                    "is the file in another encoding?", options=("encoding",))


def _read_head(path: Path, name: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(_HEAD_BYTES)
    except OSError as ex:
        _fail(name, f"cannot read file ({ex.strerror or ex})")


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as ex:
        _fail(name, f"cannot read file ({ex.strerror or ex})")


def _encoding(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return "utf-8"


def _fallback_encoding(data: bytes) -> str:
    """How to read a file that is not UTF-8: as Windows-1252, what Excel writes on Western systems,
    unless a byte undefined there shows it is not; then as Latin-1, which reads any byte."""
    return "latin-1" if _CP1252_UNDEFINED.search(data) else "cp1252"


def _fallback_warning(name: str, data: bytes, encoding: str) -> RowProblem:
    """Says that the file is not UTF-8, where it first is not, and which encoding was used instead."""
    try:
        data.decode("utf-8")
        where = ""
    except UnicodeDecodeError as ex:
        where = f" (first bad byte 0x{data[ex.start]:02x} at offset {ex.start})"
    why = ""
    if encoding == "latin-1":
        undefined = _CP1252_UNDEFINED.search(data)
        why = f" (not Windows-1252: byte 0x{data[undefined.start()]:02x} at offset {undefined.start()} is undefined there)"
    return RowProblem(name, None, None, None, f"file is not valid UTF-8{where}; read it as "
                      f"{_ENCODING_NAMES[encoding]}{why}: check accented characters")


def _decode(data: bytes, name: str) -> tuple[str, list[RowProblem]]:
    encoding = _encoding(data)
    if encoding == "utf-16":
        try:
            return data.decode("utf-16"), [RowProblem(name, None, None, None, "file is UTF-16; read it as UTF-16")]
        except UnicodeDecodeError:
            _fail(name, "file starts with a UTF-16 byte-order mark but is not valid UTF-16")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        fallback = _fallback_encoding(data)
        return data.removeprefix(b"\xef\xbb\xbf").decode(fallback), [_fallback_warning(name, data, fallback)]


# --- CSV -----------------------------------------------------------------------------------


def _read_csv(source: Path | bytes, head: bytes, name: str, sep: str) -> RawTable:
    encoding = _encoding(head)
    warnings: list[RowProblem] = []
    if encoding == "utf-16":
        warnings.append(RowProblem(name, None, None, None, "file is UTF-16; read it as UTF-16"))
    # pyarrow reads a path itself (no copy into Python); the bytes are read only on a fallback.
    arrow_source = pa.BufferReader(source) if isinstance(source, bytes) else str(source)
    try:
        table = _arrow_csv(arrow_source, head, sep, encoding)
    except (pa.ArrowInvalid, UnicodeError) as ex:
        if "Empty CSV file" in str(ex):
            _fail(name, "file is empty")
        data = source if isinstance(source, bytes) else _read_bytes(source, name)
        table = None
        if "straddl" in str(ex):  # a cell larger than pyarrow's block: read the file as one block
            try:
                table = _arrow_csv(pa.BufferReader(data), head, sep, encoding, block_size=len(data) + 1)
            except (pa.ArrowInvalid, UnicodeError) as again:
                ex = again  # ragged rows or bad UTF-8 as well: handled below
        if table is None and encoding == "utf-8" and "UTF8" in str(ex):
            encoding = _fallback_encoding(data)
            warnings.append(_fallback_warning(name, data, encoding))
            try:
                table = _arrow_csv(pa.BufferReader(data), data[:_HEAD_BYTES], sep, encoding)
            except (pa.ArrowInvalid, UnicodeError):
                table = None
        if table is None:  # ragged rows, or a quirk pyarrow refuses: parse with Python, row by row
            raw = _python_csv(data, name, sep, encoding)
            raw.warnings[:0] = warnings
            raw.encoding, raw.encoding_how = encoding, "detected"
            return raw
    except (pa.ArrowException, ValueError, OSError) as ex:
        _fail(name, f"not a readable CSV file ({ex})")
    table = table.rename_columns(_column_names(table.column_names, name))
    frame = table.to_pandas()
    return RawTable(frame, np.arange(1, len(frame) + 1), warnings=warnings, encoding=encoding, encoding_how="detected")


def _arrow_csv(source, head: bytes, sep: str, encoding: str, *, block_size: int | None = None) -> pa.Table:
    header = _header(head, sep, encoding)
    options = {"block_size": block_size} if block_size else {}
    table = pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(encoding="utf8" if encoding == "utf-8" else encoding, **options),
        parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.large_string() for c in header},
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )
    # A header the quick parse above got wrong leaves inferred types: make everything text.
    for i, col in enumerate(table.schema):
        if col.type != pa.large_string():
            table = table.set_column(i, col.name, table.column(i).cast(pa.large_string()))
    return table


def _header(head: bytes, sep: str, encoding: str) -> list[str]:
    text = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    try:
        return next(csv.reader(io.StringIO(text), delimiter=sep), [])
    except csv.Error:
        return []


def _python_csv(data: bytes, name: str, sep: str, encoding: str) -> RawTable:
    text = data.decode(encoding, errors="replace").lstrip("\ufeff")
    return csv_records(io.StringIO(text, newline=""), name, sep)


def csv_records(stream, name: str, sep: str, *, limit: int | None = None) -> RawTable:
    """Parse delimited text from ``stream`` (text, BOM already skipped) with Python's ``csv``
    module, row by row: rows with more or fewer fields than the header are reported, not kept.
    With ``limit``, stops after that many records: nothing past them is read."""
    reader = csv.reader(stream, delimiter=sep)
    try:
        header = next(reader, None)
        if not header:
            _fail(name, "file has no header row")
        names = _column_names(header, name)
        good, rows, unreadable = [], [], []
        number = 0
        for record in reader:
            if not record:
                continue  # blank line: skipped, as the fast path does
            if limit is not None and number >= limit:
                break
            number += 1
            if len(record) == len(names):
                good.append([cell if cell != "" else None for cell in record])
                rows.append(number)
            else:
                raw = sep.join(record)
                unreadable.append(
                    (number, f"row has {len(record)} fields but the header has {len(names)}", raw)
                )
    except csv.Error as ex:
        _fail(name, f"not a readable CSV file (line {reader.line_num}: {ex})")
    frame = pd.DataFrame(good, columns=names, dtype="str") if good else pd.DataFrame(
        {c: pd.Series([], dtype="str") for c in names}
    )
    return RawTable(frame, np.asarray(rows, dtype=np.int64), unreadable)


def _column_names(names: list[str], file: str) -> list[str]:
    names = [n if n.strip() else f"column_{i + 1}" for i, n in enumerate(names)]
    seen = set()
    for n in names:
        if n in seen:
            _fail(file, f"column {n!r} appears twice in the header; rename one of them", column=n)
        seen.add(n)
    return names


# --- JSON / JSONL ----------------------------------------------------------------------------


def _read_jsonl(text: str, name: str) -> RawTable:
    return jsonl_records(text.split("\n"), name)


def jsonl_records(lines, name: str, *, limit: int | None = None) -> RawTable:
    """One record per non-blank line of ``lines``; with ``limit``, stops after that many records
    (readable or not): nothing past them is read."""
    records, rows, unreadable = [], [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if limit is not None and len(records) + len(unreadable) >= limit:
            break
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as ex:
            unreadable.append((number, f"line is not valid JSON ({_json_reason(ex)})", line))
            continue
        if not isinstance(value, dict):
            unreadable.append((number, f"line is a JSON {_json_type(value)}, not an object", line))
            continue
        records.append(value)
        rows.append(number)
    return RawTable(_records_frame(records), np.asarray(rows, dtype=np.int64), unreadable)


def _read_json(text: str, name: str) -> RawTable:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as ex:
        _fail(name, f"not valid JSON ({_json_reason(ex)})")
    if not isinstance(value, list):
        _fail(name, f"expected a JSON array of objects (Zentropi test samples), found a JSON {_json_type(value)}")
    records, rows, unreadable = [], [], []
    for number, element in enumerate(value, start=1):
        if isinstance(element, dict):
            records.append(element)
            rows.append(number)
        else:
            unreadable.append((number, f"element is a JSON {_json_type(element)}, not an object", _dump(element)))
    return RawTable(_records_frame(records), np.asarray(rows, dtype=np.int64), unreadable)


def _records_frame(records: list[dict]) -> pd.DataFrame:
    # object dtype throughout (nested values stay dicts/lists): the column mapper converts
    # each column deliberately.
    if not records:
        return pd.DataFrame()
    if any(not _encodable(k) for r in records for k in r):  # keys from "\ud800"-style escapes
        records = [{(k if _encodable(k) else ascii(k)): v for k, v in r.items()} for r in records]
    columns = list(dict.fromkeys(k for r in records for k in r))
    # Built column by column as object arrays: no dtype inference (it chokes on lone surrogates).
    return pd.DataFrame({c: pd.Series([r.get(c) for r in records], dtype=object) for c in columns},
                        index=pd.RangeIndex(len(records)))


def _encodable(key: str) -> bool:
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _dump(value) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):
        return repr(value)


def _json_type(value) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _json_reason(ex: Exception) -> str:
    return str(ex) if isinstance(ex, ValueError) else "nested too deeply"


# --- Parquet ---------------------------------------------------------------------------------


def _read_parquet(source: Path | bytes, name: str) -> RawTable:
    try:
        table = pq.read_table(pa.BufferReader(source) if isinstance(source, bytes) else str(source))
        table.validate(full=True)  # Parquet readers do not check that strings are valid UTF-8
        names = _column_names([str(n) for n in table.column_names], name)
        # ignore_metadata: a pandas index saved in the file comes back as a plain column
        frame = _integers_as_text(table.rename_columns(names)).to_pandas(ignore_metadata=True)
    except ValidationError:
        raise
    except Exception as ex:  # noqa: BLE001 - input boundary: pyarrow and the pandas metadata
        # embedded in a Parquet file can fail in many ways on a corrupt file.
        _fail(name, f"not a readable Parquet file ({type(ex).__name__}: {ex})")
    return RawTable(frame, np.arange(1, len(frame) + 1))


def _integers_as_text(table: pa.Table) -> pa.Table:
    """Integer columns as their exact decimal text, as a CSV file would give them.

    pandas turns an integer column with a null into float64: id 101 would become "101.0", and
    distinct ids beyond 2**53 would collide. A null stays missing (a missing id gets a derived one).
    """
    for i, column in enumerate(table.schema):
        if pa.types.is_integer(column.type):
            table = table.set_column(i, column.name, table.column(i).cast(pa.large_string()))
    return table


def _fail(file: str, problem: str, *, column: str | None = None, options: tuple[str, ...] = ()):
    raise ValidationError([RowProblem(file=file, row=None, column=column, value=None, problem=problem)],
                          options=options)


def pick_delimiter(fmt: str, delimiter: str | None, head: bytes) -> tuple[str, str]:
    """The delimiter of a CSV or TSV file and how it was found: the user's (``"chosen"``), a TSV's
    tab or a comma (``"default"``), or sniffed from the file's first bytes ``head``."""
    if delimiter is not None:
        return delimiter, "chosen"
    if fmt == "tsv":
        return "\t", "default"
    sep, sniffed = sniff_delimiter(head.decode(_encoding(head), errors="ignore"))
    return sep, "sniffed" if sniffed else "default"
