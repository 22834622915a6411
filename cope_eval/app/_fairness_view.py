"""What the Compare page's Fairness tab shows: each run's error rates per group of a metadata
column, the disparities between the groups, and for two runs whether B narrowed or widened each
gap. The numbers are ``metrics.group_rates`` and ``metrics.compare_fairness``, the ones
``cope-eval fairness`` prints; this module only lays them out as tables.

Group names are golden-set content: they go into cells of tables, never into Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ..metrics import RUN_COLUMNS, GroupRates, compare_fairness, group_rates, membership

DISPARITY_NAMES = {"fpr_gap": "FPR gap", "fnr_gap": "FNR gap", "flag_rate_ratio": "flag-rate ratio"}
"""Each disparity in the page's words (``metrics.DISPARITIES``' order)."""
RATE_NAMES = {"precision": "precision", "recall": "recall", "fpr": "FPR", "fnr": "FNR", "flag_rate": "flag rate"}
"""Each per-group rate in the page's words (``metrics.RATES``' order)."""


@dataclass(frozen=True, eq=False)
class FairnessView:
    """The Fairness tab's tables for one or two runs at one threshold."""

    rates: dict[str, GroupRates]
    """Run name to its per-group rates and disparities, as the metrics give them."""
    disparities: pd.DataFrame
    """One row per run and disparity: estimate, interval, the groups behind it, and whether the
    interval includes no disparity (noise)."""
    comparison: pd.DataFrame | None
    """For two runs: each disparity on A and B, B - A with a paired interval, and "narrowed",
    "widened" or "unchanged" with whether that is beyond noise; None for one run."""


def group_columns(results: pd.DataFrame) -> list[str]:
    """The metadata columns a run's items can be grouped by: every column of its results that is
    not the run's own (score, label, ...) and holds at least one value."""
    return [str(c) for c in results.columns if c not in RUN_COLUMNS and results[c].notna().any()]


def fairness_view(frames: Mapping[str, pd.DataFrame], *, by: Sequence[str], cut: float | None, threshold: float,
                  min_items: int, n_resamples: int = 1000) -> FairnessView:
    """Group every run's items by the metadata columns ``by`` (each value a group, or with ``cut``
    each column a group of the items at or above it; ``metrics.membership``), and rate the groups
    at ``threshold``. The first two runs are A and B. Raises ``ConfigError`` as ``membership`` and
    ``group_rates`` do (a missing column, several columns without a cut, a cut on text)."""
    rates = {name: group_rates(frame, groups=membership(frame, list(by), cut=cut), threshold=threshold,
                               min_items=min_items, n_resamples=n_resamples)
             for name, frame in frames.items()}
    rows = [{"run": name, "disparity": DISPARITY_NAMES[key], "estimate": d.estimate, "low": d.low, "high": d.high,
             "groups": _groups(key, d), "compared": d.groups,
             "reading": d.note if d.estimate != d.estimate else
             "noise: the interval includes no disparity" if d.noise else "beyond noise"}
            for name, r in rates.items() for key, d in r.disparities.items()]
    names = list(rates)
    comparison = None
    if len(names) >= 2:
        table = compare_fairness(rates[names[0]], rates[names[1]], n_resamples=n_resamples)
        comparison = pd.DataFrame({
            "disparity": [DISPARITY_NAMES[k] for k in table.index],
            "A": table["a"].to_numpy(), "B": table["b"].to_numpy(), "B - A": table["change"].to_numpy(),
            "95% CI of B - A": [_interval(lo, hi) for lo, hi in zip(table["change_low"], table["change_high"])],
            "verdict": [_verdict(row) for _, row in table.iterrows()],
            "items both scored": table["shared_items"].to_numpy()})
    return FairnessView(rates, pd.DataFrame(rows), comparison)


def group_table(rates: GroupRates) -> pd.DataFrame:
    """One row per group, the groups with enough items first: counts, each rate with its Wilson
    interval as text ("n/a" when undefined), and whether the group has too few items to rank."""
    rows = rates.rows
    table = pd.DataFrame({"group": rows.index.astype(str), "n": rows["n"].to_numpy(),
                          "errors": rows["errors"].to_numpy(), "gold 1": rows["positives"].to_numpy(),
                          "gold 0": rows["negatives"].to_numpy(), "flagged": rows["flagged"].to_numpy()})
    for rate, words in RATE_NAMES.items():
        table[words] = [_rate(v, lo, hi) for v, lo, hi in
                        zip(rows[rate], rows[f"{rate}_low"], rows[f"{rate}_high"])]
    table["ranked"] = ["too few items" if few else "yes" for few in rows["too_few"]]
    return table


def _rate(value: float, low: float, high: float) -> str:
    return "n/a" if value != value else f"{value:.3f} [{low:.2f}, {high:.2f}]"


def _interval(low: float, high: float) -> str:
    return "" if low != low else f"[{low:+.3f}, {high:+.3f}]"


def _groups(key: str, d) -> str:
    if d.estimate != d.estimate:
        return ""
    return f"{d.low_group} / {d.high_group}" if key == "flag_rate_ratio" else f"{d.high_group} - {d.low_group}"


def _verdict(row) -> str:
    if row["change"] != row["change"]:
        return "n/a: undefined on A or B"
    if row["direction"] == "unchanged":
        return "unchanged"
    return f"{row['direction']}, {'beyond' if row['beyond_noise'] else 'within'} noise"
