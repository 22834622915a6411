"""Find a stored golden set by what a person types: its hash, the start of its hash, or its name."""

from __future__ import annotations

import re

from ..errors import NotFoundError
from ..records import short_id
from ..store import Store

MIN_HASH_PREFIX = 6
"""Fewest hex digits that name a version by the start of its hash."""

_HEX = re.compile(r"[0-9a-f]+")


def find_golden_set(store: Store, reference: str) -> str:
    """The hash of the one stored set ``reference`` names, else ``NotFoundError`` saying why.

    ``reference`` is a full hash (``sha256:<hex>``), the start of one (``sha256:`` optional, at
    least ``MIN_HASH_PREFIX`` hex digits), or a set's name. A name that several versions share
    (a relabel or a split keeps the name) is refused with their hashes, newest first: a version
    is named by its hash then, so the wrong one is never picked silently."""
    sets = store.golden_sets()
    wanted = reference.strip()
    digits = wanted.removeprefix("sha256:").lower()
    if _HEX.fullmatch(digits) and (len(digits) >= MIN_HASH_PREFIX or wanted.startswith("sha256:")):
        found = sets[sets["hash"].str.removeprefix("sha256:").str.startswith(digits)]
        if len(found) == 1:
            return str(found["hash"].iat[0])
        if len(found) > 1:
            raise NotFoundError(f"{reference!r} is the start of {len(found)} golden-set versions' hashes "
                                f"({_listing(found)}); give more of the hash.")
    named = sets[sets["name"] == wanted]
    if len(named) == 1:
        return str(named["hash"].iat[0])
    if len(named) > 1:
        raise NotFoundError(f"{len(named)} versions of golden set {wanted!r} are stored ({_listing(named)}, "
                            "newest first); name one by its hash.")
    known = ", ".join(repr(n) for n in dict.fromkeys(sets["name"].tolist()[::-1][:10])) or "none"
    raise NotFoundError(f"No golden set {reference!r} in this workspace's store (by hash or name); "
                        f"stored sets, newest first: {known}.")


def _listing(found) -> str:
    rows = found.iloc[::-1]
    return ", ".join(f"{short_id(h)} ({n:,} items, {c[:16]})"
                     for h, n, c in zip(rows["hash"], rows["n_items"], rows["created"]))
