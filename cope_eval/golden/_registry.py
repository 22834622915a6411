"""A stored set's history: how it was imported, and its label corrections.

``add_golden_set`` stores a loaded set with its provenance as its ``source``: where the file came
from, then ``ImportRule.describe()`` (delimiter, encoding, columns, label rule) and how many rows
were left out, so whoever reads the set later sees how its labels were derived. Every later
version points back to it (``import_note`` follows the parents).

A label correction never edits a set: it creates a new version (new hash, parent = old) and
records who changed which item, from what to what, and why. Runs keep pointing at the exact
version they scored, so old numbers stay reproducible.
"""

from __future__ import annotations

from ..errors import RowProblem, ValidationError
from ..records import GoldenSet
from ..store import Store
from ._load import LoadResult, relabel


def add_golden_set(store: Store, loaded: LoadResult, *, origin: str) -> GoldenSet:
    """Store ``loaded``'s set with its provenance: ``origin`` (``upload x.csv``, a path), the import
    rule, and the rows left out (their count and first numbers)."""
    parts = [origin]
    if loaded.rule is not None:
        parts.append(loaded.rule.describe())
    rows = sorted({int(r) for r in loaded.dropped["row"]}) if len(loaded.dropped) else []
    if rows:
        shown = ", ".join(str(r) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
        parts.append(f"left out {len(rows)} rejected row(s): {shown}")
    store.put_golden_set(loaded.golden_set, source="; ".join(parts))
    return loaded.golden_set


def import_note(store: Store, golden_hash: str) -> str:
    """How the first version of ``golden_hash``'s line was made (its ``source``), following parents."""
    sets = store.golden_sets(study_subsets=True).set_index("hash")
    current, seen = golden_hash, set()
    while current in sets.index and current not in seen:
        seen.add(current)
        parent = sets.at[current, "parent_hash"]
        if parent is None or parent != parent or parent not in sets.index:
            return str(sets.at[current, "source"] or "")
        current = parent
    return ""


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
