"""Label corrections: a new version of a stored golden set, and its relabel history.

A label correction never edits a set: it creates a new version (new hash, parent = old) and
records who changed which item, from what to what, and why. Runs keep pointing at the exact
version they scored, so old numbers stay reproducible.
"""

from __future__ import annotations

from ..errors import RowProblem, ValidationError
from ..records import GoldenSet
from ..store import Store
from ._load import relabel


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
