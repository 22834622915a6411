"""What the Compare page shows for a set of runs at one threshold, computed in one call.

Runs are first cut to the items they share (``comparison.align_runs`` with
``on_mismatch="intersect"``), so every table and delta is over the same items; ``note`` says
when that cut anything. The first run is A, the second B: deltas and flips are B - A.
Everything here is vectorised over items. What does not depend on the threshold (matching the
runs' item ids, their scores sorted, the pair's order by score change) is done once by
``compare_basis``; a page keeps it and passes it to ``at_threshold`` and ``compare_curves``, so
a threshold move on two million-item runs costs array comparisons, not a new match of their ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._util.points import evenly_spaced
from ..golden import with_thumbnails
from ..metrics import (
    SHOWN, AlignedRuns, PairedRuns, RunComparison, RunCurves, ScoredRun, ThresholdChoice, ThresholdMetrics,
    ThresholdSweep, ThresholdTransfer, align_runs, best_f1_threshold, bootstrap_ci, check_results, compare_paired,
    leaderboard, metrics_at_threshold, pair_runs, paired_flips, run_curves, threshold_for_precision,
    threshold_for_recall, threshold_sweep
)
from ._views import page_of

RULES = ("max_f1", "min_precision", "min_recall")
SWEEP_POINTS = 2_000
"""Thresholds a run's sweep on the Compare page is computed at, at most: its chart draws no more."""
CHANGED = "changed"
"""The flips whose decision changed between A and B: fixed or broken."""
FLIP_FILTERS = (CHANGED, "fixed", "broken", "both_wrong")
"""What the flips table can be cut to, the default first (``flips_page``'s ``outcome``)."""


@dataclass(frozen=True, eq=False)
class ThresholdView:
    """Every threshold-dependent table of the Compare page."""

    threshold: float
    """Items with score >= threshold are predicted "1", in every run."""
    metrics: pd.DataFrame
    """One row per run (index "run"): n, errors, counts, ratios and 95% bootstrap intervals."""
    focus: ThresholdMetrics
    """Metrics of the focus run (for its confusion matrix)."""
    categories: pd.DataFrame
    """Per-category precision, recall, F1 and n of each run; first row: the unweighted mean."""
    comparison: RunComparison | None
    """B - A with paired intervals; None with fewer than two runs."""
    flips: pd.DataFrame | None
    """Items whose outcome differs between A and B, or both wrong; None with one run."""
    note: str
    """Why the runs were cut to common items, or ""."""


@dataclass(frozen=True, eq=False)
class CompareBasis:
    """What the Compare page's figures share at every threshold, computed once per set of runs.
    Read, never changed: a page may keep one for every session that shows these runs."""

    results: dict[str, pd.DataFrame]
    """Run name to its results as given (the first is A)."""
    aligned: AlignedRuns
    """The runs cut to the items they share, in A's order."""
    runs: dict[str, ScoredRun]
    """Each aligned run checked once (labels, scores, errors; its sort shared by its curves)."""
    paired: PairedRuns | None
    """A and B matched on the items both scored; None with one run."""
    note: str
    """Why the runs were cut to common items, or ""."""


def compare_basis(results: Mapping[str, pd.DataFrame]) -> CompareBasis:
    """Align ``results`` (run name to results, A first) once, for ``at_threshold`` and
    ``compare_curves`` at any threshold."""
    aligned = align_runs(results, on_mismatch="intersect")
    frames = aligned.frames
    names = list(frames)
    paired = pair_runs(frames[names[0]], frames[names[1]], on_mismatch="intersect") if len(names) >= 2 else None
    overlap = next((o for o in aligned.overlaps.values() if not o.same), None)
    note = "" if overlap is None else f"Compared on shared items only: {overlap.describe()}."
    return CompareBasis(dict(results), aligned, {name: check_results(frame) for name, frame in frames.items()},
                        paired, note)


def at_threshold(results: Mapping[str, pd.DataFrame] | CompareBasis, *, threshold: float, focus: str,
                 n_resamples: int = 1000) -> ThresholdView:
    """Metrics with intervals, per-category table, B - A deltas and flips at ``threshold``;
    ``results`` is run name to results, or their ``compare_basis`` (the same figures, sooner)."""
    basis = results if isinstance(results, CompareBasis) else compare_basis(results)
    rows = []
    for name, run in basis.runs.items():
        m = metrics_at_threshold(run, threshold=threshold)
        ci = bootstrap_ci(run, threshold=threshold, metrics=SHOWN, n_resamples=n_resamples)
        row = {"run": name, "n": m.n, "errors": m.errors, "tp": m.tp, "fp": m.fp, "fn": m.fn, "tn": m.tn}
        for metric in SHOWN:
            interval = ci.intervals[metric]
            row[metric] = getattr(m, metric)
            row[f"{metric} 95% CI"] = f"[{interval.low:.3f}, {interval.high:.3f}]"
        row["accuracy"] = m.accuracy
        rows.append(row)
    comparison = flipped = None
    if basis.paired is not None:
        comparison = compare_paired(basis.paired, threshold=threshold, n_resamples=n_resamples)
        flipped = paired_flips(basis.paired, threshold=threshold)
    return ThresholdView(float(threshold), pd.DataFrame(rows).set_index("run"),
                         metrics_at_threshold(basis.runs[focus], threshold=threshold),
                         _categories(basis.aligned, threshold), comparison, flipped, basis.note)


def compare_curves(basis: CompareBasis, *, hard_label: Mapping[str, bool]
                   ) -> tuple[dict[str, RunCurves], dict[str, ThresholdSweep]]:
    """PR, ROC and reliability curves of the runs on their shared items, and each run's threshold
    sweep on all its items at up to ``SWEEP_POINTS`` of its scores (``hard_label``: run name to
    whether it gave labels, not scores)."""
    runs = {n: check_results(run, hard_label=hard_label.get(n, False)) for n, run in basis.runs.items()}
    # A run that lost no items to the matching has its sweep from its checked run (sorted once for both).
    sweeps = {n: _sweep(runs[n] if len(basis.aligned.frames[n]) == len(frame) else frame, hard_label.get(n, False))
              for n, frame in basis.results.items()}
    return {n: run_curves(run) for n, run in runs.items()}, sweeps


def _sweep(results, hard: bool) -> ThresholdSweep:
    """The run's sweep at its distinct scores, evenly thinned to ``SWEEP_POINTS`` (the highest and
    lowest kept): what the sweep chart draws, without ratios at a million thresholds."""
    run = check_results(results, hard_label=hard)
    distinct = run.counts.threshold[::-1]
    if hard or len(distinct) <= SWEEP_POINTS:
        return threshold_sweep(run, hard_label=hard)
    return threshold_sweep(run, thresholds=distinct[evenly_spaced(len(distinct), SWEEP_POINTS)])


def _categories(aligned: AlignedRuns, threshold: float) -> pd.DataFrame:
    frames = aligned.frames
    board = leaderboard(aligned, by="category", threshold=threshold)
    table = board.long.pivot(index="slice", columns="run", values=[*SHOWN, "n"])
    ordered = [(metric, run) for run in frames for metric in (*SHOWN, "n")]
    mean = pd.DataFrame({key: [board.overview.loc[key[1], key[0]]] for key in ordered},
                        index=["(unweighted mean)"])
    table = pd.concat([mean, table[ordered]])
    table.columns = [f"{run} · {metric}" for metric, run in ordered]
    for run in frames:
        table[f"{run} · n"] = table[f"{run} · n"].astype("Int64")
    table.index.name = "category"
    return table


def deltas_table(comparison: RunComparison) -> pd.DataFrame:
    """Metric, A, B, B - A and its paired 95% interval, one row per metric."""
    rows = [{"metric": name, "A": getattr(comparison.metrics_a, name), "B": getattr(comparison.metrics_b, name),
             "B - A": d.estimate, "low": d.low, "high": d.high} for name, d in comparison.deltas.items()]
    return pd.DataFrame(rows).set_index("metric")


def deltas_note(view: ThresholdView) -> str:
    """Why the deltas' A or B figures differ from the metrics table, or "" when they cannot: the
    deltas pair the items both runs scored, the metrics table counts every item each run scored."""
    if view.comparison is None:
        return ""
    paired = view.comparison.n
    scored = dict(zip(("A", "B"), view.metrics["n"].iloc[:2].astype(int)))
    differ = [run for run, n in scored.items() if n != paired]
    if not differ:
        return ""
    return (f"A scored {scored['A']:,} items and B {scored['B']:,} (an item with an error has no score): the "
            f"deltas are on the {paired:,} items both scored, so their {' and '.join(differ)} figures differ "
            "from the table above.")


def flip_labels(comparison: RunComparison) -> dict[str, str]:
    """Each of FLIP_FILTERS in words, with its count, for a menu."""
    c = comparison
    return {CHANGED: f"decision changed ({c.fixed + c.broken:,})", "fixed": f"fixed ({c.fixed:,})",
            "broken": f"broken ({c.broken:,})", "both_wrong": f"both wrong ({c.both_wrong:,})"}


def pick_threshold(results: pd.DataFrame, rule: str, *, target: float | None = None,
                   hard_label: bool = False) -> ThresholdChoice:
    """The threshold chosen by ``rule`` (one of ``RULES``) on one run's results."""
    if rule == "max_f1":
        return best_f1_threshold(results, hard_label=hard_label)
    if rule == "min_precision":
        return threshold_for_precision(results, target, hard_label=hard_label)
    if rule == "min_recall":
        return threshold_for_recall(results, target, hard_label=hard_label)
    raise ValueError(f"rule must be one of {RULES}, got {rule!r}")


def flips_page(flipped: pd.DataFrame, items: pd.DataFrame | Callable[[list[str]], pd.DataFrame], workspace: Path, *,
               outcome: str | None = None, page: int = 1, page_size: int = 25) -> tuple[pd.DataFrame, int]:
    """One page of flips (largest score change first) with each item's text and a thumbnail;
    ``outcome`` is one of FLIP_FILTERS (``CHANGED``: fixed or broken), None for every flip.
    ``items`` (id, text, image, video) is the golden set's items, or a function giving the rows
    of the page's item ids, so that a million items' text is never read to show 25."""
    wanted = ("fixed", "broken") if outcome == CHANGED else (outcome,)
    shown = flipped if outcome is None else flipped[flipped["outcome"].isin(wanted).to_numpy()]
    rows, pages = page_of(shown, page, page_size)
    if callable(items):
        items = items(rows["item_id"].tolist())
    content = items.set_index("id")[["text", "image", "video"]].reindex(rows["item_id"])
    rows = rows.assign(**{column: content[column].to_numpy() for column in ("text", "image", "video")})
    table = with_thumbnails(rows, workspace)
    columns = ["outcome", "item_id", "thumbnail", "text", "label", "score_a", "score_b", "score_change"]
    extra = [c for c in ("category",) if c in table.columns]
    return table[columns + extra].reset_index(drop=True), pages


def transfer_table(transfer: ThresholdTransfer) -> pd.DataFrame:
    """What else changes where B keeps A's operating point: each metric on A and on B at their
    thresholds and B - A, each with its 95% interval as text (index "metric")."""
    frame = transfer.to_frame()
    table = pd.DataFrame(index=frame.index)
    for side, words in (("a", "A"), ("b", "B"), ("change", "B - A")):
        table[words] = frame[side]
        sign = "+" if side == "change" else ""
        table[f"{words} 95% CI"] = [f"[{lo:{sign}.3f}, {hi:{sign}.3f}]"
                                    for lo, hi in zip(frame[f"{side}_low"], frame[f"{side}_high"])]
    return table
