"""The one way a command prints JSON (every ``--json``): valid JSON, whatever the report holds.

A report's ``to_dict()`` (or a plain dict) goes in; numpy and pandas scalars come out as
numbers, NaN, infinities and missing values as ``null`` (``json.dumps`` would write ``NaN``,
which is not JSON), dates and paths as strings, tuples and sets as lists. Keys keep their order.

Text stays readable (``ensure_ascii=False``), except the characters that could drive or reorder a
terminal (as ``_terminal.terminal_safe`` lists them), which are written as ``\\uXXXX`` escapes: the
same JSON once parsed, but golden-set text cannot drive the terminal it is printed to.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
import re
from typing import Any

_ESCAPED = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""DEL and C1 controls, line/paragraph separators and bidi controls: ``_terminal``'s unsafe set less
C0 controls, which ``json.dumps`` escapes itself (and whose newlines indent the output)."""


def print_json(payload: Mapping[str, Any] | list[Any]) -> None:
    """``payload`` as indented JSON on stdout: one object (or one list) per command."""
    print(dumps(payload))
    sys.stdout.flush()


def dumps(payload: Any) -> str:
    """``payload`` as the indented JSON text ``print_json`` prints."""
    text = json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False, allow_nan=False)
    # Outside its strings this JSON text is ASCII, so only string contents are touched.
    return _ESCAPED.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (see the module docstring)."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist") and not isinstance(value, type):  # numpy scalars and arrays
        return to_jsonable(value.tolist())
    if hasattr(value, "to_dict") and callable(value.to_dict):  # a report or a pandas object
        return to_jsonable(value.to_dict())
    if _is_missing(value):
        return None
    return str(value)


def _is_missing(value: Any) -> bool:
    try:
        import pandas as pd  # only when a value is neither plain nor numpy: keeps --help fast
    except ImportError:  # pragma: no cover - pandas is a core dependency
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
