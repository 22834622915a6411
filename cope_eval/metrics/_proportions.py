"""A share of items (flips, flags, agreements) with its Wilson score interval.

Why Wilson and not the bootstrap of ``uncertainty``: these are plain counts out of n, often on a
few dozen items and often at 0% or 100%, where a percentile bootstrap collapses to the point
(every resample of 6 flips out of 6 is 6 out of 6) and over-reads a small sample. The Wilson
interval stays honest there: 6 of 6 gives 61%-100%.

Rule for no items: the estimate is ``zero_division`` (default 0.0) and the interval is [0, 1],
since nothing is known.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._scored import Result, check_unit


@dataclass(frozen=True)
class Proportion(Result):
    """``count`` out of ``n``, with a Wilson score interval."""

    count: int
    """Items with the property (flipped, flagged, agreeing)."""
    n: int
    """Items it was counted over."""
    estimate: float
    """count / n; ``zero_division`` when n is 0."""
    low: float
    """Lower end of the interval; 0.0 when n is 0."""
    high: float
    """Upper end of the interval; 1.0 when n is 0."""
    confidence: float
    """Coverage of the interval, e.g. 0.95."""


def proportion(count: int, n: int, *, confidence: float = 0.95, zero_division: float = 0.0) -> Proportion:
    """``count`` of ``n`` items with a Wilson score interval at ``confidence``."""
    confidence = check_unit("confidence", confidence)
    count, n = int(count), int(n)
    if not 0 <= count <= n:
        raise ValueError(f"count must lie in [0, n], got {count} of {n}")
    if n == 0:
        return Proportion(0, 0, float(zero_division), 0.0, 1.0, confidence)
    from scipy import stats  # here, not at the top: scipy.stats takes a second to import (a fast CLI)

    interval = stats.binomtest(count, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Proportion(count, n, count / n, float(interval.low), float(interval.high), confidence)
