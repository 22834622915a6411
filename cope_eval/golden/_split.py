"""A dev / test split of a golden set: iterate on dev, keep test for the honest figure.

The split is part of a set's content: each item's ``split`` column holds ``dev`` or ``test``, the
set hash covers it (``_load``), and making a split stores a new version whose parent is the set
without one. A relabel keeps every item's split, so an item never moves between dev and test.

How items are drawn (``assign_split``), for a test fraction f and a seed:

1. Strata: items with the same label, and the same category when any item has one (items
   without a category are a stratum of their own).
2. The test split holds T = round(f * n) items of the n in the set, halves rounded up. Each
   stratum of n_s items gets floor(f * n_s); the T - sum of those left over go, one each, to the
   strata with the largest remainders f * n_s - floor(f * n_s) (ties: the larger stratum, then
   the one that sorts first by label, then category). So every stratum gets its share give or take one item, a
   stratum of one item included, and the total is exactly T. f is read from its decimal
   spelling (0.3 is 3/10 exactly), so no float rounding moves an item.
3. Within a stratum, items are ordered by the sha256 of ``"<seed>:<id>"`` (hex) and the first
   ones go to test. An item's place depends only on the seed, its id and its stratum, not on
   row order; another seed draws another split.

A split with no item in test or none in dev is refused (a set too small for the fraction).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..records import SPLIT_VALUES, GoldenSet, short_id
from ..store import Store, has_split
from ._load import golden_set_hash

DEFAULT_TEST_FRACTION = 0.3
"""The share of items kept for test when none is given."""
DEFAULT_SEED = 0
"""The seed used when none is given."""
SPLIT_SOURCE = "split of "
"""How a split version's ``source`` starts in the store (then the parent's hash)."""


@dataclass(frozen=True, eq=False)
class SplitResult:
    """A stored split: the new version and how it was drawn."""

    golden: GoldenSet
    """The new version: the parent's items, each with its ``split``."""
    parent: str
    """Hash of the set it was drawn from (which has no split)."""
    test_fraction: float
    """The share asked for in test."""
    seed: int
    """The seed of the draw."""
    counts: pd.DataFrame
    """Items per split and label (and category when the set has one): ``split_counts``."""
    other_splits: tuple[str, ...]
    """Hashes of other split versions drawn from the same parent (another seed or fraction)."""

    def to_dict(self) -> dict:
        return {"hash": self.golden.hash, "name": self.golden.name, "parent": self.parent,
                "test_fraction": self.test_fraction, "seed": self.seed, "n_items": len(self.golden),
                "items": {split: int((self.golden.items["split"] == split).sum()) for split in SPLIT_VALUES},
                "counts": self.counts.to_dict(orient="records"), "other_splits": list(self.other_splits)}


def check_test_fraction(value, *, source: str = "The test fraction") -> float:
    """``value`` as a float strictly between 0 and 1, else ``ConfigError`` naming ``source`` (the
    user's words: ``--test-fraction``). Text is accepted, so the CLI can use it as an argparse type."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not 0.0 < number < 1.0:
        raise ConfigError(f"{source} must be a number between 0 and 1 (both excluded: each split needs items), "
                          f"not {value}.")
    return number


def assign_split(items: pd.DataFrame, *, test_fraction: float, seed: int = DEFAULT_SEED) -> pd.Series:
    """Each item's split (``dev`` or ``test``), drawn as the module docstring says; same index."""
    fraction = Fraction(repr(check_test_fraction(test_fraction)))
    n = len(items)
    total = math.floor(fraction * n + Fraction(1, 2))
    if total == 0 or total == n:
        side = "test" if total == 0 else "dev"
        raise ConfigError(f"A test fraction of {float(fraction):g} of {n:,} item(s) leaves no item in {side}; "
                          "split a larger set, or choose another fraction.", options=("test_fraction",))
    strata = _strata(items)
    quotas = _quotas(np.bincount(strata), fraction, total)
    keys = np.array([hashlib.sha256(f"{seed}:{i}".encode("utf-8", "surrogatepass")).hexdigest()
                     for i in items["id"]])
    order = np.lexsort((keys, strata))
    ranked = strata[order]
    rank = np.arange(n) - np.searchsorted(ranked, ranked, side="left")
    test = np.empty(n, dtype=bool)
    test[order] = rank < quotas[ranked]
    return pd.Series(np.where(test, "test", "dev"), index=items.index, dtype="str")


def make_split(golden: GoldenSet, *, test_fraction: float = DEFAULT_TEST_FRACTION,
               seed: int = DEFAULT_SEED) -> GoldenSet:
    """A new version of ``golden`` whose items carry a split (its own hash; ``golden`` unchanged).

    Refuses a set that already has a split: a new draw would move items whose test figures may
    have been seen into dev, which is the overfitting a split is there to prevent."""
    if has_split(golden.items):
        raise ConfigError(f"Golden set {golden.name!r} (version {short_id(golden.hash)}) already has a dev/test "
                          "split: a new draw would move test items, whose figures may have been seen, into dev. "
                          "Split the version without a split instead.")
    items = golden.items.assign(split=assign_split(golden.items, test_fraction=test_fraction, seed=seed))
    return GoldenSet(name=golden.name, hash=golden_set_hash(items), items=items)


def split_golden_set(store: Store, golden_hash: str, *, test_fraction: float = DEFAULT_TEST_FRACTION,
                     seed: int = DEFAULT_SEED) -> SplitResult:
    """Draw a split of the stored set ``golden_hash`` and store it as a new version (parent: that set).

    The same set, fraction and seed give the same version again (stored once). A set that already
    has a split is refused, naming the version without one it came from when the store knows it."""
    golden = store.golden_set(golden_hash)
    if has_split(golden.items):
        unsplit = _unsplit_ancestor(store, golden_hash)
        where = f" ({short_id(unsplit)})" if unsplit else ""
        raise ConfigError(f"Golden set {golden.name!r} (version {short_id(golden_hash)}) already has a dev/test "
                          "split: a new draw would move test items, whose figures may have been seen, into dev. "
                          f"Split the version without a split{where} instead, or keep this split.")
    fraction = check_test_fraction(test_fraction)
    split = make_split(golden, test_fraction=fraction, seed=seed)
    store.put_golden_set(split, source=f"{SPLIT_SOURCE}{golden_hash} (test fraction {fraction:g}, seed {seed})",
                         parent_hash=golden_hash)
    sets = store.golden_sets(study_subsets=True)
    others = sets[(sets["parent_hash"] == golden_hash) & sets["source"].str.startswith(SPLIT_SOURCE, na=False)
                  & (sets["hash"] != split.hash)]
    return SplitResult(split, golden_hash, fraction, int(seed), split_counts(split.items), tuple(others["hash"]))


def split_counts(items: pd.DataFrame) -> pd.DataFrame:
    """Items per split and label, and category when any item has one (missing: its own row).

    Columns: ``split``, ``label``, [``category``], ``items``; dev first, then test. A set without
    a split counts everything under ``dev`` (it behaves as all dev)."""
    split = items["split"].fillna("dev") if "split" in items.columns else pd.Series("dev", index=items.index)
    by = {"split": split, "label": items["label"].astype(int)}
    if "category" in items.columns and items["category"].notna().any():
        by["category"] = items["category"]
    frame = pd.DataFrame(by)
    counts = frame.groupby(list(by), sort=True, dropna=False).size().rename("items").reset_index()
    return counts.astype({"items": int})


def _strata(items: pd.DataFrame) -> np.ndarray:
    """One integer per stratum, in the order of (label, category): see the module docstring."""
    by = {"label": items["label"].astype(int).to_numpy()}
    if "category" in items.columns and items["category"].notna().any():
        by["category"] = items["category"].to_numpy(dtype=object)
    frame = pd.DataFrame(by)
    return frame.groupby(list(by), sort=True, dropna=False).ngroup().to_numpy()


def _quotas(counts: np.ndarray, fraction: Fraction, total: int) -> np.ndarray:
    """Test items per stratum: floor(f * n_s), then one more for the largest remainders until ``total``."""
    exact = [fraction * int(c) for c in counts]
    quotas = [math.floor(q) for q in exact]
    by_remainder = sorted(range(len(counts)), key=lambda s: (quotas[s] - exact[s], -int(counts[s]), s))
    for s in by_remainder[: total - sum(quotas)]:
        quotas[s] += 1
    return np.asarray(quotas, dtype=np.int64)


def _unsplit_ancestor(store: Store, golden_hash: str) -> str | None:
    """The parent a split version (or a relabel of one) was drawn from, when the store says."""
    sets = store.golden_sets(study_subsets=True).set_index("hash")
    current, seen = golden_hash, set()
    while current in sets.index and current not in seen:
        seen.add(current)
        source, parent = sets.at[current, "source"], sets.at[current, "parent_hash"]
        if not isinstance(parent, str):
            return None
        if isinstance(source, str) and source.startswith(SPLIT_SOURCE):
            return parent
        current = parent
    return None
