"""One run's metrics at a threshold, as functions of the threshold, and threshold pickers.

An item is predicted "1" when ``score >= threshold`` (default 0.5). Errored items are left out
and counted in ``errors``. A ratio whose denominator is zero (precision with nothing predicted
"1", recall with no gold "1", anything on an empty run) is undefined: it takes the value of
``zero_division`` (default 0.0, as in scikit-learn; pass ``float("nan")`` to keep it visible).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ._scored import Result, check_results, check_unit, check_zero_division

RATIOS = ("precision", "recall", "f1", "accuracy", "specificity", "positive_rate")
"""The ratio metrics every table, sweep and bootstrap reports, in display order."""

HARD_LABEL_THRESHOLD = 0.5
"""The one operating point of a hard-label run (any threshold in (0, 1] gives the same)."""


def check_threshold(value, *, source: str = "Threshold") -> float:
    """``value`` as a float when it is a number from 0 to 1, else ``ConfigError`` naming ``source``.

    The one range check of every threshold: a run's, a comparison's, an export's, and the CLI's
    gates (``--fail-under-f1``, ``--max-error-rate`` are thresholds on a metric). NaN, infinities,
    text that is not a number and values outside [0, 1] are refused; 0 and 1 are values. ``source``
    is what the user set, in their words (``--threshold``, "Threshold"). Text is accepted so that
    the CLI can use this as an argparse ``type``: the ``ConfigError`` then escapes argparse (which
    only catches ``ValueError``) and ``cli.main`` prints it as one line.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not 0.0 <= number <= 1.0:
        shown = value if isinstance(value, (str, int, float)) else repr(value)
        raise ConfigError(f"{source} must be a number from 0 to 1, not {shown}.")
    return number


def rates(tp, fp, fn, tn, *, zero_division: float = 0.0,
          names=RATIOS) -> dict[str, np.ndarray]:
    """Ratios from confusion counts, elementwise over arrays of counts (``names`` picks which).

    precision = tp/(tp+fp), recall = tp/(tp+fn), f1 = 2tp/(2tp+fp+fn) (as scikit-learn computes
    it), accuracy = (tp+tn)/n, specificity = tn/(tn+fp), positive_rate = (tp+fp)/n, the share
    predicted "1". A zero denominator gives ``zero_division``.
    """
    tp, fp, fn, tn = (np.asarray(c, dtype=np.float64) for c in (tp, fp, fn, tn))
    # (numerator, denominator) built lazily: over a million thresholds, unasked ratios cost.
    formulas = {
        "precision": lambda: (tp, tp + fp),
        "recall": lambda: (tp, tp + fn),
        "f1": lambda: (2 * tp, 2 * tp + fp + fn),
        "accuracy": lambda: (tp + tn, tp + fp + fn + tn),
        "specificity": lambda: (tn, tn + fp),
        "positive_rate": lambda: (tp + fp, tp + fp + fn + tn),
    }
    return {name: _ratio(*formulas[name](), zero_division) for name in names}


def _ratio(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    defined = den > 0
    return np.where(defined, num / np.where(defined, den, 1.0), zero_division)


CELLS = ("tp", "fp", "fn", "tn")
"""The confusion cells, in the order of ``confusion_cells``' codes."""


def confusion_cells(said_one: np.ndarray, gold_one: np.ndarray) -> np.ndarray:
    """Each item's confusion cell as a code into ``CELLS`` (int8), from whether the model said 1
    and whether the gold label is 1: the one per-item rule behind the predictions browser and the
    bundle's predictions.csv, as the counts of ``metrics_at_threshold`` are its sums."""
    return np.where(said_one, np.where(gold_one, 0, 1), np.where(gold_one, 2, 3)).astype(np.int8)


@dataclass(frozen=True)
class ThresholdMetrics(Result):
    """Confusion counts and ratios of one run at one threshold."""

    threshold: float
    """Items with score >= threshold are predicted "1"."""
    n: int
    """Scored items (errors excluded)."""
    errors: int
    """Errored items, left out of every other field."""
    tp: int
    """Gold 1, predicted 1."""
    fp: int
    """Gold 0, predicted 1."""
    fn: int
    """Gold 1, predicted 0."""
    tn: int
    """Gold 0, predicted 0."""
    precision: float
    """tp / (tp + fp); ``zero_division`` when nothing is predicted 1."""
    recall: float
    """tp / (tp + fn); ``zero_division`` when no item is gold 1."""
    f1: float
    """2tp / (2tp + fp + fn); ``zero_division`` when there is no gold 1 and no predicted 1."""
    accuracy: float
    """(tp + tn) / n; ``zero_division`` when n is 0."""
    specificity: float
    """tn / (tn + fp); ``zero_division`` when no item is gold 0."""
    positive_rate: float
    """(tp + fp) / n, the share predicted 1; ``zero_division`` when n is 0."""
    zero_division: float = 0.0
    """The value given to the ratios above when their denominator is 0."""

    @classmethod
    def from_counts(cls, threshold, tp, fp, fn, tn, *, errors=0, zero_division=0.0):
        """Build the record from the four counts."""
        counts = {k: int(v) for k, v in zip(("tp", "fp", "fn", "tn"), (tp, fp, fn, tn))}
        ratios = {k: float(v) for k, v in rates(**counts, zero_division=zero_division).items()}
        return cls(float(threshold), sum(counts.values()), int(errors), **counts, **ratios,
                   zero_division=zero_division)

    @classmethod
    def from_predictions(cls, threshold, gold, predicted, *, errors=0, zero_division=0.0):
        """Build the record from aligned bool arrays of gold labels and predictions."""
        tp = int(np.count_nonzero(predicted & gold))
        fp = int(np.count_nonzero(predicted)) - tp
        fn = int(np.count_nonzero(gold)) - tp
        return cls.from_counts(threshold, tp, fp, fn, len(gold) - tp - fp - fn, errors=errors,
                               zero_division=zero_division)


def metrics_at_threshold(results, *, threshold: float = 0.5,
                         zero_division: float = 0.0) -> ThresholdMetrics:
    """Counts and ratios when score >= ``threshold`` is "1"; empty or all-error input gives
    zero counts and ``zero_division`` ratios."""
    threshold = check_threshold(threshold)
    zero_division = check_zero_division(zero_division)
    run = check_results(results)
    return ThresholdMetrics.from_predictions(threshold, run.y, run.s >= threshold,
                                             errors=run.errors, zero_division=zero_division)


@dataclass(frozen=True, eq=False)
class ThresholdSweep(Result):
    """Counts and ratios as functions of the threshold (arrays aligned, threshold ascending)."""

    threshold: np.ndarray
    """Thresholds, ascending: every distinct score unless the caller chose them."""
    tp: np.ndarray
    """True positives at each threshold."""
    fp: np.ndarray
    """False positives at each threshold."""
    fn: np.ndarray
    """False negatives at each threshold."""
    tn: np.ndarray
    """True negatives at each threshold."""
    precision: np.ndarray
    """Precision at each threshold (``zero_division`` where nothing is predicted 1)."""
    recall: np.ndarray
    """Recall at each threshold (``zero_division`` everywhere when no item is gold 1)."""
    f1: np.ndarray
    """F1 at each threshold."""
    n: int
    """Scored items."""
    errors: int
    """Errored items, left out."""
    hard_label: bool
    """True for a hard-label run: then the sweep is its single operating point."""
    note: str
    """Why the sweep is degenerate (empty, hard-label), or ""."""

    def to_frame(self) -> pd.DataFrame:
        """One row per threshold."""
        cols = ("threshold", "tp", "fp", "fn", "tn", "precision", "recall", "f1")
        return pd.DataFrame({c: getattr(self, c) for c in cols})


def threshold_sweep(results, *, thresholds=None, hard_label: bool = False,
                    zero_division: float = 0.0) -> ThresholdSweep:
    """Precision, recall and F1 at every distinct score (or at ``thresholds``), vectorised.

    A hard-label run gives its one operating point (threshold 0.5) unless ``thresholds`` are
    given; an empty or all-error run gives empty arrays. Both say so in ``note``.
    """
    zero_division = check_zero_division(zero_division)
    run = check_results(results, hard_label=hard_label)
    t, tp, fp, fn, tn = _counts(run, thresholds)
    r = rates(tp, fp, fn, tn, zero_division=zero_division, names=("precision", "recall", "f1"))
    return ThresholdSweep(t, tp, fp, fn, tn, r["precision"], r["recall"], r["f1"],
                          run.n, run.errors, run.hard_label, run.note)


def _counts(run, thresholds=None):
    """(threshold ascending, tp, fp, fn, tn) at every distinct score or at ``thresholds``."""
    table = run.counts
    if thresholds is None and run.hard_label:
        thresholds = [HARD_LABEL_THRESHOLD]
    if thresholds is None:
        t, tp, fp = table.threshold[::-1], table.tp[::-1], table.fp[::-1]
    else:
        t = np.sort(np.asarray(thresholds, dtype=np.float64).ravel())
        for end in t[[0, -1]] if len(t) else ():  # NaN sorts last
            check_threshold(end, source="Every threshold")
        tp, fp = table.at(t)
    return t, tp, fp, table.n_pos - tp, table.n_neg - fp


@dataclass(frozen=True)
class ThresholdChoice(Result):
    """A threshold picked by a rule, and the metrics there."""

    rule: str
    """"max_f1", "min_precision", "min_recall" or "flag_rate"."""
    target: float | None
    """The precision or recall to reach, or the flag rate to come closest to; None for max_f1."""
    found: bool
    """False when no threshold meets the rule (no scored items, or the target is too high)."""
    threshold: float | None
    """The chosen threshold; None when not found."""
    metrics: ThresholdMetrics | None
    """Metrics at the chosen threshold; None when not found."""
    note: str
    """What the rule did, or why nothing was found."""


def best_f1_threshold(results, *, hard_label: bool = False,
                      zero_division: float = 0.0) -> ThresholdChoice:
    """The threshold with the highest F1 among the distinct scores; ties go to the highest
    threshold (fewest items flagged). Empty input finds nothing."""
    return _pick(results, "max_f1", None, hard_label, zero_division)


def threshold_for_precision(results, target: float, *, hard_label: bool = False,
                            zero_division: float = 0.0) -> ThresholdChoice:
    """The lowest distinct score whose precision is >= ``target`` (so recall is highest)."""
    return _pick(results, "min_precision", check_unit("target", target), hard_label,
                 zero_division)


def threshold_for_recall(results, target: float, *, hard_label: bool = False,
                         zero_division: float = 0.0) -> ThresholdChoice:
    """The highest distinct score whose recall is >= ``target``. With no gold "1" items recall
    is ``zero_division`` at every threshold, and the rule compares that."""
    return _pick(results, "min_recall", check_unit("target", target), hard_label,
                 zero_division)


def threshold_for_flag_rate(results, target: float, *, hard_label: bool = False,
                            zero_division: float = 0.0) -> ThresholdChoice:
    """The distinct score whose flag rate (share of scored items predicted "1") is closest to
    ``target``; ties go to the highest threshold (fewest items flagged). Found whenever an item
    was scored: the choice's flag rate is ``metrics.positive_rate``, which may differ from
    ``target`` when tied scores leave no closer threshold."""
    return _pick(results, "flag_rate", check_unit("target", target), hard_label, zero_division)


_SAME = 1e-12
"""Flag rates closer than this are a tie (|0.4 - 0.5| and |0.6 - 0.5| differ in the last bit)."""


def _pick(results, rule, target, hard_label, zero_division) -> ThresholdChoice:
    zero_division = check_zero_division(zero_division)
    run = check_results(results, hard_label=hard_label)
    t, tp, fp, fn, tn = _counts(run)
    metric = {"max_f1": "f1", "min_precision": "precision", "min_recall": "recall",
              "flag_rate": "positive_rate"}[rule]
    value = rates(tp, fp, fn, tn, zero_division=zero_division, names=(metric,))[metric]
    if rule == "max_f1":
        defined = value[~np.isnan(value)]
        ok = value == defined.max() if len(defined) else np.zeros(len(value), bool)
        pick, wanted = -1, "the highest F1"  # thresholds ascend: -1 is the highest
    elif rule == "min_precision":
        ok, pick, wanted = value >= target, 0, f"precision >= {target:g}"
    elif rule == "min_recall":
        ok, pick, wanted = value >= target, -1, f"recall >= {target:g}"
    else:
        gap = np.abs(value - target)
        ok = gap <= gap.min() + _SAME if len(gap) else np.zeros(0, bool)
        pick, wanted = -1, f"the flag rate closest to {target:g}"
    candidates = np.flatnonzero(ok)
    if len(candidates) == 0:
        return ThresholdChoice(rule, target, False, None, None,
                               run.note or f"no threshold reaches {wanted}")
    i = candidates[pick]
    metrics = ThresholdMetrics.from_counts(t[i], tp[i], fp[i], fn[i], tn[i], errors=run.errors,
                                           zero_division=zero_division)
    note = run.note or f"chosen among {len(t)} distinct scores for {wanted}"
    return ThresholdChoice(rule, target, True, metrics.threshold, metrics, note)
