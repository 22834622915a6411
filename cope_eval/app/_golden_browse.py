"""The Golden sets page's Browse tab, without the drawing: one page of a stored set's items, read
from the store's copy a page (or, with a filter, a batch) at a time, never the whole set.

A million-item set is browsed in the memory of one batch: with no filter the page's rows are read
by their position; with a search, a label or a category, the set is passed over once, batch by
batch, counting the matches and keeping only the page's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ._views import filter_items

GOLDEN_PAGE_SIZE = 50
"""Items shown at a time."""


@dataclass(frozen=True)
class GoldenPage:
    """One page of a stored set's items that match the filters."""

    rows: pd.DataFrame
    """The page's items, every column, in the set's order."""
    matching: int
    """How many items match the filters (all of them with none)."""
    page: int
    """The 1-based page shown: the one asked for, clamped to the pages there are."""
    pages: int
    """How many pages the matching items fill (at least 1)."""


def golden_page(store, golden_hash: str, page: int, *, page_size: int = GOLDEN_PAGE_SIZE, search: str = "",
                label: int | None = None, category: str | None = None) -> GoldenPage:
    """Page ``page`` of the items of ``golden_hash`` whose text or id contains ``search`` with the
    ``label`` and ``category`` asked for (None: any); the filters are ``filter_items``'s."""
    if not search and label is None and category is None:
        matching = store.golden_item_count(golden_hash)
        page, pages = _clamp(page, matching, page_size)
        rows = store.golden_items_page(golden_hash, (page - 1) * page_size, page_size)
        return GoldenPage(rows, matching, page, pages)
    wanted = (max(1, int(page)) - 1) * page_size
    kept, matching = [], 0
    for batch in store.golden_item_batches(golden_hash):
        hits = filter_items(batch, search=search, label=label, category=category)
        lo, hi = max(0, wanted - matching), wanted + page_size - matching
        if hi > 0 and lo < len(hits):
            kept.append(hits.iloc[lo:hi])
        matching += len(hits)
    clamped, pages = _clamp(page, matching, page_size)
    if clamped != max(1, int(page)):  # asked past the end: the last page, with a second pass
        return golden_page(store, golden_hash, clamped, page_size=page_size, search=search, label=label,
                           category=category)
    rows = pd.concat(kept, ignore_index=True) if kept else store.golden_items_page(golden_hash, 0, 0)
    return GoldenPage(rows, matching, clamped, pages)


def _clamp(page: int, total: int, page_size: int) -> tuple[int, int]:
    pages = max(1, math.ceil(total / page_size))
    return min(max(1, int(page)), pages), pages
