"""Metadata: every column of a golden-set file that no role took, kept by name and typed.

Each column gets one type per file, from every present value as the file spells it (a CSV cell;
a JSON or Parquet value as its text: ``true``, ``3``, ``0.5``), so the same set read from CSV,
JSONL, JSON or Parquet has the same types:

- ``boolean``: every value is ``true`` or ``false`` (any case, spaces around ignored): JSON and
  Parquet booleans, ``TRUE`` from a spreadsheet. ``yes``/``no`` stay text (an answer, which a
  rewrite as true/false would change) and ``1``/``0`` are numbers.
- ``Int64``: every value is a whole number as JSON spells one (``-12``, ``0``, ``7``) that fits
  in 64 bits. ``007`` (a code, whose zeros matter), ``+5`` and ``1,000`` are not numbers.
- ``Float64``: every value is a finite number as JSON spells one (``0.5``, ``-1e-3``, ``2``),
  and no whole number in the column is beyond 2**53, where a float would not be exact.
- ``str`` otherwise: one text cell among numbers makes the column text, and so do ``NaN`` and
  ``inf`` (not finite numbers); text keeps every value exactly as read, spaces included.

Missing stays missing (an empty CSV cell, a JSON null or an empty string: CSV cannot tell those
apart, so no format does). The set hash never covers metadata.

Names: a column keeps its file's name unless cope-eval uses that name itself
(``METADATA_RESERVED``: an item column, a name a role is read from, a column of a run's
results), or an earlier column already took it; then it is ``orig_<name>`` (``orig_<name>_2``...),
so writing the set out and loading it back never reads a metadata column as the text, the label
or a score. A blank name becomes ``column_<position>``, as a CSV header's does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..records import ITEM_COLUMNS
from ._columns import CANDIDATES

RESULT_COLUMNS = ("item_id", "score", "hard_label", "raw", "error", "latency_ms", "cached", "pred", "_merge")
"""Columns a run's results frame (``store.run_results``, ``with_predicted_labels``) adds beside the
items' metadata; ``_merge`` is pandas' merge indicator, which refuses a column of that name."""

METADATA_RESERVED = frozenset(ITEM_COLUMNS).union(*CANDIDATES.values(), RESULT_COLUMNS)
"""Names a metadata column never takes (it becomes ``orig_<name>``)."""

_WHOLE = r"-?(?:0|[1-9][0-9]*)"
_NUMBER = _WHOLE + r"(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_EXACT_FLOAT_INTEGER = 2**53


def metadata_name(name: str, taken, *, position: int | None = None) -> str:
    """The name a metadata column is kept under, given the names already ``taken`` (see module doc).

    ``position`` (0-based) names a blank column ``column_<position + 1>``."""
    if not name.strip() and position is not None:
        name = f"column_{position + 1}"
    if name not in taken and name not in METADATA_RESERVED:
        return name
    k = 1
    while f"orig_{name}" + (f"_{k}" if k > 1 else "") in taken:
        k += 1
    return f"orig_{name}" + (f"_{k}" if k > 1 else "")


def metadata_columns(items: pd.DataFrame) -> list[str]:
    """A golden set's metadata columns, in order: every column after the item columns."""
    return [c for c in items.columns if c not in ITEM_COLUMNS]


def with_typed_metadata(items: pd.DataFrame) -> pd.DataFrame:
    """``items`` with each metadata column, read as text, typed (a new frame; columns shared)."""
    columns = metadata_columns(items)
    if not columns:
        return items
    items = items.copy(deep=False)
    for column in columns:
        items[column] = typed_metadata(items[column])
    return items


def typed_metadata(text: pd.Series) -> pd.Series:
    """One column's values as text (missing: NaN) typed as the module doc says."""
    text = text.astype("str").mask(text == "")
    present = text.notna().to_numpy()
    if not present.any():
        return text
    stripped = text[present].str.strip()
    lower = stripped.str.lower()
    if lower.isin(("true", "false")).all():
        out = pd.array(np.full(len(text), pd.NA, dtype=object), dtype="boolean")
        out[present] = (lower == "true").to_numpy()
        return pd.Series(out, index=text.index)
    if not stripped.str.fullmatch(_NUMBER).all():
        return text
    whole = stripped.str.fullmatch(_WHOLE).to_numpy()
    arrow = pa.array(stripped, type=pa.large_string())
    try:
        ints = np.asarray(pc.cast(arrow.filter(pa.array(whole)), pa.int64()))
    except pa.ArrowInvalid:  # a whole number beyond 64 bits: text keeps it exact
        return text
    if whole.all():
        out = pd.array(np.full(len(text), pd.NA, dtype=object), dtype="Int64")
        out[present] = ints
        return pd.Series(out, index=text.index)
    if (np.abs(ints) > _EXACT_FLOAT_INTEGER).any():
        return text
    floats = np.asarray(pc.cast(arrow, pa.float64()))
    if not np.isfinite(floats).all():  # 1e999
        return text
    out = pd.array(np.full(len(text), pd.NA, dtype=object), dtype="Float64")
    out[present] = floats
    return pd.Series(out, index=text.index)


def metadata_json(value):
    """A metadata value as a JSON value (None when missing): bool, int, float or str."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
