"""CSV files that are safe to open in a spreadsheet.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can run as a formula
in Excel, LibreOffice or Sheets. Golden-set content is hostile by nature, so every text cell
that starts that way gets a leading apostrophe (OWASP's advice). Numbers are left alone.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: Path, *, header: bool = True) -> Path:
    """Write ``frame`` as UTF-8 CSV with every text cell neutralised; returns the path. ``header``
    False leaves out the header line (a later piece of a file written piece by piece)."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    # RFC 4180 line ends: the csv writer then quotes any cell holding a CR or LF, so a lone
    # carriage return inside hostile text cannot split a row.
    safe.to_csv(path, index=False, header=header, lineterminator="\r\n")
    return path
