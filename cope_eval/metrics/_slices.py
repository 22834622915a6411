"""One run's metrics per category (or per any metadata column), and their unweighted mean.

The unweighted mean gives every slice equal weight, however many items it has: the "average
across topics" of the model card's benchmark tables. Rules, stated once:

- rows whose slice value is missing form their own slice, named ``MISSING`` and listed last;
- a slice whose items all errored has zero counts and ``zero_division`` ratios, and is left
  out of the mean (it has no metric to average);
- when no slice has a scored item, every mean is ``zero_division``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import RowProblem, ValidationError
from ._scored import SOURCE, Result, check_results, check_zero_division
from ._threshold import RATIOS, ThresholdMetrics, check_threshold, metrics_at_threshold, rates

MISSING = "(missing)"
"""Name of the slice holding rows with no value in the slicing column."""
ALL = "(all)"
"""Name of the single slice when a run is not sliced (``by=None``)."""
COUNTS = ("n", "errors", "tp", "fp", "fn", "tn")


@dataclass(frozen=True, eq=False)
class SliceTable(Result):
    """Metrics per slice of one run."""

    by: str | None
    """The column sliced on; None for a single ``ALL`` slice."""
    rows: pd.DataFrame
    """One row per slice (values sorted, ``MISSING`` last), columns ``COUNTS`` then
    ``RATIOS``."""
    mean: dict[str, float]
    """Unweighted mean of each of ``RATIOS`` over the slices with a scored item."""
    overall: ThresholdMetrics
    """The metrics of all rows pooled (weighted by item, unlike ``mean``)."""
    threshold: float
    """Items with score >= threshold are predicted "1"."""


def slice_metrics(results, *, by: str | None = "category", threshold: float = 0.5,
                  zero_division: float = 0.0) -> SliceTable:
    """Counts and ratios per value of column ``by``, vectorised (no loop over slices).

    ``results`` must be a DataFrame or a mapping of columns that includes ``by``.
    """
    threshold = check_threshold(threshold)
    zero_division = check_zero_division(zero_division)
    frame = results if isinstance(results, pd.DataFrame) else pd.DataFrame(dict(results))
    run = check_results(frame)
    codes, names = _slice_codes(frame, by)
    k = len(names)
    ok = run.ok
    predicted = run.score[ok] >= threshold
    cell = run.label[ok] * 2 + predicted  # 0 tn, 1 fp, 2 fn, 3 tp
    cells = np.bincount(codes[ok] * 4 + cell, minlength=4 * k).reshape(k, 4)
    errors = np.bincount(codes[~ok], minlength=k)
    tn, fp, fn, tp = cells.T
    table = pd.DataFrame({"n": cells.sum(axis=1), "errors": errors,
                          "tp": tp, "fp": fp, "fn": fn, "tn": tn},
                         index=pd.Index(names, name=by or "slice"))
    for name, values in rates(tp, fp, fn, tn, zero_division=zero_division).items():
        table[name] = values
    scored = table[table["n"] > 0]
    mean = {m: float(scored[m].mean()) if len(scored) else zero_division for m in RATIOS}
    overall = metrics_at_threshold(run, threshold=threshold, zero_division=zero_division)
    return SliceTable(by, table, mean, overall, threshold)


def _slice_codes(frame: pd.DataFrame, by: str | None) -> tuple[np.ndarray, list[str]]:
    """Slice number of every row, and slice names: sorted values, then ``MISSING`` if any."""
    if by is None:
        return np.zeros(len(frame), dtype=np.int64), [ALL]
    if by not in frame.columns:
        raise ValidationError([RowProblem(
            SOURCE, None, by, None,
            f"no column to slice on; columns present: {', '.join(map(str, frame.columns))} "
            "(or pass by=None for one slice)")])
    codes, values = pd.factorize(frame[by], sort=True)  # missing values get code -1
    names = [str(v) for v in values]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(names), codes)
        names.append(MISSING)
    return codes, names
