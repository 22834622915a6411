"""Precision-recall and ROC curves of one run, from one sort of its scores.

Points are taken at every distinct score, highest first, so recall and false-positive rate grow
along the arrays. Rules for degenerate input, stated once:

- empty or all-error run: empty arrays; the area (average precision, AUC) is None.
- no gold "1": recall and true-positive rate are undefined and take ``zero_division``;
  average precision and AUC are None.
- no gold "0": false-positive rate takes ``zero_division``; AUC is None (average precision is
  still defined).
- hard-label run: the single operating point (threshold 0.5); both areas are None, since one
  point does not trace a curve.

``note`` says which rule applied; it is "" for an ordinary run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._scored import Result, check_results, check_zero_division
from ._threshold import HARD_LABEL_THRESHOLD


@dataclass(frozen=True, eq=False)
class PRCurve(Result):
    """Precision against recall, one point per distinct score (threshold descending).

    Unlike ``sklearn.metrics.precision_recall_curve`` no (recall 0, precision 1) end point is
    appended: every point here is a real threshold.
    """

    threshold: np.ndarray
    """Thresholds, descending; score >= threshold is "1"."""
    precision: np.ndarray
    """Precision at each threshold."""
    recall: np.ndarray
    """Recall at each threshold (non-decreasing)."""
    average_precision: float | None
    """Sum over points of (recall step) x precision, as scikit-learn defines it; None when
    undefined (see the module rules)."""
    n: int
    """Scored items."""
    errors: int
    """Errored items, left out."""
    n_pos: int
    """Scored items with gold label 1."""
    hard_label: bool
    """True when this is a hard-label run's single point."""
    note: str
    """Which degenerate-input rule applied, or ""."""


@dataclass(frozen=True, eq=False)
class ROCCurve(Result):
    """True-positive rate against false-positive rate (threshold descending).

    As in ``sklearn.metrics.roc_curve`` the first point is (0, 0) at threshold +inf, so the
    curve starts where nothing is predicted "1" (except for a hard-label run's single point).
    """

    threshold: np.ndarray
    """Thresholds, descending, starting at +inf."""
    fpr: np.ndarray
    """False-positive rate fp / (fp + tn) at each threshold."""
    tpr: np.ndarray
    """True-positive rate (recall) at each threshold."""
    auc: float | None
    """Area under the curve (trapezoids); None when undefined (see the module rules)."""
    n: int
    """Scored items."""
    errors: int
    """Errored items, left out."""
    n_pos: int
    """Scored items with gold label 1."""
    n_neg: int
    """Scored items with gold label 0."""
    hard_label: bool
    """True when this is a hard-label run's single point."""
    note: str
    """Which degenerate-input rule applied, or ""."""


def pr_curve(results, *, hard_label: bool = False, zero_division: float = 0.0) -> PRCurve:
    """The precision-recall curve and average precision of one run."""
    zero_division = check_zero_division(zero_division)
    run = check_results(results, hard_label=hard_label)
    table = run.counts
    threshold, tp, fp = _points(run)
    # tp + fp >= 1 at every observed score; only a hard-label point can predict no "1".
    precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), zero_division)
    recall = _rate(tp, table.n_pos, zero_division)
    notes = [run.note]
    if run.n and table.n_pos == 0:
        notes.append("no gold '1' items: recall is undefined (set to zero_division) and so "
                     "is average precision")
    ap = None
    if run.n and table.n_pos and not run.hard_label:
        ap = float(max(0.0, np.sum(np.diff(recall, prepend=0.0) * precision)))
    return PRCurve(threshold, precision, recall, ap, run.n, run.errors, table.n_pos,
                   run.hard_label, _join(notes))


def roc_curve(results, *, hard_label: bool = False, zero_division: float = 0.0) -> ROCCurve:
    """The ROC curve and its area of one run."""
    zero_division = check_zero_division(zero_division)
    run = check_results(results, hard_label=hard_label)
    table = run.counts
    threshold, tp, fp = _points(run)
    if run.n and not run.hard_label:
        threshold = np.concatenate(([np.inf], threshold))
        tp, fp = np.concatenate(([0], tp)), np.concatenate(([0], fp))
    tpr = _rate(tp, table.n_pos, zero_division)
    fpr = _rate(fp, table.n_neg, zero_division)
    notes = [run.note]
    if run.n and table.n_pos == 0:
        notes.append("no gold '1' items: true-positive rate is undefined (set to "
                     "zero_division) and so is AUC")
    if run.n and table.n_neg == 0:
        notes.append("no gold '0' items: false-positive rate is undefined (set to "
                     "zero_division) and so is AUC")
    auc = None
    if table.n_pos and table.n_neg and not run.hard_label:
        auc = float(np.trapezoid(tpr, fpr))
    return ROCCurve(threshold, fpr, tpr, auc, run.n, run.errors, table.n_pos, table.n_neg,
                    run.hard_label, _join(notes))


def _points(run) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    table = run.counts
    if run.hard_label and run.n:
        tp, fp = table.at([HARD_LABEL_THRESHOLD])
        return np.array([HARD_LABEL_THRESHOLD]), tp, fp
    return table.threshold, table.tp, table.fp


def _rate(count: np.ndarray, total: int, zero_division: float) -> np.ndarray:
    if total == 0:
        return np.full(len(count), zero_division)
    return count / total


def _join(notes: list[str]) -> str:
    return "; ".join(n for n in notes if n)
