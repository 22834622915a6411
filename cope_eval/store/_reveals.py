"""Looking at the test split on purpose: ``reveal_test`` gives a run's test-split results and
records the look (who, when, where, which run) for the run's policy lineage; ``test_reveals``
counts the looks, for the export card ("the test split was looked at k times before export").

A team that looks at test after every edit has tuned on it; the count is how a reviewer tells.
Looks are counted per policy (all its versions) and golden-set lineage (the set's first version:
its relabels and its split version count together).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ._results import run_results
from ._store import Store

PLACES = ("cli", "page", "export")
"""Where a look happened: ``cope-eval ... --reveal-test``, a page's "Reveal test metrics", an export."""


@dataclass(frozen=True, eq=False)
class Reveals:
    """The recorded looks at one policy lineage's test split."""

    policy: str
    """The policy's name (every version of it)."""
    lineage: str
    """The golden set's first version (``Store.golden_lineage``)."""
    looks: pd.DataFrame
    """One row per look, oldest first (``Store.test_reveals``' columns)."""

    @property
    def count(self) -> int:
        return len(self.looks)


def reveal_test(store: Store, run_id: str, *, who: str, place: str) -> pd.DataFrame:
    """The run's test-split results (``run_results(split="test")``), recorded as one look by
    ``who`` at ``place`` (``PLACES``). Raises ``ConfigError`` for a set without a split, before
    anything is recorded."""
    if place not in PLACES:
        raise ValueError(f"place must be one of {PLACES}, got {place!r}")
    results = run_results(store, run_id, split="test")
    store.record_test_reveal(run_id, who=who, place=place)
    return results


def recorded_reveals(store: Store, run_id: str) -> Reveals:
    """Every recorded look at the test split of ``run_id``'s policy and golden-set lineage."""
    run = store.run(run_id)
    policy = store.policy_version(run.policy_version_id).policy
    lineage = store.golden_lineage(run.golden_hash)
    return Reveals(policy, lineage, store.test_reveals(policy, lineage))
