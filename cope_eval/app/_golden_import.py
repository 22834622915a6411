"""The Golden sets page's import step, without the drawing: the choices it offers, the label rule
its controls make, the fix it suggests when rows are rejected, and its words for errors.

Every message speaks of the page's controls (Delimiter, Encoding, the column pickers, the label
rule), never of a library parameter.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..errors import ConfigError, RowProblem
from ..golden import DELIMITERS, FilePreview, LabelRule, LoadResult, parse_label_threshold

IMPORT_ROLES = ("text", "label", "image", "video", "id", "category")
"""The roles a column can take, in the order the page offers them."""

LABEL_RULES = {"as is": "0 and 1 as in the file", "map": "Map values to 0/1",
               "threshold": "1 when value ≥ a threshold"}
"""The label rules the page offers (``LabelRule.kind``) and their names there."""

PREVIEW_ROWS = 1_000
"""Records the import step reads to preview a file (``preview_file(rows=...)``): it shows the first
five and offers the label values found in these to "Map values to 0/1"; the file is read whole
only by the load that checks every row."""

AUTO = "auto"
"""The Delimiter and Encoding option that keeps what is sniffed or detected (a selectbox shows
None as "no choice", so it is a word)."""

BY_NAME = "(detect by name)"
"""The column pickers' option that leaves a role to be found by its usual names."""


def chosen(value: str | None) -> str | None:
    """A control's value as a setting: None for ``AUTO`` and ``BY_NAME``."""
    return None if value in (AUTO, BY_NAME) else value


THRESHOLD_CONTROL = "1 when value ≥"
"""The page's threshold control, as errors name it."""

IMPORT_REMEDIES = {
    **{f"{role}_column": f"choose it in \"{role.capitalize()} column\" above" for role in IMPORT_ROLES},
    "label_rule": "choose a Label rule above: \"Map values to 0/1\" or \"1 when value ≥ a threshold\"",
    "delimiter": "choose the Delimiter above",
    "encoding": "choose the Encoding above",
}
"""How the import step fixes what an error's ``options`` name (``CopeEvalError.with_remedies``)."""


def delimiter_label(choice: str | None, preview: FilePreview | None) -> str:
    """A Delimiter option's name; ``AUTO`` is what the file was read with when not chosen."""
    if chosen(choice) is not None:
        return f"{DELIMITERS[choice]} ({choice!r})"
    if preview is None or preview.delimiter is None:
        return "sniffed"
    how = "sniffed" if preview.delimiter_how == "sniffed" else "default"
    return f"{how}: {DELIMITERS.get(preview.delimiter, repr(preview.delimiter))}"


def encoding_label(choice: str | None, preview: FilePreview | None) -> str:
    """An Encoding option's name; ``AUTO`` is what was detected."""
    if chosen(choice) is not None:
        return choice + (" (BOM tolerated)" if choice == "utf-8" else "")
    if preview is None or preview.encoding is None:
        return "detected"
    return f"detected: {preview.encoding}"


def label_values(preview: FilePreview, column: str | None, *, limit: int = 200) -> list[str]:
    """The label column's distinct values (stripped) in the preview's rows (``PREVIEW_ROWS``), most
    common first, for the map's pickers."""
    if column is None or column not in preview.frame.columns:
        return []
    values = preview.frame[column].dropna().astype(str).str.strip()
    return values[values != ""].value_counts(sort=True).index[:limit].tolist()


def label_rule_from(kind: str, *, ones: Sequence[str] = (), zeros: Sequence[str] = (),
                    threshold: float | None = None) -> LabelRule:
    """The rule the page's label controls describe; a contradiction is a ConfigError in their words."""
    if kind == "threshold":
        return LabelRule(threshold=parse_label_threshold(threshold, source=THRESHOLD_CONTROL))
    if kind == "map":
        both = sorted(set(ones) & set(zeros))
        if both:
            raise ConfigError(f"{', '.join(repr(v) for v in both)} is in both \"Values that mean 1\" and "
                              "\"Values that mean 0\"; keep each value in one of them")
        if not ones and not zeros:
            raise ConfigError("Map values to 0/1: pick the values that mean 1 and those that mean 0")
        return LabelRule(mapping=tuple((v, 1) for v in ones) + tuple((v, 0) for v in zeros))
    return LabelRule()


def suggested_fix(problems: Sequence[RowProblem], label_column: str | None) -> str | None:
    """The label rule (``"threshold"`` or ``"map"``) that would keep rows rejected for a label other
    than 0/1: a threshold when every such value is a number (fractions, scores), else a map."""
    values = [p.value for p in problems if p.column == label_column and p.problem == "label must be 0 or 1"]
    if not values:
        return None
    numeric = pd.to_numeric(pd.Series(values, dtype="str"), errors="coerce").notna().all()
    return "threshold" if numeric else "map"


FIX_LABELS = {"threshold": "Fix the mapping: label 1 when value ≥ 0.5",
              "map": "Fix the mapping: map the label values to 0/1"}
"""The primary button's words for each suggested fix."""


def left_out(loaded: LoadResult) -> int:
    """How many of the file's rows a save would leave out (rejected or unreadable)."""
    return int(loaded.dropped["row"].nunique()) if len(loaded.dropped) else 0


def save_label(loaded: LoadResult) -> str:
    """The save button's words: how many rows it keeps and, when some are rejected, how many it leaves out."""
    n, dropped = len(loaded.golden_set), left_out(loaded)
    if dropped:
        return f"Save the {n:,} valid rows (leaves out {dropped:,})"
    return f"Save {n:,} valid items as golden set"
