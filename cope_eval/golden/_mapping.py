"""How a file's cells become items: the delimiter and encoding it is read with, and the rule that
turns the label column's values into 0 and 1. ``ImportRule`` records what was used, in words, so
someone reading a stored set later can see how its labels were derived.

Three label rules (``LabelRule``):

- as in the file (the default): ``0`` and ``1``, and the spellings in ``LABEL_ALIASES`` read
  with a warning; anything else is a bad row;
- a map: each listed value (compared stripped and lower-cased) becomes its 0 or 1; a value not
  listed is a bad row;
- a threshold, for fractions of annotators or scores: 1 when the value, as a number, is at least
  ``t``, else 0; a value that is not a finite number is a bad row.

Parsing the CLI's ``--label-map``/``--label-threshold`` and the page's choices goes through
``parse_label_map`` and ``parse_label_threshold``; their errors name the ``source`` (the flag or
the control) and say what would have been valid.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

from ..errors import ConfigError

ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252")
"""Encodings a user can choose; unset means detect (UTF-8, a BOM skipped, else a warned fallback)."""

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
"""Delimiters a user can choose (and the sniffer considers), with their names."""


@dataclass(frozen=True)
class LabelRule:
    """How the label column's values become 0/1; neither field set means "0 and 1 as in the file"."""

    threshold: float | None = None
    """1 when the value, read as a number, is at least this; else 0."""
    mapping: tuple[tuple[str, int], ...] = ()
    """``(value, label)`` pairs: each value (compared stripped, lower-cased) becomes its label."""

    def __post_init__(self):
        if self.threshold is not None and self.mapping:
            raise ConfigError("A label rule is either a threshold or a map of values, not both.")

    @property
    def kind(self) -> str:
        """``"as is"``, ``"map"`` or ``"threshold"``."""
        return "threshold" if self.threshold is not None else "map" if self.mapping else "as is"

    def describe(self) -> str:
        """The rule in words, as stored with the set."""
        if self.threshold is not None:
            return f"1 when value ≥ {self.threshold:g}, else 0"
        if self.mapping:
            return "map " + ", ".join(f"{value!r}={label}" for value, label in self.mapping)
        return "0 and 1 as in the file"

    def lookup(self) -> dict[str, int]:
        """The map keyed by lower-cased value."""
        return {value.strip().lower(): label for value, label in self.mapping}


def parse_label_threshold(value, *, source: str) -> float:
    """A finite number ``t`` for "1 when value ≥ t"; ``source`` names the flag or control."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: {value!r} is not a number; give the value at or above which the label "
                          "is 1, e.g. 0.5") from None
    if not math.isfinite(number):
        raise ConfigError(f"{source}: {value!r} is not a finite number; give e.g. 0.5")
    return number


def parse_label_map(text: str, *, source: str) -> tuple[tuple[str, int], ...]:
    """``'yes=1,no=0'`` as ``(("yes", 1), ("no", 0))``; ``source`` names the flag or control."""
    pairs: dict[str, tuple[str, int]] = {}
    for part in (p for p in str(text).split(",")):
        if not part.strip():
            continue
        value, sep, label = part.rpartition("=")
        if not sep:
            raise ConfigError(f"{source}: {part.strip()!r} has no '='; write value=1 or value=0 pairs separated "
                              "by commas, e.g. 'yes=1,no=0'")
        value, label = value.strip(), label.strip()
        if not value:
            raise ConfigError(f"{source}: {part.strip()!r} names no value before '='; e.g. 'yes=1,no=0'")
        if label not in ("0", "1"):
            raise ConfigError(f"{source}: {part.strip()!r} maps to {label!r}; a value maps to 1 or 0")
        key = value.lower()
        if key in pairs and pairs[key][1] != int(label):
            raise ConfigError(f"{source}: {value!r} is mapped to both 0 and 1")
        pairs[key] = (value, int(label))
    if not pairs:
        raise ConfigError(f"{source}: no values given; write value=1 or value=0 pairs, e.g. 'yes=1,no=0'")
    return tuple(pairs.values())


def check_delimiter(value: str, *, source: str) -> str:
    """One of ``DELIMITERS``; ``tab``, ``semicolon``... and ``\\t`` are accepted for their character."""
    names = {name: char for char, name in DELIMITERS.items()} | {"\\t": "\t", "tab": "\t"}
    char = names.get(str(value).strip().lower(), value)
    if char not in DELIMITERS:
        shown = ", ".join(f"{c!r} ({n})" for c, n in DELIMITERS.items())
        raise ConfigError(f"{source}: {value!r} is not a delimiter cope-eval reads; use one of {shown}")
    return char


def check_encoding(value: str, *, source: str) -> str:
    """One of ``ENCODINGS`` (``utf8``, ``latin1``, ``windows-1252`` accepted for their name)."""
    aliases = {"utf8": "utf-8", "utf8-sig": "utf-8-sig", "latin1": "latin-1", "iso-8859-1": "latin-1",
               "windows-1252": "cp1252"}
    name = aliases.get(str(value).strip().lower(), str(value).strip().lower())
    if name not in ENCODINGS:
        raise ConfigError(f"{source}: {value!r} is not an encoding cope-eval reads; use one of {', '.join(ENCODINGS)}")
    return name


def sniff_delimiter(text: str, default: str = ",") -> tuple[str, bool]:
    """``(delimiter, sniffed)`` for the start of a delimited file: csv.Sniffer's choice among
    ``DELIMITERS`` when it also splits the header line, else ``default`` (``sniffed`` False)."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines:
        return default, False
    sample = "\n".join(lines[:50])
    try:
        found = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        found = None
    header = lines[0]
    if found is None or found not in header:  # the header is the surest line: its columns decide
        counts = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
        found = max(counts, key=counts.get) if max(counts.values()) > 1 else None
    if found is None:
        return default, False
    return found, True


@dataclass(frozen=True)
class ImportRule:
    """How a file was read and mapped: what a stored set keeps in its history."""

    columns: tuple[tuple[str, str], ...]
    """``(role, column)`` for each role that took a column (text, label, image, video, id, category)."""
    label_rule: LabelRule = LabelRule()
    """How the label column's values became 0/1."""
    delimiter: str | None = None
    """The delimiter read with (None for JSON and Parquet)."""
    delimiter_how: str = ""
    """``"chosen"``, ``"sniffed"`` or ``"default"`` (the file type's: comma, or tab for .tsv)."""
    encoding: str | None = None
    """The encoding read with (None for Parquet)."""
    encoding_how: str = ""
    """``"chosen"`` or ``"detected"``."""

    def describe(self) -> str:
        """One line: delimiter, encoding, columns and label rule."""
        parts = []
        if self.delimiter is not None:
            parts.append(f"delimiter {DELIMITERS.get(self.delimiter, repr(self.delimiter))} ({self.delimiter_how})")
        if self.encoding is not None:
            parts.append(f"encoding {self.encoding} ({self.encoding_how})")
        parts.append("columns " + ", ".join(f"{role}={column!r}" for role, column in self.columns))
        parts.append(f"label rule: {self.label_rule.describe()}")
        return "; ".join(parts)
