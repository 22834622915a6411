"""Two runs (or several) on the same golden set: alignment, flips, metric deltas.

Runs are matched by ``item_id``. They are comparable only when they were scored on the same
golden set: the same item ids with the same gold labels (and the same golden-set hash, when the
caller passes them). Otherwise nothing is compared silently: ``on_mismatch="raise"`` (the
default) raises ``CopeEvalError`` saying what differs, and ``on_mismatch="intersect"`` compares
the items present in every run with unchanged gold labels, recording the mismatch in the result.
``golden_overlap`` shows the difference without comparing anything.

An item errored in either run is left out of paired metrics, flips and McNemar's test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..errors import CopeEvalError, RowProblem, ValidationError
from ._scored import SOURCE, Result, check_results, check_zero_division
from ._threshold import ThresholdMetrics, check_threshold
from ._uncertainty import DEFAULT_METRICS, Interval, McNemarResult, mcnemar_test, paired_bootstrap_ci

MISMATCH_RULES = ("raise", "intersect")
RUN_COLUMNS = ("item_id", "label", "score", "error", "hard_label", "raw", "latency_ms")
"""Columns that describe the run rather than the item; all others travel into flips."""
OUTCOMES = ("fixed", "broken", "both_wrong", "both_right")


@dataclass(frozen=True, eq=False)
class GoldenOverlap(Result):
    """How the items of two runs line up."""

    same: bool
    """True when both runs cover the same items with the same gold labels (and hashes)."""
    n_a: int
    """Items in run A."""
    n_b: int
    """Items in run B."""
    common: pd.Index
    """Ids in both runs with the same gold label, in A's order: the comparable intersection."""
    only_a: pd.Index
    """Ids only in A."""
    only_b: pd.Index
    """Ids only in B."""
    label_changed: pd.Index
    """Ids in both whose gold label differs (left out of the intersection)."""
    hash_a: str | None = None
    """Golden-set hash of A, when given."""
    hash_b: str | None = None
    """Golden-set hash of B, when given."""

    def describe(self) -> str:
        """One sentence for the person comparing the runs."""
        if self.same:
            return f"both runs cover the same {self.n_a} items"
        parts = []
        if self.hash_a and self.hash_b and self.hash_a != self.hash_b:
            parts.append(f"golden-set hashes differ ({self.hash_a[:19]} vs {self.hash_b[:19]})")
        for count, what in ((len(self.only_a), "only in A"), (len(self.only_b), "only in B"),
                            (len(self.label_changed), "with a changed gold label")):
            if count:
                parts.append(f"{count} items {what}")
        return (f"the runs were scored on different golden sets: {', '.join(parts)}; "
                f"{len(self.common)} items match")


@dataclass(frozen=True, eq=False)
class AlignedRuns:
    """Several runs cut to the items they can be compared on."""

    frames: dict[str, pd.DataFrame]
    """Run name to its rows for the compared items, all in the same item order."""
    same: bool
    """True when every run covered the same golden set (nothing was cut)."""
    overlaps: dict[str, GoldenOverlap]
    """Each run's overlap with the first run."""


@dataclass(frozen=True, eq=False)
class RunComparison(Result):
    """Run B against run A on their shared items (B - A throughout)."""

    overlap: GoldenOverlap
    """How the runs' items lined up; ``overlap.same`` is False after an intersection."""
    n: int
    """Items compared: matched and scored in both runs."""
    errors_a: int
    """Matched items that errored in A."""
    errors_b: int
    """Matched items that errored in B."""
    metrics_a: ThresholdMetrics
    """A's metrics on the compared items (``errors`` counts items errored in either run)."""
    metrics_b: ThresholdMetrics
    """B's metrics on the compared items."""
    deltas: dict[str, Interval]
    """Metric name to B - A with a paired percentile bootstrap interval."""
    mcnemar: McNemarResult
    """McNemar's test on the paired predictions."""
    fixed: int
    """Items A got wrong and B gets right."""
    broken: int
    """Items A got right and B gets wrong."""
    both_wrong: int
    """Items both runs get wrong."""
    both_right: int
    """Items both runs get right."""
    n_resamples: int
    """Bootstrap resamples behind ``deltas``."""
    confidence: float
    """Coverage of the intervals in ``deltas``."""


def golden_overlap(a, b, *, golden_hashes=(None, None)) -> GoldenOverlap:
    """Compare two runs' item ids and gold labels (and golden-set hashes, if given)."""
    return _overlap(_checked(a, "A"), _checked(b, "B"), golden_hashes)


def _overlap(run_a, run_b, golden_hashes) -> GoldenOverlap:
    ids_a, ids_b = run_a.item_id, run_b.item_id
    if ids_a.equals(ids_b):  # the same items in the same order (runs of one set): nothing to look up
        at_b, only_b = np.arange(len(ids_a)), ids_b[:0]
    else:
        at_b, only_b = ids_b.get_indexer(ids_a), ids_b[ids_a.get_indexer(ids_b) < 0]
    in_b = at_b >= 0
    same_label = in_b.copy()
    same_label[in_b] = run_a.label[in_b] == run_b.label[at_b[in_b]]
    hash_a, hash_b = golden_hashes
    same = (in_b.all() and same_label.all() and len(only_b) == 0
            and not (hash_a and hash_b and hash_a != hash_b))
    return GoldenOverlap(bool(same), len(ids_a), len(ids_b), ids_a[same_label], ids_a[~in_b],
                         only_b, ids_a[in_b & ~same_label], hash_a, hash_b)


def align_runs(runs: Mapping, *, on_mismatch: str = "raise",
               golden_hashes: Mapping[str, str] | None = None) -> AlignedRuns:
    """Cut several runs to their comparable items, in the first run's order (see module)."""
    _check_rule(on_mismatch)
    if not runs:
        raise ValueError("runs must name at least one run")
    hashes = dict(golden_hashes or {})
    names = list(runs)
    frames = {name: _frame(runs[name]) for name in names}
    first = names[0]
    checked = {first: _checked(frames[first], repr(first))}
    checked.update({name: _checked(frames[name], repr(name), like=checked[first].item_id) for name in names[1:]})
    overlaps = {name: _overlap(checked[first], checked[name],
                               (hashes.get(first), hashes.get(name)))
                for name in names}
    common = checked[first].item_id
    for name, overlap in overlaps.items():
        if not overlap.same and on_mismatch == "raise":
            raise CopeEvalError(f"Run {name!r} (B) against run {first!r} (A): {overlap.describe()}",
                                options=("intersect",))
        if not overlap.same:  # (same: every item of the first run is in it, so nothing is cut)
            # get_indexer, not isin: isin on Arrow-backed strings is slow in pandas 3.
            common = common[overlap.common.get_indexer(common) >= 0]
    aligned = {}
    for name in names:
        ids = checked[name].item_id
        # Nothing cut from this run: its frame as it is (pandas copies on write, so the caller's is safe).
        kept = frames[name] if ids.equals(common) else frames[name].iloc[ids.get_indexer(common)]
        aligned[name] = kept.reset_index(drop=True)
    return AlignedRuns(aligned, all(o.same for o in overlaps.values()), overlaps)


def flips(a, b, *, threshold=0.5, include_both_right: bool = False,
          on_mismatch: str = "raise", golden_hashes=(None, None)) -> pd.DataFrame:
    """Per-item outcome of B against A, largest score change first.

    Columns: item_id, label, score_a, score_b, score_change (B - A), abs_change, pred_a,
    pred_b, outcome ("fixed", "broken", "both_wrong", "both_right"), then A's other columns
    (category and any metadata). ``threshold`` is one value or a pair (A's, B's). Items errored
    in either run are left out; so are "both_right" items unless asked for.
    """
    paired, t_a, t_b = _paired(a, b, threshold, on_mismatch, golden_hashes)
    return paired_flips(paired, threshold=(t_a, t_b), include_both_right=include_both_right)


def paired_flips(paired: PairedRuns, *, threshold=0.5, include_both_right: bool = False) -> pd.DataFrame:
    """``flips`` of runs paired once by ``pair_runs``: a page that moves the threshold pays only
    for the comparisons, not for matching a million item ids again."""
    t_a, t_b = _thresholds(threshold)
    frame = paired.frame
    score_a, score_b = paired.score_a, paired.score_b
    pred_a, pred_b = score_a >= t_a, score_b >= t_b
    gold = paired.gold
    right_a, right_b = pred_a == gold, pred_b == gold
    # Codes index OUTCOMES: fixed 0, broken 1, both_wrong 2, both_right 3.
    codes = np.where(right_a, np.where(right_b, 3, 1), np.where(right_b, 0, 2))
    change = paired.change
    # The order by score change is the threshold's business no more: sorted once, then filtered
    # (a stable sort then a filter keeps the order a stable sort of the kept items gives).
    keep = paired.by_change if include_both_right else paired.by_change[codes[paired.by_change] != 3]
    out = pd.DataFrame({
        "item_id": frame["item_id"].take(keep).reset_index(drop=True),
        "label": gold[keep].astype(np.int8),
        "score_a": score_a[keep], "score_b": score_b[keep],
        "score_change": change[keep], "abs_change": np.abs(change[keep]),
        "pred_a": pred_a[keep].astype(np.int8), "pred_b": pred_b[keep].astype(np.int8),
        "outcome": pd.Categorical.from_codes(codes[keep], categories=OUTCOMES),
    })
    return pd.concat([out, frame[paired.meta].take(keep).reset_index(drop=True)], axis=1)


def compare_runs(a, b, *, threshold=0.5, metrics=DEFAULT_METRICS, n_resamples: int = 1000,
                 confidence: float = 0.95, random_state=0, zero_division: float = 0.0,
                 exact_below: int = 25, on_mismatch: str = "raise",
                 golden_hashes=(None, None)) -> RunComparison:
    """Metric deltas (B - A) with paired bootstrap intervals, McNemar's test and flip counts.

    ``threshold`` is one value or a pair (A's, B's). Empty overlap gives zero counts,
    ``zero_division`` metrics, 0.0 deltas and a McNemar p-value of 1.0.
    """
    check_zero_division(zero_division)  # before the items are matched, as ever
    paired, t_a, t_b = _paired(a, b, threshold, on_mismatch, golden_hashes)
    return compare_paired(paired, threshold=(t_a, t_b), metrics=metrics, n_resamples=n_resamples,
                          confidence=confidence, random_state=random_state, zero_division=zero_division,
                          exact_below=exact_below)


def compare_paired(paired: PairedRuns, *, threshold=0.5, metrics=DEFAULT_METRICS, n_resamples: int = 1000,
                   confidence: float = 0.95, random_state=0, zero_division: float = 0.0,
                   exact_below: int = 25) -> RunComparison:
    """``compare_runs`` of runs paired once by ``pair_runs`` (same options, same numbers)."""
    zero_division = check_zero_division(zero_division)
    t_a, t_b = _thresholds(threshold)
    y = paired.gold
    pa = paired.score_a >= t_a
    pb = paired.score_b >= t_b
    excluded = paired.errors_either
    m_a = ThresholdMetrics.from_predictions(t_a, y, pa, errors=excluded,
                                            zero_division=zero_division)
    m_b = ThresholdMetrics.from_predictions(t_b, y, pb, errors=excluded,
                                            zero_division=zero_division)
    deltas = paired_bootstrap_ci(y, pa, pb, metrics=metrics, n_resamples=n_resamples,
                                 confidence=confidence, random_state=random_state,
                                 zero_division=zero_division)
    right_a, right_b = pa == y, pb == y
    counts = [int(np.count_nonzero(m)) for m in (~right_a & right_b, right_a & ~right_b,
                                                   ~right_a & ~right_b, right_a & right_b)]
    return RunComparison(paired.overlap, len(y), paired.errors_a, paired.errors_b, m_a, m_b,
                         deltas, mcnemar_test(y, pa, pb, exact_below=exact_below), *counts,
                         int(n_resamples), float(confidence))


def pair_runs(a, b, *, on_mismatch: str = "raise", golden_hashes=(None, None)) -> PairedRuns:
    """Match run B's items to run A's once (see module), for ``compare_paired`` and
    ``paired_flips`` at any number of thresholds."""
    return _paired(a, b, 0.5, on_mismatch, golden_hashes)[0]


@dataclass(frozen=True, eq=False)
class PairedRuns:
    """Two runs matched on the items both scored (``pair_runs``); read, never changed."""

    overlap: GoldenOverlap
    """How the runs' items lined up."""
    frame: pd.DataFrame
    """item_id, label, score_a, score_b, then A's metadata columns: items scored in both."""
    meta: list[str]
    """A's metadata columns in ``frame`` (category and the rest), carried into flips."""
    errors_a: int
    """Matched items that errored in A."""
    errors_b: int
    """Matched items that errored in B."""
    errors_either: int
    """Matched items that errored in A or B, left out."""

    @cached_property
    def gold(self) -> np.ndarray:
        """Gold labels of ``frame``'s rows, as bool."""
        return _read_only(self.frame["label"].to_numpy(dtype=bool))

    @cached_property
    def score_a(self) -> np.ndarray:
        return _read_only(self.frame["score_a"].to_numpy())

    @cached_property
    def score_b(self) -> np.ndarray:
        return _read_only(self.frame["score_b"].to_numpy())

    @cached_property
    def change(self) -> np.ndarray:
        """score_b - score_a of each row."""
        return _read_only(self.score_b - self.score_a)

    @cached_property
    def by_change(self) -> np.ndarray:
        """Row numbers, largest absolute score change first (ties in row order)."""
        return _read_only(np.argsort(-np.abs(self.change), kind="stable"))


def _read_only(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False  # shared by every threshold (and every session of a page)
    return values


def _thresholds(threshold) -> tuple[float, float]:
    t_a, t_b = (threshold, threshold) if np.ndim(threshold) == 0 else threshold
    return check_threshold(t_a), check_threshold(t_b)


def _paired(a, b, threshold, on_mismatch, golden_hashes):
    _check_rule(on_mismatch)
    t_a, t_b = _thresholds(threshold)
    frame_a, frame_b = _frame(a), _frame(b)
    run_a = _checked(frame_a, "A")
    run_b = _checked(frame_b, "B", like=run_a.item_id)
    overlap = _overlap(run_a, run_b, golden_hashes)
    if not overlap.same and on_mismatch == "raise":
        described = overlap.describe()  # not str.capitalize(): it would lower-case "only in A" and the hashes
        raise CopeEvalError(described[0].upper() + described[1:], options=("intersect",))
    at_a, at_b = (np.arange(len(run.item_id)) if run.item_id.equals(overlap.common)
                  else run.item_id.get_indexer(overlap.common) for run in (run_a, run_b))
    ok_a, ok_b = run_a.ok[at_a], run_b.ok[at_b]
    both = ok_a & ok_b
    meta = [c for c in frame_a.columns if c not in RUN_COLUMNS]
    frame = pd.DataFrame({
        "item_id": overlap.common[both], "label": run_a.label[at_a][both].astype(np.int8),
        "score_a": run_a.score[at_a][both], "score_b": run_b.score[at_b][both],
    })
    extra = frame_a[meta].iloc[at_a[both]].reset_index(drop=True)
    frame = pd.concat([frame, extra], axis=1)
    errors = (int(np.count_nonzero(~ok_a)), int(np.count_nonzero(~ok_b)),
              int(np.count_nonzero(~both)))
    return PairedRuns(overlap, frame, meta, *errors), t_a, t_b


def _frame(results) -> pd.DataFrame:
    if isinstance(results, pd.DataFrame):
        return results
    if isinstance(results, Mapping):
        return pd.DataFrame(dict(results))
    raise TypeError(f"a run to compare must be a DataFrame or a mapping of columns, "
                    f"got {type(results).__name__}")


def _checked(results, name: str, *, like: pd.Index | None = None):
    """``check_results`` with item ids that are there and unique; ids equal to ``like`` (another
    run's, checked) are unique without a check (a million ids take 0.1 s to check)."""
    run = check_results(_frame(results))
    if run.item_id is None:
        raise ValidationError([RowProblem(SOURCE, None, "item_id", None,
                                          f"run {name} has no item_id column to match on")])
    if not (like is not None and run.item_id.equals(like)) and not run.item_id.is_unique:
        ids = pd.Series(run.item_id)
        rows = np.flatnonzero(ids.duplicated(keep=False).to_numpy())
        raise ValidationError([RowProblem(SOURCE, int(r) + 1, "item_id", str(ids.iat[r]),
                                          f"run {name} lists this item more than once")
                               for r in rows[:10]])
    return run


def _check_rule(on_mismatch: str) -> None:
    if on_mismatch not in MISMATCH_RULES:
        raise ValueError(f"on_mismatch must be one of {MISMATCH_RULES}, got {on_mismatch!r}")
