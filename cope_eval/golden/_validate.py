"""Map a raw table's columns to golden items and find every bad row, with vectorised checks.

Only image and video rows get per-row Python work (each distinct reference is opened once), plus
one hash per distinct content for rows that have no id.
"""

from __future__ import annotations

import decimal
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import RowProblem, ValidationError
from ..records import SPLIT_VALUES
from ._formats import RawTable
from ._images import check_image, image_kind
from ._columns import resolve_columns
from ._videos import VideoLimits, check_video
from ._mapping import LabelRule
from ._metadata import metadata_name

MAX_TEXT_CHARS = 1_000_000
"""Longest item text accepted, in characters: about 250k tokens, more than any model cope-eval
scores with can read next to a policy. A longer cell is a row problem, not a 20 MB prompt."""

LABEL_ALIASES = {"1.0": 1, "0.0": 0, "true": 1, "false": 0, "yes": 1, "no": 0}
"""Label spellings read as 0/1 with a warning (compared stripped and lower-cased)."""


@dataclass
class Checked:
    """Normalised items for every readable row, and what is wrong with which rows."""

    items: pd.DataFrame
    """ITEM_COLUMNS then metadata (as text), one row per row of the raw frame."""
    bad: np.ndarray
    """True for each items row that has at least one problem."""
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    id_order: pa.Array | None = None
    """Stable sort order of the ids (reused for the set hash when no row is dropped)."""
    columns: dict[str, str | None] = field(default_factory=dict)
    """The column each role was read from."""


def check_items(raw: RawTable, file: str, spec, workspace: Path, *, allow_urls: bool,
                label_rule: LabelRule | None = None, video_limits: VideoLimits = VideoLimits()) -> Checked:
    """Resolve columns (file-level problems raise ValidationError) and check every row; the
    label column's values become 0/1 by ``label_rule`` (None: 0 and 1 as in the file)."""
    frame, rows = raw.frame, raw.rows
    if len(frame) == 0:
        if raw.unreadable:
            raise ValidationError([RowProblem(file, r, None, _short(t), p) for r, p, t in raw.unreadable])
        raise ValidationError([RowProblem(file, None, None, None, "file has no data rows")])
    cols = resolve_columns([str(c) for c in frame.columns], spec, file)
    problems: list[RowProblem] = [RowProblem(file, r, None, _short(t), p) for r, p, t in raw.unreadable]
    warnings: list[RowProblem] = []
    bad = np.zeros(len(frame), dtype=bool)

    def add(mask, column, values, message):
        idx = np.flatnonzero(mask)
        bad[idx] = True
        for i in idx:
            value = None if values is None else values.iat[i]
            shown = None if _isna(value) else _short(_describe(value))
            text = message(i) if callable(message) else message
            problems.append(RowProblem(file, int(rows[i]), column, shown, text))

    columns = {}
    for role in ("text", "image", "video", "category", "id"):
        src = cols[role]
        if src is None:
            columns[role] = pd.Series(np.nan, index=frame.index, dtype="str")
            continue
        values, nontext = _as_text(frame[src])
        add(nontext, src, frame[src], f"{role} must be text (a string of valid Unicode)")
        if role != "text":
            values = values.str.strip().replace("", np.nan)
        columns[role] = values
    text = columns["text"].fillna("")
    image = columns["image"]
    lengths = text.str.len().to_numpy()
    add(lengths > MAX_TEXT_CHARS, cols["text"], None,
        lambda i: f"text is {lengths[i]:,} characters, over the limit of {MAX_TEXT_CHARS:,}")

    rule = label_rule or LabelRule()
    label_src = cols["label"]
    if rule.kind == "as is":
        labels, missing, invalid, aliases = _labels(frame[label_src])
        add(missing, label_src, None, "label is missing (expected 0 or 1)")
        add(invalid, label_src, frame[label_src], "label must be 0 or 1")
    else:
        labels, missing, invalid = _labels_by_rule(frame[label_src], rule)
        aliases = []
        add(missing, label_src, None, f"label is missing (label rule: {rule.describe()})")
        wrong = ("label is not a number" if rule.kind == "threshold" else "label is not in the label map")
        add(invalid, label_src, frame[label_src], f"{wrong} (label rule: {rule.describe()})")
    for original, value, count, first in aliases:
        warnings.append(RowProblem(file, int(rows[first]), label_src, original,
                                   f"label {original!r} read as {value} ({count} row(s))"))

    video = columns["video"]
    has_image, has_video = image.notna().to_numpy(), video.notna().to_numpy()
    add(has_image & has_video, cols["video"], video,
        "one attachment per item: this row has both an image and a video (put each in its own row)")
    blank = ((text.str.len() == 0) | text.str.isspace()).to_numpy() & ~has_image & ~has_video
    add(blank, cols["text"] or cols["image"] or cols["video"], None,
        "empty content: no text, image or video" if cols["video"] else "empty content: no text and no image")

    if has_image.any():
        refs = pd.unique(image[has_image])
        verdicts = {ref: check_image(ref, workspace, allow_urls=allow_urls) for ref in refs}
        found = image.map(verdicts)
        add(found.notna().to_numpy(), cols["image"], image, lambda i: found.iat[i])
        urls = sum(1 for ref in refs if image_kind(ref) == "url")
        if urls and not allow_urls:
            warnings.append(RowProblem(file, None, cols["image"], None,
                                       f"{urls} image URL(s) kept as references, not fetched (URL fetching is off)"))
    digests = pd.Series(np.nan, index=frame.index, dtype="str")
    if has_video.any():
        checked = {ref: check_video(ref, workspace, allow_urls=allow_urls, limits=video_limits)
                   for ref in pd.unique(video[has_video & ~has_image])}  # one video in memory at a time
        problem = video.map({ref: p for ref, (p, _) in checked.items()})
        add(problem.notna().to_numpy(), cols["video"], video, lambda i: problem.iat[i])
        digests = video.map({ref: d for ref, (_, d) in checked.items()}).astype("str")
        urls = sum(1 for ref in checked if image_kind(ref) == "url")
        if urls and not allow_urls:
            warnings.append(RowProblem(file, None, cols["video"], None,
                                       f"{urls} video URL(s) kept as references, not fetched (URL fetching is off)"))

    attachment = image.fillna(digests.fillna(video))  # footage is the same content whatever its file name
    content = _content_codes(text, attachment)
    ids = _fill_ids(columns["id"], text, image.fillna(video), content)
    order, first = _id_order(ids)
    later = first != np.arange(len(ids))
    add(later, cols["id"] or "id", ids, lambda i: f"duplicate id: row {rows[first[i]]} has the same id")

    conflict, repeats = _duplicate_content(content, labels, rows, eligible=(labels >= 0) & ~blank)
    add(conflict.notna().to_numpy(), cols["text"] or cols["image"], text, lambda i: conflict.iat[i])
    if repeats:
        warnings.append(RowProblem(file, repeats[0], None, None,
                                   f"{len(repeats)} row(s) repeat the content and label of an earlier row; kept"))

    # A video_digest column in the file (one cope-eval wrote) is recomputed, never trusted.
    used = {c for c in cols.values() if c} | {c for c in frame.columns if str(c) == "video_digest"}
    split_column = next((c for c in frame.columns if str(c) == "split" and c not in used), None)
    split, split_problem = _split(frame[split_column]) if split_column is not None else (None, None)
    if split_problem is None and split_column is not None:
        used.add(split_column)
    items = pd.DataFrame(
        {"id": ids, "text": text, "label": labels, "image": image, "category": columns["category"],
         "video": video, "video_digest": digests,
         "split": split if split is not None else pd.Series(np.nan, index=frame.index, dtype="str")},
        index=frame.index,
        copy=False,  # the columns are fresh or read-only views; copy-on-write protects them
    )
    for position, col in enumerate(frame.columns):
        if col not in used:
            name = metadata_name(str(col), items.columns, position=position)
            items[name] = _meta_text(frame[col])  # typed by load_golden_set, once bad rows are out
            if split_column is not None and col == split_column:
                at, value = split_problem
                warnings.append(RowProblem(file, int(rows[at]), str(col), value,
                                           f"the split column is kept as metadata {name!r}, not as a dev/test "
                                           f"split: that needs every value {' or '.join(SPLIT_VALUES)}"))
    problems.sort(key=lambda p: (p.row or 0))
    return Checked(items.reset_index(drop=True), bad, problems, warnings, order, cols)


def generated_id(text: str, image: str | None = None) -> str:
    """Id for an item without one: ``gen-`` and the first 16 hex digits of the sha256 of
    ``text``, the byte 0x1f and ``image`` (empty when none), in UTF-8.

    A stdlib hash on purpose: ids must not change with a pandas or pyarrow upgrade, so this
    is the one per-row Python loop on text rows (about 1 s per million rows without ids).
    """
    key = f"{text}\x1f{image or ''}".encode("utf-8", "surrogatepass")
    return "gen-" + hashlib.sha256(key).hexdigest()[:16]


def _content_codes(text: pd.Series, image: pd.Series) -> np.ndarray:
    """One integer per distinct (text, image) pair: equal content, equal code."""
    codes, _ = pd.factorize(text)
    if image.notna().any():
        image_codes, _ = pd.factorize(image.fillna(""))
        codes, _ = pd.factorize(codes.astype(np.int64) * (image_codes.max() + 1) + image_codes)
    return codes


def _occurrence(codes: np.ndarray) -> np.ndarray:
    """0 for the first row with each code, 1 for the second, and so on (in row order)."""
    order = np.argsort(codes, kind="stable")
    ranked = codes[order]
    steps = np.arange(len(ranked))
    starts = np.maximum.accumulate(np.where(np.r_[True, ranked[1:] != ranked[:-1]], steps, 0))
    nth = np.empty(len(codes), dtype=np.int64)
    nth[order] = steps - starts
    return nth


def _fill_ids(given: pd.Series, text: pd.Series, image: pd.Series, content: np.ndarray) -> pd.Series:
    """Given ids, with ``generated_id`` for the missing ones (``-2``, ``-3``... on repeats)."""
    missing = given.isna().to_numpy()
    if not missing.any():
        return given
    texts = text[missing].tolist()
    images = image[missing].fillna("").tolist() if image.notna().any() else [""] * len(texts)
    made = np.array([generated_id(t, i) for t, i in zip(texts, images)], dtype=object)
    nth = _occurrence(content[missing])
    repeat = nth > 0
    if repeat.any():
        made[repeat] = [f"{m}-{k + 1}" for m, k in zip(made[repeat], nth[repeat])]
    if missing.all():
        return pd.Series(made, index=given.index, dtype="str")
    ids = given.to_numpy(dtype=object, na_value=None)
    ids[missing] = made
    return pd.Series(ids, index=given.index, dtype="str")


def _id_order(ids: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """Stable sort order of the ids, and for each row the position of the first row with its id."""
    array = pa.array(ids, type=pa.large_string(), from_pandas=True)
    order = pc.sort_indices(array)
    ranked = array.take(order)
    n = len(ids)
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[1:] = np.asarray(pc.fill_null(pc.equal(ranked[1:], ranked[:-1]), False))
    positions = np.asarray(order)
    starts = np.maximum.accumulate(np.where(same, 0, np.arange(n)))
    first = np.empty(n, dtype=np.int64)
    first[positions] = positions[starts]
    return order, first


def _duplicate_content(content: np.ndarray, labels: np.ndarray, rows: np.ndarray, *, eligible):
    """Messages for rows whose content repeats with a different label; rows repeating exactly.

    Only ``eligible`` rows (a usable label and some content) take part."""
    conflict = pd.Series(np.nan, index=pd.RangeIndex(len(content)), dtype="str")
    codes = np.where(eligible, content, -1)
    counts = np.bincount(codes[eligible], minlength=codes.max() + 1) if eligible.any() else np.zeros(1, int)
    dup = eligible & (counts[np.maximum(codes, 0)] > 1)
    if not dup.any():
        return conflict, []
    sub = pd.DataFrame({"key": codes[dup], "label": labels[dup], "row": rows[dup]}, index=np.flatnonzero(dup))
    groups = sub.groupby("key", sort=False)
    kinds = groups["label"].transform("nunique")
    sizes = groups["label"].transform("size")
    clash = sub[(kinds > 1).to_numpy()]
    if len(clash):
        listing = clash.groupby("key", sort=False)["row"].transform(_row_list)
        conflict[clash.index] = "conflicting duplicate content: the same content is in " + listing + " with labels 0 and 1"
    same = sub[((kinds == 1) & (sizes > 1)).to_numpy()]
    repeats = same["row"][same.duplicated("key", keep="first").to_numpy()].tolist()
    return conflict, [int(r) for r in repeats]


def _row_list(rows: pd.Series) -> str:
    shown = ", ".join(str(r) for r in rows.iloc[:6])
    return f"rows {shown}{', ...' if len(rows) > 6 else ''}"


def _labels(series: pd.Series):
    """(labels int64 with -1 where unusable, missing mask, invalid mask, alias warnings)."""
    n = len(series)
    if pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        missing = series.isna().to_numpy()
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        ok = (values == 0) | (values == 1)
        labels = np.where(ok, values, -1).astype("int64")
        return labels, missing, ~ok & ~missing, []
    text, nontext = _as_text(series)
    stripped = text.str.strip()
    exact = stripped.isin(["0", "1"]).to_numpy()
    labels = np.full(n, -1, dtype="int64")
    labels[exact] = (stripped[exact] == "1").to_numpy().astype("int64")
    missing = (stripped.isna() | (stripped == "")).to_numpy() & ~nontext
    rest = ~exact & ~missing & ~nontext
    aliases = []
    if rest.any():
        mapped = stripped[rest].str.lower().map(LABEL_ALIASES)
        hit = mapped.notna()
        labels[np.flatnonzero(rest)[hit.to_numpy()]] = mapped[hit].astype("int64").to_numpy()
        originals = text[rest][hit]
        for original, count in originals.value_counts(sort=False).items():
            first = int(np.flatnonzero((text == original).to_numpy() & rest)[0])
            aliases.append((original, LABEL_ALIASES[original.strip().lower()], int(count), first))
        aliases.sort(key=lambda a: a[3])
    invalid = (labels < 0) & ~missing
    return labels, missing, invalid, aliases


def _labels_by_rule(series: pd.Series, rule: LabelRule):
    """(labels int64 with -1 where unusable, missing mask, invalid mask) under a map or threshold."""
    text, nontext = _as_text(series)
    stripped = text.str.strip()
    missing = (stripped.isna() | (stripped == "")).to_numpy() & ~nontext
    labels = np.full(len(series), -1, dtype="int64")
    if rule.threshold is not None:
        numbers = pd.to_numeric(stripped, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(numbers) & ~nontext
        labels[finite] = (numbers[finite] >= rule.threshold).astype("int64")
    else:
        mapped = stripped.str.lower().map(rule.lookup())
        hit = mapped.notna().to_numpy() & ~nontext
        labels[hit] = mapped[hit].astype("int64").to_numpy()
    invalid = (labels < 0) & ~missing
    return labels, missing, invalid


def _as_text(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Text view of a column (NaN for missing) and a mask of values that are not text-like."""
    dtype = series.dtype
    none = np.zeros(len(series), dtype=bool)
    if isinstance(dtype, pd.StringDtype):
        return series.astype("str"), none
    if pd.api.types.is_bool_dtype(dtype):
        return series.map({True: "true", False: "false"}).astype("str"), none
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return series.astype("str"), none
    if dtype == object:
        converted = [_scalar_text(v) for v in series]
        nontext = np.fromiter((v is _NOT_TEXT for v in converted), dtype=bool, count=len(converted))
        cleaned = [None if v is _NOT_TEXT else v for v in converted]
        return pd.Series(cleaned, index=series.index, dtype="str"), nontext
    try:
        return series.astype("str"), none
    except (TypeError, ValueError):
        return pd.Series(np.nan, index=series.index, dtype="str"), ~series.isna().to_numpy()


_NOT_TEXT = object()


def _scalar_text(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape
            return _NOT_TEXT
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating, decimal.Decimal)):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return _NOT_TEXT


def _split(series: pd.Series) -> tuple[pd.Series | None, tuple[int, str | None] | None]:
    """A file's ``split`` column read as the set's split, or why it is not one.

    (split, None) when every value is ``dev`` or ``test`` (spaces around ignored): a set exported
    with its split loads back with it. (None, None) when every value is blank: an exported set
    without a split. Otherwise (None, (position of the first other value, that value shown)): any
    other spelling, or a blank among dev/test, is the file's own column and stays metadata."""
    text, nontext = _as_text(series)
    text = text.str.strip().replace("", np.nan)
    missing = text.isna().to_numpy() & ~nontext
    if missing.all():
        return None, None
    other = ~text.isin(SPLIT_VALUES).to_numpy() | nontext
    if not other.any():
        return text, None
    at = int(np.flatnonzero(other)[0])
    value = None if missing[at] else _short(_describe(series.iat[at]))
    return None, (at, value)


def _meta_text(series: pd.Series) -> pd.Series:
    if series.dtype == object:
        return pd.Series([_meta_value(v) for v in series], index=series.index, dtype="str")
    text, _ = _as_text(series)
    return text


def _meta_value(value):
    text = _scalar_text(value)
    if text is not _NOT_TEXT:
        return text
    if isinstance(value, np.ndarray):
        value = value.tolist()
    try:
        out = json.dumps(value, ensure_ascii=False, default=str)
        out.encode("utf-8")
        return out
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return ascii(value)


def _describe(value) -> str:
    if isinstance(value, str):
        return value if _scalar_text(value) is not _NOT_TEXT else ascii(value)
    if isinstance(value, (dict, list)):
        try:
            return json.dumps(value, ensure_ascii=True, default=str)[:200]
        except (ValueError, RecursionError):
            return ascii(value)[:200]
    return ascii(value) if isinstance(value, bytes) else str(value)


def _isna(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _short(value: str, limit: int = 200) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
