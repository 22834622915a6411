"""Golden sets: load a labeled file, reject or drop bad rows, hash the items, relabel one.

Supported inputs (see ``golden_formats``): CSV/TSV, JSONL, JSON arrays (Zentropi test samples:
``content_text | content_image | content_video`` + ``expected_label``), Zentropi's CSV
(``content_text,content_image_url,content_video_url,expected_label,sample_id``), vibecheck sets
(``id,content,ground_truth`` + ``source,subgroup``) and Parquet. Columns are found by name (see
``golden._columns.CANDIDATES``) unless a ``ColumnSpec`` names them. The delimiter, the encoding
and the label rule (``golden_mapping``) can be given; ``LoadResult.rule`` says what was used.
Every other column is kept as metadata, typed text, number or boolean by the rows kept
(``golden._metadata``); ``write_golden_set`` writes it so that a reload gives it back the same.

The set hash is ``sha256:<hex>`` over this canonical serialisation (format v1):

1. the ASCII bytes ``cope-eval/golden-set@1\\n``;
2. the item count as an unsigned 64-bit little-endian integer;
3. for each column in the order id, text, label, image, category, with items sorted by the
   UTF-8 bytes of their id: every value's UTF-8 byte length as a signed 64-bit little-endian
   integer (-1 when the value is missing), then all present values' UTF-8 bytes concatenated.
   The label is the text ``0`` or ``1``; text is never missing (an image-only item has ``""``).

4. only when at least one item has a video: the columns video and video_digest, in the same
   way (``video_digest`` is ``sha256:<hex>`` of the video's bytes, missing for an http(s) URL
   that was not fetched). A set without video hashes exactly as before videos were supported.
5. only when at least one item has a split: the column split (``dev`` or ``test``), in the
   same way. A set without a split hashes exactly as before splits were supported.

So row order and metadata columns do not change the hash; any change to an id, text, label,
image reference, category, video (its reference or a single byte of it) or split does: moving
one item between dev and test makes another version. Images are
hashed by reference, not by their bytes; videos by both, so a cached answer or a relabel never
stands for other footage under the same file name.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._util.atomic_files import create_exclusive, replace_atomic
from ..errors import ConfigError, NotFoundError, RowProblem, ValidationError
from ..records import GoldenSet
from ._formats import FORMATS, detect_format, read_table
from ._head import read_head
from ._mapping import ImportRule, LabelRule
from ._metadata import metadata_json, with_typed_metadata
from ._columns import guess_columns
from ._validate import check_items
from ._videos import VideoLimits

HASH_HEADER = b"cope-eval/golden-set@1\n"
"""First bytes of the canonical serialisation; bump the version if the rules ever change."""
HASHED_COLUMNS = ("id", "text", "label", "image", "category")
"""The columns every set's hash covers, in order."""
VIDEO_HASHED_COLUMNS = ("video", "video_digest")
"""The columns hashed after them when at least one item has a video."""
SPLIT_HASHED_COLUMNS = ("split",)
"""The column hashed last when at least one item has a split."""


@dataclass(frozen=True)
class ColumnSpec:
    """Which file column plays which role; None means "find it by the usual names"."""

    text: str | None = None
    """Content text column (auto: content, content_text, text, prompt)."""
    label: str | None = None
    """0/1 label column (auto: label, expected_label, ground_truth, gold)."""
    image: str | None = None
    """Image reference column (auto: image, content_image, content_image_url)."""
    id: str | None = None
    """Item id column (auto: id, sample_id); ids are generated from content when absent."""
    category: str | None = None
    """Category column for per-category tables (auto: category, subgroup)."""
    video: str | None = None
    """Video reference column (auto: video, content_video, content_video_url)."""


@dataclass(frozen=True)
class LoadResult:
    """A loaded set, what was noticed on the way, and what was left out."""

    golden_set: GoldenSet
    """The items that passed every check."""
    warnings: tuple[RowProblem, ...]
    """Things accepted but worth knowing: encoding fallbacks, label spellings read as 0/1,
    repeated items, image URLs not fetched."""
    dropped: pd.DataFrame
    """Rows left out (only with ``drop_bad_rows=True``): ``row``, ``problem``, then the row's
    columns as read; ``raw`` holds the text of records that could not be parsed at all."""
    problems: tuple[RowProblem, ...]
    """Every problem that made a row be dropped (several per row are possible)."""
    rule: ImportRule | None = None
    """How the file was read and mapped: delimiter, encoding, columns, label rule."""


@dataclass(frozen=True)
class LabelChange:
    """What ``relabel`` changed; the store adds who, when and why."""

    item_id: str
    """Id of the relabeled item."""
    old_label: int
    """Its label before (0 or 1)."""
    new_label: int
    """Its label now (0 or 1)."""
    old_hash: str
    """Hash of the set before the change."""
    new_hash: str
    """Hash of the set after the change."""


def load_golden_set(
    source: Path | str | bytes,
    workspace: Path,
    *,
    spec: ColumnSpec | None = None,
    fmt: str | None = None,
    name: str | None = None,
    filename: str | None = None,
    drop_bad_rows: bool = False,
    allow_urls: bool = False,
    delimiter: str | None = None,
    encoding: str | None = None,
    label_rule: LabelRule | None = None,
    video_limits: VideoLimits | None = None,
) -> LoadResult:
    """Load and validate a golden-set file (a path, or uploaded bytes with ``filename``).

    Any bad row rejects the whole file with a ``ValidationError`` listing every problem (file,
    row, column, value), unless ``drop_bad_rows`` is set: then bad rows are left out and returned
    in ``LoadResult.dropped``. Problems with the file itself (unreadable, no label column...)
    always raise. Image paths are resolved inside ``workspace``; http(s) image URLs are fetched
    (and checked) only when ``allow_urls`` is set, otherwise kept as references.

    ``delimiter`` and ``encoding`` override what is sniffed and detected (``golden_mapping``);
    ``label_rule`` turns the label column's values into 0/1 (default: 0 and 1 as in the file).
    Each distinct video is read once, checked against ``video_limits`` (default: ``VideoLimits()``,
    50 MiB and 300 s) and its bytes' digest kept in ``video_digest``; no two are held at once.
    """
    source, shown, fmt = _source(source, filename, fmt)
    raw = read_table(source, shown, fmt, delimiter=delimiter, encoding=encoding)
    label_rule = label_rule or LabelRule()
    checked = check_items(raw, shown, spec, Path(workspace), allow_urls=allow_urls, label_rule=label_rule,
                          video_limits=video_limits or VideoLimits())
    fixes = ("label_rule",) if label_rule.kind == "as is" and any(
        p.problem == "label must be 0 or 1" for p in checked.problems) else ()
    if checked.problems and not drop_bad_rows:
        rows = {p.row for p in checked.problems if p.row is not None}
        first = "; ".join(str(p) for p in checked.problems[:5])
        more = f" (and {len(checked.problems) - 5} more)" if len(checked.problems) > 5 else ""
        raise ValidationError(
            checked.problems,
            headline=f"{shown} was rejected: {len(checked.problems)} problem(s) in {len(rows)} row(s): "
            f"{first}{more}. Fix them and load the file again.",
            options=fixes + ("drop_bad_rows",),
        )
    keep = ~checked.bad
    if not keep.any():
        raise ValidationError(checked.problems, headline=f"{shown}: no valid rows left after dropping bad rows",
                              options=fixes)
    if checked.bad.any():
        items, digest = checked.items[keep].reset_index(drop=True), None
    else:
        items, digest = checked.items, _hash(checked.items, checked.id_order)
    items = with_typed_metadata(items)  # by the rows kept: a dropped row's cell does not make a column text
    dropped = _dropped(raw, checked) if drop_bad_rows else _no_drops()
    golden = GoldenSet(name=name or Path(shown).stem, hash=digest or golden_set_hash(items), items=items)
    rule = ImportRule(tuple((role, column) for role, column in checked.columns.items() if column is not None),
                      label_rule, raw.delimiter, raw.delimiter_how, raw.encoding, raw.encoding_how)
    return LoadResult(golden, tuple(raw.warnings + checked.warnings), dropped,
                      tuple(checked.problems) if drop_bad_rows else (), rule)


@dataclass(frozen=True)
class FilePreview:
    """A file as read, before any column mapping: what an import step offers to map."""

    fmt: str
    """The format read (``FORMATS``)."""
    frame: pd.DataFrame
    """The readable records read (every one, or the first ``rows``), columns as named in the file
    (CSV cells as text)."""
    guessed: dict[str, str | None]
    """The column each role would take by name (text, label, image, video, id, category)."""
    delimiter: str | None
    """The delimiter read with (delimited text only)."""
    delimiter_how: str
    """``"chosen"``, ``"sniffed"`` or ``"default"``."""
    encoding: str | None
    """The encoding read with (text formats only)."""
    encoding_how: str
    """``"chosen"`` or ``"detected"``."""


def preview_file(source: Path | str | bytes, *, filename: str | None = None, fmt: str | None = None,
                 delimiter: str | None = None, encoding: str | None = None, rows: int | None = None) -> FilePreview:
    """Read a file as ``load_golden_set`` would, without mapping or checking its rows.

    ``rows``: read only the first that many records (``_head``), nothing past them, so a preview
    of a million-row file costs what it shows; None reads every record."""
    source, shown, fmt = _source(source, filename, fmt)
    if rows is None:
        raw = read_table(source, shown, fmt, delimiter=delimiter, encoding=encoding)
    else:
        raw = read_head(source, shown, fmt, rows, delimiter=delimiter, encoding=encoding)
    columns = [str(c) for c in raw.frame.columns]
    return FilePreview(fmt, raw.frame, guess_columns(columns), raw.delimiter, raw.delimiter_how, raw.encoding,
                       raw.encoding_how)


def _source(source: Path | str | bytes, filename: str | None, fmt: str | None) -> tuple[Path | bytes, str, str]:
    """(source, the name shown in messages, format) for a path or uploaded bytes."""
    if isinstance(source, bytes):
        shown = filename or "upload"
        head = source[:8]
    else:
        source = Path(source)
        shown = filename or source.name
        head = _head(source)
    fmt = fmt or detect_format(shown, head)
    if fmt not in FORMATS:
        raise ValidationError([RowProblem(shown, None, None, fmt, f"unknown format; use one of {', '.join(FORMATS)}")])
    return source, shown, fmt


def golden_set_hash(items: pd.DataFrame) -> str:
    """``sha256:<hex>`` of the canonical serialisation described in this module's docstring."""
    return _hash(items, None)


def _hash(items: pd.DataFrame, order: pa.Array | None) -> str:
    digest = hashlib.sha256(HASH_HEADER)
    digest.update(struct.pack("<Q", len(items)))
    ids = _strings(items["id"])
    order = pc.sort_indices(ids) if order is None else order
    has_video = "video" in items.columns and bool(items["video"].notna().any())
    has_split = "split" in items.columns and bool(items["split"].notna().any())
    for column in (HASHED_COLUMNS + (VIDEO_HASHED_COLUMNS if has_video else ())
                   + (SPLIT_HASHED_COLUMNS if has_split else ())):
        if column == "label":
            labels = np.asarray(items["label"], dtype="int64")[np.asarray(order)]
            if not np.isin(labels, (0, 1)).all():
                raise ValueError("labels must be 0 or 1 to hash a golden set")
            digest.update(np.ones(len(labels), dtype="<i8").tobytes())
            digest.update((labels + ord("0")).astype(np.uint8).tobytes())
            continue
        values = (ids if column == "id" else _strings(items[column])).take(order)
        chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
        for chunk in chunks:
            digest.update(np.asarray(pc.fill_null(pc.binary_length(chunk), -1), dtype="<i8").tobytes())
        for chunk in chunks:
            buffers = chunk.buffers()
            if len(chunk) and buffers[2] is not None:
                offsets = np.frombuffer(buffers[1], dtype=np.int64)
                digest.update(memoryview(buffers[2])[offsets[chunk.offset] : offsets[chunk.offset + len(chunk)]])
    return "sha256:" + digest.hexdigest()


def relabel(golden_set: GoldenSet, item_id: str, new_label: int) -> tuple[GoldenSet, LabelChange]:
    """Return a new set with ``item_id`` labeled ``new_label`` (0 or 1), and the change made.

    Every other column is kept as it was, the split included: a relabel never moves an item
    between dev and test. The given set is left as it was. Raises ``NotFoundError`` for an
    unknown id and ``ValidationError`` for a label other than 0/1 or one equal to the current label.
    """
    if new_label not in (0, 1) or isinstance(new_label, float):
        raise ValidationError([RowProblem(golden_set.name, None, "label", str(new_label), "new label must be 0 or 1")])
    ids = golden_set.items["id"]
    where = np.flatnonzero((ids == item_id).to_numpy())
    if len(where) == 0:
        raise NotFoundError(f"Golden set {golden_set.name!r} has no item with id {item_id!r}")
    old_label = int(golden_set.items["label"].iat[where[0]])
    if old_label == int(new_label):
        raise ValidationError(
            [RowProblem(golden_set.name, int(where[0]) + 1, "label", str(new_label),
                        f"item {item_id!r} already has label {old_label}; nothing to change")]
        )
    items = golden_set.items.copy(deep=False)  # copy-on-write: only the label column is copied
    labels = items["label"].to_numpy(copy=True)
    labels[where] = int(new_label)
    items["label"] = labels
    new_set = GoldenSet(name=golden_set.name, hash=golden_set_hash(items), items=items)
    return new_set, LabelChange(str(item_id), old_label, int(new_label), golden_set.hash, new_set.hash)


def write_golden_set(golden_set: GoldenSet, dest: Path, *, fmt: str | None = None, overwrite: bool = False) -> Path:
    """Write the items as CSV, JSONL or Parquet (by ``fmt`` or the extension); loading the file
    back gives the same hash and the same metadata: names, types and values (floats exactly).
    Refuses to replace an existing file unless ``overwrite``."""
    dest = Path(dest)
    fmt = fmt or detect_format(dest.name)
    if fmt == "csv":
        data = golden_set.items.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
    elif fmt == "jsonl":
        data = _jsonl(golden_set.items)
    elif fmt == "parquet":
        data = golden_set.items.to_parquet(index=False)
    else:
        raise ConfigError(f"Cannot write golden sets as {fmt!r}; use .csv, .jsonl or .parquet")
    if overwrite:
        replace_atomic(dest, data)
    elif not create_exclusive(dest, data):
        raise ConfigError(f"{dest} already exists; choose another name", options=("overwrite",))
    return dest


def _jsonl(items: pd.DataFrame) -> bytes:
    """One JSON object per line, missing values as null.

    pandas' writer (fast) rounds floats to 10 digits, so a set with a float column is written by
    ``json`` instead (about 7 s a million rows), which writes every digit a float needs."""
    if not any(pd.api.types.is_float_dtype(dtype) for dtype in items.dtypes):
        return items.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    names = [str(c) for c in items.columns]
    columns = [_python_values(items[c]) for c in items.columns]
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    return "".join(encode(dict(zip(names, row))) + "\n" for row in zip(*columns)).encode("utf-8")


def _python_values(series: pd.Series) -> list:
    """The column as Python values (int, float, bool, str), None where missing."""
    values = series.astype(object).where(series.notna().to_numpy(), None).tolist()
    return [metadata_json(v) for v in values] if series.dtype == object else values


def _strings(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    return pa.array(series, type=pa.large_string(), from_pandas=True)


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError:
        return b""  # read_table reports the unreadable file with its reason


def _no_drops() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series([], dtype="int64"), "problem": pd.Series([], dtype="str")})


def _dropped(raw, checked) -> pd.DataFrame:
    reasons: dict[int, list[str]] = {}
    for p in checked.problems:
        reasons.setdefault(p.row, []).append(p.problem)
    parsed = raw.frame[checked.bad]
    taken = [c for c in ("row", "problem", "raw") if c in parsed.columns]
    parsed = parsed.rename(columns={c: f"orig_{c}" for c in taken})  # the file's own "row" column
    parsed.insert(0, "row", raw.rows[checked.bad])
    parsed.insert(1, "problem", ["; ".join(reasons.get(int(r), [])) for r in parsed["row"]])
    unparsed = pd.DataFrame(
        {"row": [r for r, _, _ in raw.unreadable], "problem": [p for _, p, _ in raw.unreadable],
         "raw": [t for _, _, t in raw.unreadable]}
    )
    frames = [f for f in (parsed, unparsed) if len(f)]
    if not frames:
        return _no_drops()
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return out.sort_values("row", kind="stable").reset_index(drop=True)
