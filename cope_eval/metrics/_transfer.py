"""Carrying an operating point from one run to another: run B's threshold that keeps what run A's
threshold did.

Two models (or templates, or quantisations) put their scores on different scales (CoPE-B puts
more mass on its answer token than CoPE-A), so a threshold tuned on run A means something else on
run B. What carries over is what the threshold did on A, kept on B by one of three rules; B's
thresholds are its distinct scores, as for ``threshold_for_precision``:

- ``precision``: the lowest B threshold whose precision is >= A's (the most recall at it);
- ``recall``: the highest B threshold whose recall is >= A's (the fewest flags at it);
- ``flag-rate`` (the share of scored items flagged, for routing volume): the B threshold whose
  flag rate is closest to A's, ties to the higher threshold.

Both runs are measured on the same items: those in both runs with the same gold label and scored
by both (``_comparison``'s pairing; errors in either run are left out and counted). A's value is
its value on those items, not on its whole run.

A precision or recall B reaches at no threshold is ``reachable=False``: B's threshold is then the
one closest to it (B's highest precision, or recall), and the rationale says so. A flag rate is
always reachable (the rule is "closest"); the rationale says when B's tied scores allow no exact
match. A hard-label B (scores 0 and 1 only) has two thresholds: 1 (its own labels) and 0 (flag
everything); the note says so.

Intervals are percentile bootstraps at the chosen thresholds: each run's own (``bootstrap_ci``)
and the change B - A paired over the same items (``paired_bootstrap_ci``). They hold the
thresholds fixed: the uncertainty of choosing B's threshold on these same items is not in them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ._comparison import _paired
from ._scored import Result, check_results
from ._threshold import (
    ThresholdMetrics, check_threshold, threshold_for_flag_rate, threshold_for_precision,
    threshold_for_recall, threshold_sweep
)
from ._uncertainty import Interval, bootstrap_ci, paired_bootstrap_ci

KEEPS = ("precision", "recall", "flag-rate")
"""What a transfer can keep, in the words of ``cope-eval transfer --keep``."""
CHANGES = ("precision", "recall", "f1", "flag_rate", "fpr")
"""The metrics a transfer reports for both runs, in display order."""

_FIELD = {"precision": "precision", "recall": "recall", "flag-rate": "positive_rate"}
_PICKER = {"precision": threshold_for_precision, "recall": threshold_for_recall,
           "flag-rate": threshold_for_flag_rate}
_BOOTSTRAPPED = ("precision", "recall", "f1", "positive_rate", "specificity")


@dataclass(frozen=True)
class MetricChange(Result):
    """One metric on both runs at their thresholds, and the change."""

    a: Interval
    """Run A at its threshold, with a bootstrap interval."""
    b: Interval
    """Run B at its threshold, with a bootstrap interval."""
    change: Interval
    """B - A, with a paired bootstrap interval (both runs resampled over the same items)."""


@dataclass(frozen=True)
class ThresholdTransfer(Result):
    """Run B's threshold that keeps run A's precision, recall or flag rate, and what else changes."""

    run_a: str
    """Name of the run the operating point comes from (a run id, or "run A")."""
    run_b: str
    """Name of the run it is carried to."""
    keep: str
    """What is kept: one of ``KEEPS``."""
    threshold_a: float
    """A's threshold: the operating point carried over."""
    threshold_b: float
    """B's threshold: one of B's distinct scores, chosen by the rule of ``keep``."""
    target: float
    """A's value of the kept metric at ``threshold_a`` (on the compared items)."""
    achieved: float
    """B's value of the kept metric at ``threshold_b``."""
    reachable: bool
    """False when B reaches A's precision (or recall) at no threshold: ``threshold_b`` is then
    where B comes closest. Always True for a flag rate."""
    metrics_a: ThresholdMetrics
    """A's counts and ratios at ``threshold_a`` on the compared items (``errors``: items left
    out because either run errored on them)."""
    metrics_b: ThresholdMetrics
    """B's counts and ratios at ``threshold_b`` on the same items."""
    changes: dict[str, MetricChange]
    """Each of ``CHANGES`` on A, on B and B - A, with intervals: precision, recall, F1, flag rate
    (share of items flagged) and false positive rate (FPR: gold-0 items flagged; 0 with none)."""
    n: int
    """Items compared: in both runs with the same gold label, scored by both."""
    errors_a: int
    """Matched items A errored on (left out)."""
    errors_b: int
    """Matched items B errored on (left out)."""
    same_items: bool
    """True when every item of both runs was compared (the same golden set, no errors); False when
    only the items both runs scored were."""
    items: str
    """How the runs' items lined up and which were compared, in one sentence."""
    hard_label_b: bool
    """True when B gave labels, not probabilities: its thresholds are 0 and 1 only."""
    note: str
    """What B's threshold rule did (how many distinct scores it chose among; hard-label)."""
    rationale: str
    """One line for people and for an export card: what was kept, where, and what it costs."""
    n_resamples: int
    """Bootstrap resamples behind every interval."""
    confidence: float
    """Coverage of every interval."""

    def to_frame(self) -> pd.DataFrame:
        """One row per metric of ``CHANGES``: A, B and B - A, each with its interval's ends."""
        rows = {name: {f"{side}{part}": getattr(getattr(change, side), field)
                       for side in ("a", "b", "change")
                       for part, field in (("", "estimate"), ("_low", "low"), ("_high", "high"))}
                for name, change in self.changes.items()}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric")


def transfer_threshold(results_a, results_b, *, threshold_a: float, keep: str,
                       n_resamples: int = 1000, confidence: float = 0.95, random_state=0,
                       hard_label_b: bool = False, names: tuple[str, str] = ("run A", "run B"),
                       golden_hashes=(None, None)) -> ThresholdTransfer:
    """Run B's threshold that keeps run A's operating point at ``threshold_a`` (see the module).

    ``results_a`` and ``results_b`` are two runs' results (``check_results``'s contract, with
    ``item_id``). ``keep`` is one of ``KEEPS``. ``hard_label_b`` says B gave labels (its scores
    are checked to be 0 or 1); scores that are all 0 or 1 are read as labels anyway. ``names``
    name the runs in the rationale; ``golden_hashes`` (A's, B's) let the item sentence say the
    golden sets differ. Raises ``ConfigError`` when A's value is undefined (precision when A flags
    nothing, recall with no gold-1 item) or no item was scored by both runs.
    """
    if keep not in KEEPS:
        raise ConfigError(f"Cannot keep {keep!r}: keep one of {', '.join(KEEPS)}.")
    threshold_a = check_threshold(threshold_a, source="Run A's threshold")
    if hard_label_b:
        check_results(results_b, hard_label=True)  # names B's rows that are not labels
    name_a, name_b = names
    paired, _, _ = _paired(results_a, results_b, threshold_a, "intersect", golden_hashes)
    y = paired.frame["label"].to_numpy(dtype=bool)
    score_a, score_b = paired.frame["score_a"].to_numpy(), paired.frame["score_b"].to_numpy()
    items = _items_sentence(paired, len(y))
    if not len(y):
        raise ConfigError(f"{name_a} and {name_b} have no item in common that both scored ({items}): "
                          "there is no operating point to carry over.")
    hard_b = bool(hard_label_b) or bool(np.isin(score_b, (0.0, 1.0)).all())
    run_b = check_results({"label": y, "score": score_b})
    left_out = paired.errors_either
    metrics_a = ThresholdMetrics.from_predictions(threshold_a, y, score_a >= threshold_a, errors=left_out)
    target = _target(metrics_a, keep, name_a, threshold_a)

    choice = _PICKER[keep](run_b, target)
    reachable = choice.found
    if not reachable:  # the closest B gets: its highest precision (or recall), by the same rule
        closest = float(getattr(threshold_sweep(run_b), keep).max())
        choice = _PICKER[keep](run_b, closest)
    threshold_b = choice.threshold
    metrics_b = ThresholdMetrics.from_predictions(threshold_b, y, score_b >= threshold_b, errors=left_out)
    achieved = float(getattr(metrics_b, _FIELD[keep]))
    note = choice.note
    if hard_b:
        note = (f"{name_b} gave labels, not probabilities: its only thresholds are 1 (its own labels) "
                f"and 0 (flag everything); {note}")
    changes = _changes(y, score_a, score_b, threshold_a, threshold_b, metrics_a, metrics_b,
                       n_resamples=n_resamples, confidence=confidence, random_state=random_state)
    transfer = ThresholdTransfer(
        name_a, name_b, keep, threshold_a, float(threshold_b), target, achieved, reachable, metrics_a, metrics_b,
        changes, len(y), paired.errors_a, paired.errors_b, paired.overlap.same and not left_out, items, hard_b,
        note, "", int(n_resamples), float(confidence))
    return _with_rationale(transfer)


def _target(metrics_a: ThresholdMetrics, keep: str, name_a: str, threshold_a: float) -> float:
    """A's value of the kept metric; ``ConfigError`` when it is undefined."""
    if keep == "precision" and metrics_a.tp + metrics_a.fp == 0:
        raise ConfigError(f"At threshold {threshold_a:g} {name_a} flags none of the {metrics_a.n} items both runs "
                          "scored, so its precision is undefined: there is none to keep. Keep its recall or flag "
                          "rate, or choose a lower threshold for it.")
    if keep == "recall" and metrics_a.tp + metrics_a.fn == 0:
        raise ConfigError(f"None of the {metrics_a.n} items both runs scored is gold 1, so recall is undefined: "
                          "there is none to keep. Keep the precision or flag rate.")
    return float(getattr(metrics_a, _FIELD[keep]))


def _items_sentence(paired, n: int) -> str:
    described = paired.overlap.describe()
    if paired.errors_either:
        described += (f"; left out {paired.errors_either} items that errored ({paired.errors_a} in A, "
                      f"{paired.errors_b} in B)")
    return f"{described}: {n} items compared"


def _changes(y, score_a, score_b, threshold_a, threshold_b, metrics_a, metrics_b, **bootstrap) -> dict:
    """``CHANGES`` on A, on B and B - A, with intervals (FPR from specificity: 1 - it)."""
    a = bootstrap_ci({"label": y, "score": score_a}, threshold=threshold_a, metrics=_BOOTSTRAPPED,
                     **bootstrap).intervals
    b = bootstrap_ci({"label": y, "score": score_b}, threshold=threshold_b, metrics=_BOOTSTRAPPED,
                     **bootstrap).intervals
    delta = paired_bootstrap_ci(y, score_a >= threshold_a, score_b >= threshold_b, metrics=_BOOTSTRAPPED,
                                **bootstrap)
    has_negatives = not y.all()
    out = {}
    for name in CHANGES:
        if name == "fpr":  # 1 - specificity: the interval's ends swap
            spec = delta["specificity"]
            fpr_a, fpr_b = _fpr(metrics_a), _fpr(metrics_b)
            out[name] = MetricChange(_complement(a["specificity"], fpr_a, has_negatives),
                                     _complement(b["specificity"], fpr_b, has_negatives),
                                     Interval(fpr_b - fpr_a, 0.0 - spec.high, 0.0 - spec.low))
        else:
            field = "positive_rate" if name == "flag_rate" else name
            out[name] = MetricChange(a[field], b[field], delta[field])
    return out


def _fpr(metrics: ThresholdMetrics) -> float:
    """fp / (fp + tn); 0.0 with no gold-0 item, as scikit-learn's zero_division."""
    negatives = metrics.fp + metrics.tn
    return metrics.fp / negatives if negatives else 0.0


def _complement(specificity: Interval, fpr: float, has_negatives: bool) -> Interval:
    if not has_negatives:
        return Interval(0.0, 0.0, 0.0)
    return Interval(fpr, 1.0 - specificity.high, 1.0 - specificity.low)


def _with_rationale(t: ThresholdTransfer) -> ThresholdTransfer:
    said = {"precision": "precision", "recall": "recall", "flag-rate": "flag rate"}
    others = {"precision": ("recall",), "recall": ("precision",), "flag-rate": ("precision", "recall")}[t.keep]
    costs = ", ".join(f"{name} {getattr(t.metrics_b, name):.3f} (was {getattr(t.metrics_a, name):.3f})"
                      for name in others)
    kept = said[t.keep]
    a_point = f"{t.target:.3f} at threshold {t.threshold_a:g}"
    if not t.reachable:
        line = (f"{t.run_b} cannot keep the {kept} of {t.run_a} ({a_point}): its highest is {t.achieved:.3f}, "
                f"at threshold {t.threshold_b:.6g}, with {costs}.")
    elif t.keep == "flag-rate" and t.metrics_a.tp + t.metrics_a.fp != t.metrics_b.tp + t.metrics_b.fp:
        line = (f"Keeps the flag rate of {t.run_a} ({a_point}) on {t.run_b} as closely as its tied scores allow: "
                f"threshold {t.threshold_b:.6g} gives flag rate {t.achieved:.3f}, {costs}.")
    else:
        line = (f"Keeps the {kept} of {t.run_a} ({a_point}) on {t.run_b}: threshold {t.threshold_b:.6g} gives "
                f"{kept} {t.achieved:.3f}, {costs}.")
    if not t.same_items:
        line = line.removesuffix(".") + f"; on the {t.n} items both runs scored."
    if t.hard_label_b:
        line = line.removesuffix(".") + f" ({t.run_b} gave labels: thresholds 0 and 1 only)."
    return replace(t, rationale=line)
