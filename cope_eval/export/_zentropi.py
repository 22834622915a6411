"""Zentropi interop: the policy as Zentropi criteria, the golden set as Zentropi test samples.

Formats (../shared/docs/protocol.md, and Zentropi's public CLI in zentropi-ai/skills):

- Criteria. Zentropi's ``criteria_text`` is the policy's Markdown itself, so the criteria file
  is the policy text byte for byte. ``criteria_warnings`` checks it against Zentropi's writing
  guide (a ``# Criteria`` heading, ``#### Includes`` and ``#### Excludes`` lists, at least 3
  exclusions); it only warns, the text is never changed.
- Test samples, JSON: an array of objects with ``content_text``, ``content_image`` or
  ``content_video`` (a base64 data URL), ``expected_label`` (the string "0" or "1") and ``sample_id``; a key is left out
  when the item has no value for it. Zentropi's CLI passes ``sample_id`` through when it uploads
  samples, and ``load_golden_set`` reads it back as the item id.
- Test samples, CSV: ``content_text,content_image_url,content_video_url,expected_label,sample_id``.
  Images and videos are data URLs here too (Zentropi's importer passes ``data:`` URLs through), so
  the file needs nothing beside it. As in every CSV cope-eval writes, a text cell that starts like a
  spreadsheet formula (``=``, ``+``, ``-``, ``@``, tab, CR) gets a leading apostrophe
  (``csv_safe``): ``@user hi`` is written ``'@user hi``, and a re-import sees the apostrophe.
  The JSON file keeps every text exactly; use it when the content must survive byte for byte.

Category, split and metadata. The JSON samples carry the item's category (``category``), its
dev/test split (``split``, when the set has one) and every metadata column as extra fields after ``sample_id``, JSON-typed (a number stays a number, a
boolean a boolean, text stays text exactly, formula-like or HTML included); a missing value leaves
its key out, as for the content keys. Zentropi's format names only the keys above; what its
importer does with others is not documented (protocol.md), so the extra fields are for cope-eval
and other readers: ``load_golden_set`` reads them back as the category, the split and as metadata
of the same names and types, so a text set re-imported from its JSON samples has the same hash. A metadata
column named as cope-eval reserves (``golden.METADATA_RESERVED``, a sample key among them:
possible only in a set stored before those names were reserved) goes out as ``orig_<name>``, as a
re-import would name it. The CSV file keeps Zentropi's fixed import header and nothing else:
category, split and metadata are in the JSON file only, and a warning says so for a split or metadata.

Images and videos given as workspace paths or data URLs are embedded as data URLs of their own
bytes (a video's must still match the digest the set version holds); http(s) URLs are fetched and
embedded only with ``allow_urls``, otherwise kept as URLs (with a warning, since Zentropi's JSON
wants data URLs). An item whose image or video cannot be read is left out and listed in
``ZentropiSamples.skipped``.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from .._util.csv_safe import FORMULA_STARTS, write_csv
from ..errors import RowProblem, ValidationError
from ..golden import image_kind, metadata_columns, metadata_json, metadata_name, to_data_url, video_data_url
from ..policies import canonical_text, policy_bytes
from ..records import GoldenSet, PolicyVersion

CSV_COLUMNS = ("content_text", "content_image_url", "content_video_url", "expected_label", "sample_id")
"""Zentropi's CSV import header, in its order."""

SAMPLE_KEYS = ("content_text", "content_image", "content_video", "expected_label", "sample_id")
"""The keys of Zentropi's JSON test samples; category and metadata follow them as extra fields."""

ZENTROPI_MODELS = ("cope-a-9b", "cope-b-a4b", "cope-b-a4b-mm")
"""Model names Zentropi's hosted API takes (besides ``cope-latest``)."""

CHUNK_ROWS = 50_000
"""Samples ``write_samples`` holds at once."""

MIN_EXCLUSIONS = 3
"""Zentropi's guide asks for at least 3-4 exclusions; fewer draws a warning."""

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")


@dataclass(frozen=True, eq=False)
class ZentropiSamples:
    """A golden set as Zentropi test samples, ready to write as JSON or CSV."""

    records: tuple[dict, ...]
    """One sample per exported item, in golden-set order (keys as in the JSON format)."""
    skipped: tuple[RowProblem, ...]
    """Items left out because their image could not be read, with the reason."""
    warnings: tuple[str, ...]
    """What a reader of the files should know (URLs kept, formula-like texts)."""


def criteria_bytes(version: PolicyVersion) -> bytes:
    """The policy text as Zentropi criteria: the exact bytes it was saved with."""
    return policy_bytes(version)


def criteria_warnings(text: str) -> tuple[str, ...]:
    """Where the text departs from Zentropi's policy layout (advice; nothing is changed)."""
    headings, items = [], {}
    current = None
    for line in canonical_text(text).split("\n"):
        match = _HEADING.match(line)
        if match:
            current = match.group(2).strip().lower()
            headings.append((len(match.group(1)), current))
            items.setdefault(current, 0)
        elif current is not None and _LIST_ITEM.match(line):
            items[current] += 1
    titles = {title for _, title in headings}
    warnings = []
    if (1, "criteria") not in headings:
        warnings.append("no '# Criteria' heading: Zentropi policies start with one")
    if "includes" not in titles:
        warnings.append("no '#### Includes' list under the label definition")
    if "excludes" not in titles:
        warnings.append(f"no '#### Excludes' list: Zentropi's guide asks for at least {MIN_EXCLUSIONS}-4 exclusions")
    elif items["excludes"] < MIN_EXCLUSIONS:
        warnings.append(f"only {items['excludes']} exclusion(s) under Excludes: Zentropi's guide asks for at "
                        f"least {MIN_EXCLUSIONS}-4")
    return tuple(warnings)


def zentropi_model(model: str) -> str | None:
    """The Zentropi API model name for a served model name (``zentropi-ai/cope-b-a4b-mm`` gives
    ``cope-b-a4b-mm``); None when the model is not one Zentropi hosts."""
    name = model.rsplit("/", 1)[-1].strip().lower()
    return name if name in ZENTROPI_MODELS else None


def zentropi_samples(golden: GoldenSet, workspace_root: Path, *, allow_urls: bool = False) -> ZentropiSamples:
    """Turn the golden items into Zentropi samples; images become data URLs (see module doc)."""
    tally = _Tally()
    records = tuple(_records(golden, workspace_root, allow_urls, tally))
    return ZentropiSamples(records, tuple(tally.skipped), tally.warnings())


@dataclass(frozen=True)
class WrittenSamples:
    """What ``write_samples`` wrote: the count of samples, and what a reader should know."""

    count: int
    """Samples written (items left out are not counted)."""
    skipped: tuple[RowProblem, ...]
    """Items left out because their image or video could not be read, with the reason."""
    warnings: tuple[str, ...]
    """As ``ZentropiSamples.warnings``."""


def write_samples(golden: GoldenSet, workspace_root: Path, json_file: BinaryIO, csv_file: BinaryIO, *,
                  allow_urls: bool = False, chunk_rows: int = CHUNK_ROWS) -> WrittenSamples:
    """Write the JSON and CSV samples files (the bytes ``samples_json`` and ``samples_csv`` give)
    ``chunk_rows`` samples at a time, so a million items never sit in memory as records at once."""
    tally = _Tally()
    records = _records(golden, workspace_root, allow_urls, tally)
    count = 0
    json_file.write(b"[\n")
    while chunk := list(itertools.islice(records, chunk_rows)):
        json_file.write(((",\n" if count else "") + _json_lines(chunk)).encode("utf-8"))
        csv_file.write(_csv_text(chunk, header=not count))
        count += len(chunk)
    json_file.write(b"\n]\n")
    if not count:
        csv_file.write(_csv_text([], header=True))
    return WrittenSamples(count, tuple(tally.skipped), tally.warnings())


@dataclass
class _Tally:
    """What ``_records`` counts on its way through the items, for the warnings."""

    skipped: list[RowProblem] = field(default_factory=list)
    urls_kept: int = 0
    formula_like: int = 0
    extras: tuple[str, ...] = ()

    def warnings(self) -> tuple[str, ...]:
        warnings = []
        if self.urls_kept:
            warnings.append(f"{self.urls_kept} image or video URL(s) kept as URLs, not embedded (URL fetching is "
                            "off); Zentropi's JSON samples expect data URLs")
        if self.formula_like:
            warnings.append(f"{self.formula_like} text(s) start with =, +, -, @, tab or CR: the CSV file prefixes "
                            "them with an apostrophe for spreadsheet safety; the JSON file keeps them exact")
        if self.skipped:
            warnings.append(f"{len(self.skipped)} item(s) left out because their image or video could not be read")
        metadata = [name for name in self.extras if name not in ("category", "split")]
        if metadata:
            warnings.append(f"{len(metadata)} metadata column(s) are in the JSON samples only: Zentropi's CSV "
                            "import header is fixed")
        if "split" in self.extras:
            warnings.append("the dev/test split is in the JSON samples only (field split): Zentropi's CSV import "
                            "header is fixed")
        return tuple(warnings)


def _records(golden: GoldenSet, workspace_root: Path, allow_urls: bool, tally: _Tally) -> Iterator[dict]:
    """The samples one by one, in golden-set order; what is left out or worth a warning goes in ``tally``."""
    items = golden.items
    extras = _extra_fields(items)
    tally.extras = tuple(extras)
    rows = zip(items["id"], items["text"], items["label"], items["image"], items["video"], items["video_digest"],
               zip(*extras.values()) if extras else itertools.repeat(()))
    for row, (item_id, text, label, image, video, digest, extra) in enumerate(rows, start=1):
        text = "" if pd.isna(text) else str(text)
        record = {"content_text": text} if text else {}
        kind, ref = ("image", image) if pd.isna(video) else ("video", video)
        if not pd.isna(ref):
            key = f"content_{kind}"
            if image_kind(ref) == "url" and not allow_urls:
                record[key] = ref
                tally.urls_kept += 1
            else:
                try:
                    record[key] = (to_data_url(ref, workspace_root, allow_urls=allow_urls) if kind == "image" else
                                   video_data_url(ref, workspace_root, allow_urls=allow_urls,
                                                  digest=None if pd.isna(digest) else digest))
                except ValidationError as exc:
                    tally.skipped.append(RowProblem(golden.name, row, kind, str(item_id),
                                                    f"item {item_id!r} left out: {exc.problems[0].problem}"))
                    continue
        record["expected_label"] = str(int(label))
        record["sample_id"] = str(item_id)
        record.update((key, value) for key, value in zip(extras, extra) if value is not None)
        tally.formula_like += text.startswith(FORMULA_STARTS)
        yield record


def _extra_fields(items: pd.DataFrame) -> dict[str, list]:
    """Field name -> JSON values (None where missing) for the category, the split and each metadata
    column that has a value; a metadata name equal to a sample key is sent as ``orig_<name>``."""
    extras: dict[str, list] = {}
    for column in ["category", "split", *metadata_columns(items)]:
        if column not in items.columns:
            continue
        series = items[column]
        if not series.notna().any():
            continue
        name = column if column in ("category", "split") else metadata_name(column, {*SAMPLE_KEYS, *extras})
        values = series.astype(object).where(series.notna().to_numpy(), None).tolist()
        extras[name] = [metadata_json(v) for v in values]
    return extras


def samples_json(samples: ZentropiSamples) -> bytes:
    """The samples as Zentropi's JSON test-sample array (UTF-8, one object per line)."""
    return ("[\n" + _json_lines(samples.records) + "\n]\n").encode("utf-8")


def samples_csv(samples: ZentropiSamples) -> bytes:
    """The samples as Zentropi's CSV import file, formula-like cells neutralised."""
    return _csv_text(samples.records, header=True)


def _json_lines(records) -> str:
    return ",\n".join(json.dumps(record, ensure_ascii=False) for record in records)


def _csv_text(records, *, header: bool) -> bytes:
    """``records`` as rows of Zentropi's CSV import file (after its header line when ``header``)."""
    frame = pd.DataFrame({
        "content_text": [r.get("content_text", "") for r in records],
        "content_image_url": [r.get("content_image") for r in records],
        "content_video_url": [r.get("content_video") for r in records],
        "expected_label": [r["expected_label"] for r in records],
        "sample_id": [r["sample_id"] for r in records],
    }, columns=list(CSV_COLUMNS))
    buffer = io.StringIO()
    write_csv(frame, buffer, header=header)
    return buffer.getvalue().encode("utf-8")
