"""Golden sets as the workspace knows them: registered snapshots and their relabel history.

A label correction never edits a set: it creates a new version (new hash, parent = old) and
records who changed which item, from what to what, and why. Runs keep pointing at the exact
version they scored, so old numbers stay reproducible.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import RowProblem, ValidationError
from ..records import GoldenSet
from ..store import Store
from ._load import ColumnSpec, LoadResult, load_golden_set, relabel


def register_file(store: Store, path: Path, workspace_root: Path, *, spec: ColumnSpec | None = None,
                  drop_bad_rows: bool = False) -> LoadResult:
    """Load, validate and register a golden-set file; nothing is stored if it is rejected."""
    loaded = load_golden_set(path, workspace_root, spec=spec, drop_bad_rows=drop_bad_rows)
    store.put_golden_set(loaded.golden_set, source=str(path))
    return loaded


def correct_label(store: Store, golden_hash: str, item_id: str, new_label: int, *, author: str,
                  reason: str) -> GoldenSet:
    """Store a new version of the set with one label changed, and the history entry."""
    if not reason.strip():
        raise ValidationError([RowProblem("label change", None, "reason", "", "say why the label is wrong")],
                              headline="A label change needs a reason.")
    current = store.golden_set(golden_hash)
    changed, change = relabel(current, item_id, new_label)
    store.put_golden_set(changed, source=f"relabel of {golden_hash}", parent_hash=golden_hash)
    store.record_label_change(change, author=author, reason=reason)
    return changed
