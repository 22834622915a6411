"""How sure the numbers are: bootstrap confidence intervals and McNemar's test.

Why the bootstrap draws counts, not item indices: at a fixed threshold every item falls in one
cell (tp, fp, fn, tn; or for two paired runs, one of 8 cells of gold x prediction A x
prediction B), and every metric here depends on a resample only through its cell counts.
Resampling n items with replacement makes those counts Multinomial(n, observed cell shares),
so drawing the counts directly is the same bootstrap distribution as an (n_resamples x n) index
matrix, in O(n_resamples x cells) time and memory instead of O(n_resamples x n). Intervals are
percentile intervals.

Rules for degenerate input: with no scored items every interval is the point
(``zero_division``, ``zero_division``); a ratio undefined on the data (recall with no gold "1")
is ``zero_division`` in every resample too, so its interval is that point (with
``zero_division=NaN`` such resamples are dropped); McNemar's test with no discordant items gives
p = 1.0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._scored import Result, check_results, check_unit, check_zero_division
from ._threshold import RATIOS, check_threshold, rates

DEFAULT_METRICS = ("precision", "recall", "f1")


@dataclass(frozen=True)
class Interval(Result):
    """A point estimate with a percentile bootstrap interval."""

    estimate: float
    """The value on the data as given."""
    low: float
    """Lower end: the (1 - confidence) / 2 quantile of the resampled values."""
    high: float
    """Upper end: the (1 + confidence) / 2 quantile of the resampled values."""


@dataclass(frozen=True)
class BootstrapResult(Result):
    """Bootstrap intervals for one run's metrics at one threshold."""

    intervals: dict[str, Interval]
    """Metric name to its interval, in the order asked for."""
    threshold: float
    """Items with score >= threshold are predicted "1"."""
    n: int
    """Scored items (each resample draws this many)."""
    errors: int
    """Errored items, left out."""
    n_resamples: int
    """Resamples drawn."""
    confidence: float
    """Coverage of each interval, e.g. 0.95."""
    zero_division: float
    """Value of a ratio with a zero denominator, in the data and in every resample."""
    note: str
    """Why the intervals are degenerate (no scored items), or ""."""


@dataclass(frozen=True)
class McNemarResult(Result):
    """McNemar's test of whether two paired sets of predictions err equally often."""

    n: int
    """Paired items tested."""
    only_a_right: int
    """Items A gets right and B gets wrong (B "broke" them)."""
    only_b_right: int
    """Items B gets right and A gets wrong (B "fixed" them)."""
    statistic: float
    """Exact test: the smaller discordant count; chi-square test: the chi-square value."""
    p_value: float
    """Two-sided p-value; 1.0 when there are no discordant items."""
    method: str
    """"exact binomial" below ``exact_below`` discordant items, else "chi-square with
    continuity correction"."""


def bootstrap_ci(results, *, threshold: float = 0.5, metrics=DEFAULT_METRICS,
                 n_resamples: int = 1000, confidence: float = 0.95, random_state=0,
                 zero_division: float = 0.0) -> BootstrapResult:
    """Percentile bootstrap intervals for ``metrics`` (any of ``RATIOS``) at ``threshold``.

    Seeded by ``random_state`` (an int, a ``numpy.random.Generator``, or None for fresh
    entropy). Empty or all-error input gives every interval as the point value
    ``zero_division`` at both ends.
    """
    threshold = check_threshold(threshold)
    zero_division = check_zero_division(zero_division)
    metrics = _check_metrics(metrics)
    run = check_results(results)
    predicted = run.s >= threshold
    cells = np.bincount(run.y * 2 + predicted, minlength=4)  # tn, fp, fn, tp
    draws = _draw(cells, n_resamples, random_state)

    def ratios(c):
        return rates(c[..., 3], c[..., 1], c[..., 2], c[..., 0], zero_division=zero_division,
                     names=metrics)

    intervals = _intervals(ratios(cells), ratios(draws), metrics, confidence)
    note = "" if run.n else "no scored items: every interval is the zero_division value"
    return BootstrapResult(intervals, threshold, run.n, run.errors, int(n_resamples),
                           float(confidence), zero_division, note)


def paired_bootstrap_ci(y_true, pred_a, pred_b, *, metrics=DEFAULT_METRICS,
                        n_resamples: int = 1000, confidence: float = 0.95, random_state=0,
                        zero_division: float = 0.0) -> dict[str, Interval]:
    """Intervals for metric(B) - metric(A) over the same items, resampled together.

    ``y_true``, ``pred_a`` and ``pred_b`` are aligned 0/1 arrays (errored items already
    removed; ``comparison.compare_runs`` does this for two runs). Empty input gives 0.0
    deltas.
    """
    zero_division = check_zero_division(zero_division)
    metrics = _check_metrics(metrics)
    y, a, b = (np.asarray(v, dtype=bool) for v in (y_true, pred_a, pred_b))
    if not len(y) == len(a) == len(b):
        raise ValueError(f"arrays differ in length: {len(y)}, {len(a)}, {len(b)}")
    cells = np.bincount(y * 4 + a * 2 + b, minlength=8)
    draws = _draw(cells, n_resamples, random_state)

    def deltas(c):
        # cell index = 4*gold + 2*pred_a + pred_b
        ra = rates(c[..., 6] + c[..., 7], c[..., 2] + c[..., 3], c[..., 4] + c[..., 5],
                   c[..., 0] + c[..., 1], zero_division=zero_division, names=metrics)
        rb = rates(c[..., 5] + c[..., 7], c[..., 1] + c[..., 3], c[..., 4] + c[..., 6],
                   c[..., 0] + c[..., 2], zero_division=zero_division, names=metrics)
        return {k: rb[k] - ra[k] for k in ra}

    return _intervals(deltas(cells), deltas(draws), metrics, confidence)


def mcnemar_test(y_true, pred_a, pred_b, *, exact_below: int = 25) -> McNemarResult:
    """McNemar's test on paired predictions (aligned 0/1 arrays, errors removed).

    With fewer than ``exact_below`` discordant items (A right and B wrong, or the reverse) it
    is the exact two-sided binomial test; otherwise the chi-square test with continuity
    correction, (max(|b - c| - 1, 0))^2 / (b + c) on 1 degree of freedom. No discordant items:
    statistic 0 and p-value 1.0.
    """
    y, a, b = (np.asarray(v, dtype=bool) for v in (y_true, pred_a, pred_b))
    if not len(y) == len(a) == len(b):
        raise ValueError(f"arrays differ in length: {len(y)}, {len(a)}, {len(b)}")
    right_a, right_b = a == y, b == y
    only_a = int(np.count_nonzero(right_a & ~right_b))
    only_b = int(np.count_nonzero(right_b & ~right_a))
    discordant = only_a + only_b
    # Both tails in closed form, not scipy.stats (a second to import, on a page's first comparison):
    # Binomial(n, 1/2) is symmetric, so its two-sided p is twice the smaller tail; chi-square with
    # one degree of freedom has survival function erfc(sqrt(x / 2)).
    if discordant < exact_below:
        method = "exact binomial"
        statistic = float(min(only_a, only_b))
        tail = sum(math.comb(discordant, k) for k in range(min(only_a, only_b) + 1)) / 2 ** discordant
        p = 2 * tail if discordant else 1.0
    else:
        method = "chi-square with continuity correction"
        statistic = max(abs(only_a - only_b) - 1, 0) ** 2 / discordant
        p = math.erfc(math.sqrt(statistic / 2))
    return McNemarResult(len(y), only_a, only_b, float(statistic), float(min(p, 1.0)), method)


def _check_metrics(metrics) -> tuple[str, ...]:
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in metrics if m not in RATIOS]
    if unknown or not metrics:
        raise ValueError(f"metrics must be names from {RATIOS}, got {metrics!r}")
    return metrics


def _draw(cells: np.ndarray, n_resamples: int, random_state) -> np.ndarray:
    """(n_resamples, cells) counts: the cell counts of n items drawn with replacement."""
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    n = int(cells.sum())
    if n == 0:
        return np.zeros((int(n_resamples), len(cells)), dtype=np.int64)
    rng = np.random.default_rng(random_state)
    return rng.multinomial(n, cells / n, size=int(n_resamples))


def _intervals(point: dict, resampled: dict, metrics, confidence) -> dict[str, Interval]:
    confidence = check_unit("confidence", confidence)
    tail = (1.0 - confidence) / 2.0
    out = {}
    for name in metrics:
        values = np.asarray(resampled[name], dtype=np.float64)
        # With zero_division=NaN, resamples where the metric is undefined are left out.
        values = values[~np.isnan(values)]
        low, high = np.quantile(values, [tail, 1.0 - tail]) if len(values) else (np.nan,) * 2
        out[name] = Interval(float(point[name]), float(low), float(high))
    return out
