"""The model card's benchmark table for one's own deployment: per harm area precision, recall and
F1 with intervals, and their unweighted mean, for one or more servers or models side by side.

Each area is its own run (its policy over its golden set); a side is one server or model scoring
every area. Computed here, with no I/O: the caller loads each run's results.

How the figures are computed, stated once:

- an area's figures are its run's at the run's own threshold (``threshold`` overrides it for
  every run), errored items left out; the interval is ``bootstrap_ci``'s percentile interval;
- the mean is the card's "average across topics": the unweighted mean of the per-area figures
  (``slice_metrics``' rule: every area weighs the same however many items it has, and an area
  with no scored item, all errored, is left out). An area without a golden set has no figures
  and is left out too; ``areas_in_mean`` says over how many areas each side's mean is;
- the mean's interval: each area's items are resampled on their own (exactly the resamples of
  that area's own interval: same seed, same draws), the per-area figures are averaged within each
  resample, and the interval is the percentiles of those means. Areas are independent samples,
  so this is the stratified bootstrap of the mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._leaderboard import SHOWN
from ._scored import Result, check_results
from ._slices import slice_metrics
from ._threshold import check_threshold, rates
from ._uncertainty import _draw, _intervals, bootstrap_ci

AREA_SCORED = "scored"
AREA_NO_GOLDEN = "no sample golden set"
AREA_NO_SCORES = "no scored item"
AREA_STATUSES = (AREA_SCORED, AREA_NO_GOLDEN, AREA_NO_SCORES)
"""What an area's row holds: figures; nothing, since no golden set was given for the area; nothing,
since every item errored (or the set is empty). Only ``AREA_SCORED`` areas enter the mean."""
_AREA = "area"


@dataclass(frozen=True, eq=False)
class AreaScores:
    """One area of one side, as the table reads it."""

    area: str
    """The harm area (e.g. ``violence``)."""
    results: pd.DataFrame | None
    """The run's results (``label``, ``score``, ``error``); None when the area has no golden set."""
    threshold: float | None = None
    """The run's own threshold; None without a run."""
    run_id: str | None = None
    """The run the figures come from, so each one is attributable."""
    policy_version_id: str | None = None
    """The policy version scored."""
    golden_hash: str | None = None
    """The golden set scored."""
    golden_name: str | None = None
    """The golden set's name, as the analyst knows it."""


@dataclass(frozen=True, eq=False)
class CardTable(Result):
    """Per-area figures and their unweighted mean, for each side."""

    sides: tuple[str, ...]
    """Side names (servers or models), in the order given."""
    areas: tuple[str, ...]
    """Area names, in the order given."""
    rows: pd.DataFrame
    """One row per (side, area): side, area, status (one of ``AREA_STATUSES``), run_id,
    policy_version_id, golden_hash, golden_name, threshold, n, errors, then for each of precision,
    recall and F1 the estimate and its ``_low`` and ``_high`` ends (NaN unless ``AREA_SCORED``)."""
    mean: pd.DataFrame
    """One row per side (index "side"): areas_in_mean, then each metric with ``_low``/``_high``
    (NaN when no area was scored)."""
    confidence: float
    """Coverage of every interval, e.g. 0.95."""
    n_resamples: int
    """Bootstrap resamples per area."""

    def side(self, name: str) -> pd.DataFrame:
        """One side's rows, index "area"."""
        return self.rows[self.rows["side"] == name].set_index(_AREA)


def card_table(sides: Mapping[str, Sequence[AreaScores]], *, threshold: float | None = None,
               n_resamples: int = 1000, confidence: float = 0.95, random_state: int = 0,
               zero_division: float = 0.0) -> CardTable:
    """The table for ``sides`` (side name to its areas, every side with the same areas in the same
    order). ``threshold``: one threshold for every run, else each run's own (0 is a threshold)."""
    if not sides:
        raise ValueError("card_table needs at least one side")
    names = list(sides)
    areas = tuple(a.area for a in sides[names[0]])
    if len(set(areas)) != len(areas):
        raise ValueError(f"each area once: {list(areas)}")
    for name in names[1:]:
        if tuple(a.area for a in sides[name]) != areas:
            raise ValueError(f"side {name!r} has areas {[a.area for a in sides[name]]}, not {list(areas)}")
    if threshold is not None:
        threshold = check_threshold(threshold)
    rows, means = [], []
    for name in names:
        side_rows, mean = _side(sides[name], threshold, n_resamples, confidence, random_state, zero_division)
        rows += [{"side": name, **row} for row in side_rows]
        means.append({"side": name, **mean})
    return CardTable(tuple(names), areas, pd.DataFrame(rows), pd.DataFrame(means).set_index("side"),
                     float(confidence), int(n_resamples))


def _side(areas: Sequence[AreaScores], threshold, n_resamples, confidence, random_state, zero_division):
    """(one row per area, the mean row) of one side."""
    rows, decided, draws = [], [], []
    for index, area in enumerate(areas):
        row = {_AREA: area.area, "status": AREA_NO_GOLDEN, "run_id": area.run_id,
               "policy_version_id": area.policy_version_id, "golden_hash": area.golden_hash,
               "golden_name": area.golden_name, "threshold": None, "n": 0, "errors": 0,
               **{f"{m}{end}": np.nan for m in SHOWN for end in ("", "_low", "_high")}}
        rows.append(row)
        if area.results is None:
            continue
        t = area.threshold if threshold is None else threshold
        scored = check_results(area.results)
        seed = _seed(random_state, index)
        ci = bootstrap_ci(scored, threshold=t, metrics=SHOWN, n_resamples=n_resamples, confidence=confidence,
                          random_state=seed, zero_division=zero_division)
        row.update(threshold=t, n=ci.n, errors=ci.errors, status=AREA_SCORED if ci.n else AREA_NO_SCORES)
        if not ci.n:
            continue
        for metric, interval in ci.intervals.items():
            row.update({metric: interval.estimate, f"{metric}_low": interval.low, f"{metric}_high": interval.high})
        # The area's decisions at its threshold, as 0/1 scores: one frame, sliced by area, gives every
        # area's counts and the unweighted mean under slice_metrics' rules, whatever each threshold.
        decided.append(pd.DataFrame({_AREA: area.area, "label": scored.y.astype(int),
                                     "score": (scored.s >= t).astype(float)}))
        predicted = scored.s >= t
        draws.append(_draw(np.bincount(scored.y * 2 + predicted, minlength=4), n_resamples, seed))
    return rows, _mean(decided, draws, confidence, zero_division)


def _mean(decided: list[pd.DataFrame], draws: list[np.ndarray], confidence: float, zero_division: float) -> dict:
    """The unweighted mean over the scored areas, with the stratified bootstrap interval."""
    if not decided:
        return {"areas_in_mean": 0, **{f"{m}{end}": np.nan for m in SHOWN for end in ("", "_low", "_high")}}
    table = slice_metrics(pd.concat(decided, ignore_index=True), by=_AREA, threshold=0.5,
                          zero_division=zero_division)
    counts = np.stack(draws, axis=1)  # (resamples, areas, cells: tn fp fn tp)
    per_area = rates(counts[..., 3], counts[..., 1], counts[..., 2], counts[..., 0],
                     zero_division=zero_division, names=SHOWN)
    resampled = {m: values.mean(axis=1) for m, values in per_area.items()}
    intervals = _intervals({m: table.mean[m] for m in SHOWN}, resampled, SHOWN, confidence)
    row = {"areas_in_mean": len(decided)}
    for metric, interval in intervals.items():
        row.update({metric: interval.estimate, f"{metric}_low": interval.low, f"{metric}_high": interval.high})
    return row


def _seed(random_state: int, index: int) -> int:
    """The seed of the ``index``-th area: areas resample independently, and reproducibly."""
    return int(np.random.SeedSequence([int(random_state), index]).generate_state(1)[0])
