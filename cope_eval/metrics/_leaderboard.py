"""Several runs on one golden set: a leaderboard and curves to overlay.

The leaderboard follows the model card's benchmark tables: an overview with each run's
unweighted mean of per-category precision, recall and F1 (every category weighs the same), and
one table per category, each sorted by F1, highest first. Runs are aligned on their items first
(``comparison.align_runs``): runs on different golden sets raise unless
``on_mismatch="intersect"``, and then ``same`` is False.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ._calibration import CalibrationCurve, calibration
from ._comparison import AlignedRuns, align_runs
from ._curves import PRCurve, ROCCurve, pr_curve, roc_curve
from ._scored import Result, check_results
from ._slices import COUNTS, slice_metrics
from ._threshold import RATIOS

SHOWN = ("precision", "recall", "f1")
"""The metrics of the model card's tables."""


@dataclass(frozen=True, eq=False)
class Leaderboard(Result):
    """Precision, recall and F1 per run, per slice, and their unweighted mean."""

    by: str | None
    """The column sliced on (usually "category"); None when runs are not sliced."""
    slices: tuple[str, ...]
    """Slice names, sorted."""
    long: pd.DataFrame
    """One row per (run, slice): columns run, slice, ``COUNTS``, ``RATIOS``."""
    overview: pd.DataFrame
    """One row per run (index "run"), sorted by F1 descending: the unweighted mean across
    slices of each of ``RATIOS``, plus n and errors over all items."""
    same: bool
    """False when the runs were cut to a common set of items (different golden sets)."""
    n_items: int
    """Items every run was scored on (after any cut)."""

    def table(self, slice_name: str) -> pd.DataFrame:
        """One slice's table, index "run", columns n, errors, precision, recall, F1, by F1."""
        rows = self.long[self.long["slice"] == slice_name]
        if rows.empty:
            raise KeyError(f"no slice {slice_name!r}; slices are {list(self.slices)}")
        shown = rows.set_index("run")[["n", "errors", *SHOWN]]
        return shown.sort_values("f1", ascending=False, kind="stable")

    def wide(self) -> pd.DataFrame:
        """Runs as rows, (slice, metric) columns, with the unweighted mean as slice "mean"."""
        per_slice = self.long.pivot(index="run", columns="slice", values=list(SHOWN))
        per_slice = per_slice.swaplevel(axis=1)
        mean = self.overview[list(SHOWN)]
        mean.columns = pd.MultiIndex.from_product([["mean"], SHOWN])
        columns = [(s, m) for s in self.slices for m in SHOWN]
        return pd.concat([mean, per_slice[columns]], axis=1).loc[self.overview.index]


@dataclass(frozen=True, eq=False)
class RunCurves(Result):
    """One run's curves, for overlaying with other runs'."""

    pr: PRCurve
    """Precision-recall curve."""
    roc: ROCCurve
    """ROC curve."""
    calibration: CalibrationCurve
    """Reliability curve."""


def leaderboard(runs: Mapping, *, by: str | None = "category", threshold=0.5,
                zero_division: float = 0.0, on_mismatch: str = "raise",
                golden_hashes: Mapping[str, str] | None = None) -> Leaderboard:
    """The leaderboard of ``runs`` (run name to results with ``item_id``).

    ``threshold`` is one value for all runs or a mapping of run name to threshold. ``runs`` may
    be ``align_runs``'s result already (a page moving a threshold aligns once).
    """
    aligned = _aligned(runs, on_mismatch, golden_hashes)
    parts, overview = [], []
    for name, frame in aligned.frames.items():
        t = threshold[name] if isinstance(threshold, Mapping) else threshold
        table = slice_metrics(frame, by=by, threshold=t, zero_division=zero_division)
        rows = table.rows.reset_index(names="slice")
        rows.insert(0, "run", name)
        parts.append(rows)
        overview.append({"run": name, **table.mean, "n": table.overall.n,
                         "errors": table.overall.errors, "threshold": table.threshold})
    long = pd.concat(parts, ignore_index=True)[["run", "slice", *COUNTS, *RATIOS]]
    board = pd.DataFrame(overview).set_index("run")
    board = board.sort_values("f1", ascending=False, kind="stable")
    slices = tuple(sorted(long["slice"].unique()))
    n_items = len(next(iter(aligned.frames.values())))
    return Leaderboard(by, slices, long, board, aligned.same, n_items)


def overlay_curves(runs: Mapping, *, hard_label: bool | Mapping[str, bool] = False,
                   zero_division: float = 0.0, n_bins: int = 10, on_mismatch: str = "raise",
                   golden_hashes: Mapping[str, str] | None = None) -> dict[str, RunCurves]:
    """PR, ROC and reliability curves of each run, on the runs' common items.

    ``hard_label`` is one flag for all runs or a mapping of run name to flag. ``runs`` may be
    ``align_runs``'s result already.
    """
    aligned = _aligned(runs, on_mismatch, golden_hashes)
    out = {}
    for name, frame in aligned.frames.items():
        hard = hard_label.get(name, False) if isinstance(hard_label, Mapping) else hard_label
        out[name] = run_curves(check_results(frame, hard_label=hard), zero_division=zero_division, n_bins=n_bins)
    return out


def run_curves(results, *, hard_label: bool = False, zero_division: float = 0.0, n_bins: int = 10) -> RunCurves:
    """PR, ROC and reliability curves of one run, checked once: the three share its sort (and a
    ``ScoredRun`` given shares the sort it has)."""
    run = check_results(results, hard_label=hard_label)
    return RunCurves(pr_curve(run, zero_division=zero_division), roc_curve(run, zero_division=zero_division),
                     calibration(run, n_bins=n_bins))


def _aligned(runs, on_mismatch: str, golden_hashes) -> AlignedRuns:
    if isinstance(runs, AlignedRuns):
        return runs
    return align_runs(runs, on_mismatch=on_mismatch, golden_hashes=golden_hashes)
