"""The one way a command prints JSON (every ``--json``): valid JSON, whatever the report holds.

A report's ``to_dict()`` (or a plain dict) goes in; numpy and pandas scalars come out as
numbers, NaN, infinities and missing values as ``null`` (``json.dumps`` would write ``NaN``,
which is not JSON), dates and paths as strings, tuples and sets as lists. Keys keep their order.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from typing import Any


def print_json(payload: Mapping[str, Any]) -> None:
    """``payload`` as indented JSON on stdout, one object per command."""
    print(json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False, allow_nan=False))
    sys.stdout.flush()


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
