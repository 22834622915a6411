"""How every sample set is written: a CSV with fixed line ends, replaced atomically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cope_eval._util.atomic_files import replace_atomic


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    replace_atomic(path, frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return path


def media_table(rows, column: str, folder: str) -> pd.DataFrame:
    """A media sample set's rows ``(id, file, category, label, text, spec, description)`` as its
    CSV's table: id, text, the file's path under ``folder`` in ``column``, label, category, description."""
    return pd.DataFrame({
        "id": [r[0] for r in rows],
        "text": [r[4] for r in rows],
        column: [f"{folder}/{r[1]}" for r in rows],
        "label": [r[3] for r in rows],
        "category": [r[2] for r in rows],
        "description": [r[6] for r in rows],
    })
