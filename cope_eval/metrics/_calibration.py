"""How well one run's scores read as probabilities: reliability curve, Brier score, expected
calibration error, and score histograms by gold label.

Rules for degenerate input: an empty or all-error run gives empty arrays and None for the Brier
score and ECE. One gold class is fine here (both scores are defined). A hard-label run is
computed as usual (its Brier score is then its error rate) and ``note`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._scored import Result, check_results

STRATEGIES = ("uniform", "quantile")


@dataclass(frozen=True, eq=False)
class CalibrationCurve(Result):
    """Reliability curve over score bins, with the Brier score and ECE.

    Bins are as in ``sklearn.calibration.calibration_curve``: the first is [e0, e1], the others
    (e[i], e[i+1]], so a score on an inner edge falls in the lower bin. Only non-empty bins
    have a point.
    """

    bin_edges: np.ndarray
    """The n_bins + 1 edges: evenly spaced on [0, 1] ("uniform") or score quantiles."""
    bin: np.ndarray
    """Index (0-based) of each non-empty bin."""
    mean_score: np.ndarray
    """Mean score of the items in each non-empty bin (sklearn's ``prob_pred``)."""
    fraction_positive: np.ndarray
    """Share of gold "1" in each non-empty bin (sklearn's ``prob_true``)."""
    count: np.ndarray
    """Items in each non-empty bin."""
    brier: float | None
    """Mean of (score - label)^2; None when no item is scored."""
    ece: float | None
    """Expected calibration error: sum over bins of count/n x |fraction_positive - mean_score|;
    None when no item is scored."""
    n_bins: int
    """Bins asked for."""
    strategy: str
    """"uniform" or "quantile"."""
    n: int
    """Scored items."""
    errors: int
    """Errored items, left out."""
    hard_label: bool
    """True for a hard-label run."""
    note: str
    """Which degenerate-input rule applied, or ""."""


@dataclass(frozen=True, eq=False)
class ScoreHistogram(Result):
    """Score counts in equal-width bins over [0, 1], one series per gold label."""

    bin_edges: np.ndarray
    """The n_bins + 1 edges on [0, 1]; the last bin includes 1.0, as in ``np.histogram``."""
    count_positive: np.ndarray
    """Gold "1" items per bin."""
    count_negative: np.ndarray
    """Gold "0" items per bin."""
    n: int
    """Scored items."""
    errors: int
    """Errored items, left out."""
    hard_label: bool
    """True for a hard-label run (all counts sit in the end bins)."""
    note: str
    """Which degenerate-input rule applied, or ""."""


def calibration(results, *, n_bins: int = 10, strategy: str = "uniform",
                hard_label: bool = False) -> CalibrationCurve:
    """Reliability curve, Brier score and expected calibration error of one run."""
    n_bins = _check_bins(n_bins)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    run = check_results(results, hard_label=hard_label)
    y, s = run.y, run.s
    if run.n == 0:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        empty = np.array([], dtype=np.float64)
        return CalibrationCurve(edges, np.array([], dtype=np.int64), empty, empty,
                                np.array([], dtype=np.int64), None, None, n_bins, strategy,
                                0, run.errors, run.hard_label, run.note)
    if strategy == "quantile":
        edges = np.percentile(s, np.linspace(0, 100, n_bins + 1))
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], s)
    total = np.bincount(ids, minlength=n_bins)
    score_sum = np.bincount(ids, weights=s, minlength=n_bins)
    pos = np.bincount(ids, weights=y, minlength=n_bins)
    (nonempty,) = np.nonzero(total)
    mean_score = score_sum[nonempty] / total[nonempty]
    fraction = pos[nonempty] / total[nonempty]
    count = total[nonempty]
    ece = float(np.sum(count * np.abs(fraction - mean_score)) / run.n)
    brier = float(np.mean(np.square(s - y)))
    note = run.note
    if run.hard_label:
        note += "; its Brier score is its error rate at threshold 0.5"
    return CalibrationCurve(edges, nonempty, mean_score, fraction, count, brier, ece, n_bins,
                            strategy, run.n, run.errors, run.hard_label, note)


def score_histogram(results, *, n_bins: int = 20, hard_label: bool = False) -> ScoreHistogram:
    """How scores spread for gold "1" and gold "0" items, on shared bins over [0, 1]."""
    n_bins = _check_bins(n_bins)
    run = check_results(results, hard_label=hard_label)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    pos, _ = np.histogram(run.s[run.y], bins=edges)
    neg, _ = np.histogram(run.s[~run.y], bins=edges)
    return ScoreHistogram(edges, pos, neg, run.n, run.errors, run.hard_label, run.note)


def _check_bins(n_bins) -> int:
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    return int(n_bins)
