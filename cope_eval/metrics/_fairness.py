"""Fairness across any metadata column: per-group error rates, the disparities between groups,
and whether an edit narrowed or widened them.

``membership`` turns metadata columns into groups (a boolean item x group matrix; an item may
be in several groups or none). ``group_rates`` counts and rates each group, with 95% intervals,
and the disparities: the largest false-positive-rate gap, the largest false-negative-rate gap,
and the ratio of the lowest to the highest flag rate (the "four-fifths rule" reading).
``compare_fairness`` sets two runs' disparities side by side.

Rules, stated once:

- errored items are left out of every count and counted in ``errors`` per group;
- a rate whose denominator is zero is undefined: NaN, with its name in the group's
  ``undefined`` column (precision needs a flagged item; recall and FNR a gold-1 item; FPR a
  gold-0 item; flag rate any item) — never a silent 0;
- a group with fewer than ``min_items`` scored items is ``too_few``: its counts are shown, but it
  takes no part in any disparity (it is never ranked);
- a disparity over fewer than two groups is undefined (NaN, with a ``note``).

Per-group intervals are Wilson score intervals, the rule of ``proportion``, computed here for all
groups at once (``proportion`` calls scipy once per share: 10,000 groups x 5 rates would take
half a minute); tests check both agree to the digit.

Disparity intervals: the groups of a gap are picked *after* looking (the largest minus the
smallest of many noisy rates), so an interval for just that pair would call noise a disparity
whenever there are many groups. The interval is instead a simultaneous bootstrap band: each
resample redraws every group's items, within the group and within gold label (FPR over the
group's gold-0 items, FNR over its gold-1 items, flag rate over all its items; conditioning on
the label counts keeps every resampled rate defined), the deviation ``e_g`` of each group's
resampled rate from the rate it was drawn at is taken, and ``c`` is the ``confidence`` quantile of
``max(e) - min(e)``. Then every pairwise gap, the largest included, lies within ``± c`` of its
observed value at once with that confidence, wherever the largest gap falls. The flag-rate ratio
does the same on the log scale. Counts are drawn at the rate ``(x + 0.5) / (n + 1)``, not
``x / n``: a group at 0 or n of n would otherwise never vary and the band would collapse to the
point (as a plain bootstrap does at 0% or 100%), and the logs stay finite.
Groups are redrawn independently even when membership overlaps: an item in two groups moves
both groups' rates the same way, so independent draws over-state the spread of a gap, and the
band is wider (conservative), never narrower.

A disparity is ``noise`` when its interval includes no disparity: a gap interval reaching 0, a
ratio interval reaching 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ._scored import Result, check_results, check_unit
from ._slices import MISSING
from ._threshold import check_threshold

RATES = ("precision", "recall", "fpr", "fnr", "flag_rate")
"""The per-group rates, in display order: precision, recall, false positive rate, false negative
rate, and the share of scored items flagged."""
DISPARITIES = ("fpr_gap", "fnr_gap", "flag_rate_ratio")
"""The disparities, in display order."""
RUN_COLUMNS = frozenset({"item_id", "label", "score", "hard_label", "raw", "error", "latency_ms",
                         "cached", "pred", "split"})
"""Columns of a run's results that are not item metadata (never offered as groups). ``split``
(dev or test) is the golden set's own: grouping by it would show the test split's figures."""
_TRUE = {"true": 1.0, "false": 0.0}
_BLOCK = 4_000_000  # resampled values held at once (resamples x groups), to bound memory


@dataclass(frozen=True)
class Disparity(Result):
    """One disparity between groups, with its bootstrap interval."""

    name: str
    """``fpr_gap``, ``fnr_gap`` (highest minus lowest rate) or ``flag_rate_ratio`` (lowest flag
    rate over highest)."""
    estimate: float
    """The disparity on the data; NaN when fewer than two groups qualify."""
    low: float
    """Lower end of the simultaneous interval (see the module docstring); NaN when undefined."""
    high: float
    """Upper end of the interval; NaN when undefined."""
    high_group: str | None
    """The group with the highest rate (for the ratio: the highest flag rate)."""
    low_group: str | None
    """The group with the lowest rate."""
    groups: int
    """Groups compared: not too few, and with the rate defined."""
    noise: bool
    """True when the interval includes no disparity (a gap's reaches 0, the ratio's 1), or the
    disparity is undefined: the data do not show a disparity."""
    note: str = ""
    """Why the disparity is undefined, or ""."""


@dataclass(frozen=True, eq=False)
class GroupRates(Result):
    """Per-group counts and rates of one run, and the disparities between the groups."""

    rows: pd.DataFrame
    """One row per group (index ``group``): groups with enough items first, in the order of
    the membership columns, then the ``too_few`` ones. Columns: ``n`` (scored), ``errors``,
    ``positives``, ``negatives``, ``flagged``, ``tp``, ``fp``, ``fn``, ``tn``, then for each of
    ``RATES`` the rate and its ``_low`` and ``_high`` interval ends (NaN when undefined), then
    ``too_few`` and ``undefined`` (the undefined rates, comma-separated, or "")."""
    disparities: dict[str, Disparity]
    """``DISPARITIES`` name to its record."""
    threshold: float
    """Items with score >= threshold are flagged."""
    min_items: int
    """Groups with fewer scored items are ``too_few``."""
    confidence: float
    """Coverage of every interval, e.g. 0.95."""
    n_resamples: int
    """Bootstrap resamples of the disparity intervals."""
    items: int
    """Rows of the results (errored ones included)."""
    errors: int
    """Errored rows, left out of every count."""
    scored: pd.DataFrame = field(repr=False)
    """Per item: ``item_id`` (when the results had one), ``label``, ``flagged``, ``ok``; for
    ``compare_fairness``. Not in ``to_dict``."""
    membership: object = field(repr=False)
    """The item x group membership as a scipy CSC matrix, columns in ``rows`` order. Not in
    ``to_dict``."""

    def to_dict(self) -> dict:
        out = super().to_dict()
        del out["scored"], out["membership"]
        return out


def membership(results: pd.DataFrame, columns, *, cut: float | None = None) -> pd.DataFrame:
    """Which items belong to which group: a boolean frame, index of ``results``, one column per group.

    One column and no ``cut``: each distinct value is a group (values as text, sorted; missing
    values form the group ``MISSING``, last). The frame is sparse then: 10,000 distinct values
    on 50,000 items stay small. With ``cut``: each listed column is one group, and an item is in
    it when its value, read as a number (text such as "0.8" counts; "true"/"false" are 1/0), is
    >= ``cut``; an item may be in several groups or none, and a value that is not a number puts
    it in none. Raises ``ConfigError`` for a column the results lack, for several columns
    without a cut, and for a cut on a column with no number.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    if not columns:
        raise ConfigError("Name at least one metadata column to group items by.", options=("group_column",))
    available = [str(c) for c in results.columns if c not in RUN_COLUMNS]
    for name in columns:
        if name not in results.columns or name in RUN_COLUMNS:
            shown = ", ".join(repr(c) for c in available[:20]) or "none"
            more = f" and {len(available) - 20} more" if len(available) > 20 else ""
            raise ConfigError(f"No metadata column {name!r} to group items by; the run's golden set "
                              f"has {shown}{more}.", options=("group_column",))
    if len(set(columns)) < len(columns):
        raise ConfigError(f"A column is named twice among {', '.join(map(repr, columns))}.",
                          options=("group_column",))
    if cut is None:
        if len(columns) > 1:
            raise ConfigError(f"Several columns ({', '.join(map(repr, columns))}) make groups only "
                              "with a cut: an item is in a column's group when its value is at least the cut.",
                              options=("cut",))
        return _distinct_groups(results, columns[0])
    cut = float(cut)
    if cut != cut:
        raise ConfigError("The cut must be a number, not NaN.", options=("cut",))
    found = {}
    for name in columns:
        values = _numbers(results[name])
        if np.isnan(values).all():
            sample = results[name].dropna().astype(str).head(3).tolist()
            raise ConfigError(f"Column {name!r} holds no number, so no item can be at least the cut "
                              f"{cut:g} (values such as {', '.join(map(repr, sample)) or 'none'}).",
                              options=("no_cut",))
        found[name] = values >= cut  # NaN >= cut is False: not a member
    return pd.DataFrame(found, index=results.index)


def group_rates(results: pd.DataFrame, *, groups: pd.DataFrame, threshold: float = 0.5,
                min_items: int = 30, confidence: float = 0.95, n_resamples: int = 1000,
                random_state=0) -> GroupRates:
    """Counts, rates with intervals, and disparities per group of ``groups`` (from ``membership``).

    ``groups`` must have the index of ``results``. Vectorised: counts come from one sparse
    product, intervals and bootstrap from array operations, for any number of groups.
    """
    threshold = check_threshold(threshold)
    confidence = check_unit("confidence", confidence)
    if int(min_items) != min_items or min_items < 1:
        raise ConfigError(f"The fewest items a group needs must be a whole number of at least 1, not {min_items}.",
                          options=("min_items",))
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if not groups.index.equals(results.index):
        raise ValueError("groups must have the index of results: build it with membership(results, ...)")
    run = check_results(results)
    names = [str(c) for c in groups.columns]
    matrix = _sparse(groups)
    flagged = run.ok & (run.score >= threshold)
    cell = np.where(run.ok, run.label * 2 + flagged, 4)  # 0 tn, 1 fp, 2 fn, 3 tp, 4 errored
    counts = np.asarray((matrix.T @ _one_hot(cell, 5)).todense(), dtype=np.int64)
    tn, fp, fn, tp, errors = counts.T
    table = pd.DataFrame({"n": tn + fp + fn + tp, "errors": errors, "positives": tp + fn,
                          "negatives": tn + fp, "flagged": tp + fp, "tp": tp, "fp": fp, "fn": fn, "tn": tn},
                         index=pd.Index(names, name="group"))
    shares = {"precision": (tp, tp + fp), "recall": (tp, tp + fn), "fpr": (fp, fp + tn),
              "fnr": (fn, tp + fn), "flag_rate": (tp + fp, table["n"].to_numpy())}
    for rate, (count, n) in shares.items():
        estimate, low, high = wilson(count, n, confidence)
        table[rate], table[f"{rate}_low"], table[f"{rate}_high"] = estimate, low, high
    table["too_few"] = table["n"].to_numpy() < min_items
    table["undefined"] = _undefined(table)
    order = np.argsort(table["too_few"].to_numpy(), kind="stable")
    table, matrix = table.iloc[order], matrix[:, order]
    rng = np.random.default_rng(random_state)
    disparities = {
        "fpr_gap": _gap("fpr_gap", table, "fp", "negatives", rng, n_resamples, confidence),
        "fnr_gap": _gap("fnr_gap", table, "fn", "positives", rng, n_resamples, confidence),
        "flag_rate_ratio": _ratio(table, rng, n_resamples, confidence),
    }
    scored = pd.DataFrame({"label": run.label, "flagged": flagged, "ok": run.ok})
    if run.item_id is not None:
        scored.insert(0, "item_id", run.item_id.to_numpy())
    return GroupRates(table, disparities, threshold, int(min_items), confidence, int(n_resamples),
                      len(run.ok), run.errors, scored, matrix)


def compare_fairness(a: GroupRates, b: GroupRates, *, n_resamples: int = 1000,
                     random_state=0) -> pd.DataFrame:
    """Each disparity of run A and run B side by side, and whether B narrowed or widened it.

    One row per ``DISPARITIES`` name (the index): ``a``, ``a_low``, ``a_high``, ``a_groups``
    ("high vs low" group), the same for ``b``, then ``change`` (B - A), ``change_low``,
    ``change_high``, ``direction`` ("narrowed", "widened", "unchanged", or "" when undefined),
    ``beyond_noise`` and ``shared_items``.

    ``change`` is measured on the items both runs scored, each in A's groups, over the groups
    with at least ``min_items`` (A's) shared items: a paired bootstrap redraws those items within
    each group and gold label (as ``group_rates`` does) and keeps both runs' flags of each drawn
    item together, recomputing both disparities (largest minus smallest rate, lowest over highest
    flag rate) in every resample; the interval is the percentile interval of B - A. A change is
    beyond noise when that interval excludes 0. A gap narrowed when it fell; the ratio narrowed
    when it rose (towards 1, parity). Both runs need ``item_id`` in their results.
    """
    confidence = a.confidence
    pairs = _shared(a, b)
    rng = np.random.default_rng(random_state)
    rows = {}
    for name in DISPARITIES:
        da, db = a.disparities[name], b.disparities[name]
        row = {"a": da.estimate, "a_low": da.low, "a_high": da.high, "a_groups": _pair(da),
               "b": db.estimate, "b_low": db.low, "b_high": db.high, "b_groups": _pair(db)}
        row.update(_paired_change(name, pairs, a.min_items, rng, n_resamples, confidence))
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("disparity")


def wilson(count, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(estimate, low, high) of ``count`` out of ``n`` elementwise, Wilson score interval as
    ``proportion`` computes it; NaN where ``n`` is 0 (undefined)."""
    from scipy.special import ndtri  # here, not at the top: a fast CLI

    count, n = np.asarray(count, dtype=np.float64), np.asarray(n, dtype=np.float64)
    z = ndtri(0.5 + 0.5 * confidence)
    defined = n > 0
    m = np.where(defined, n, 1.0)
    p = count / m
    t = 1 + z ** 2 / m
    r = np.sqrt(p * (1 - p) * z ** 2 / m + z ** 4 / (4 * m ** 2))
    center = p + z ** 2 / (2 * m)
    low, high = np.maximum((center - r) / t, 0.0), np.minimum((center + r) / t, 1.0)
    return tuple(np.where(defined, v, np.nan) for v in (p, low, high))


def _distinct_groups(results: pd.DataFrame, name: str) -> pd.DataFrame:
    import scipy.sparse as sp

    codes, values = pd.factorize(results[name], sort=True)  # missing values get code -1
    labels = [str(v) for v in values]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(MISSING)
    matrix = sp.csc_matrix((np.ones(len(codes), dtype=bool), (np.arange(len(codes)), codes)),
                           shape=(len(codes), len(labels)))
    frame = pd.DataFrame.sparse.from_spmatrix(matrix, index=results.index, columns=pd.Index(labels))
    return frame


def _numbers(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    text = column.astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce").astype("Float64")
    values = values.fillna(text.str.lower().map(_TRUE).astype("Float64"))
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _sparse(groups: pd.DataFrame):
    import scipy.sparse as sp

    if len(groups.columns) and all(isinstance(d, pd.SparseDtype) for d in groups.dtypes):
        return groups.sparse.to_coo().tocsc().astype(bool)
    dense = groups.fillna(False).to_numpy()
    if not (dense.dtype == bool or np.isin(dense, (0, 1, True, False)).all()):
        raise ValueError("groups must hold booleans (True: the item is in the group)")
    return sp.csc_matrix(dense.astype(bool))


def _one_hot(codes: np.ndarray, k: int):
    import scipy.sparse as sp

    return sp.csr_matrix((np.ones(len(codes), dtype=np.int64), (np.arange(len(codes)), codes)),
                         shape=(len(codes), k))


def _undefined(table: pd.DataFrame) -> list[str]:
    missing = {"precision": table["flagged"] == 0, "recall": table["positives"] == 0,
               "fpr": table["negatives"] == 0, "fnr": table["positives"] == 0, "flag_rate": table["n"] == 0}
    return [", ".join(r for r in RATES if missing[r].iat[i]) for i in range(len(table))]


def _resampled(n: np.ndarray, p: np.ndarray, rng, n_resamples: int, statistic) -> np.ndarray:
    """``statistic`` of each resample of Binomial(n, p) counts per group, in bounded blocks."""
    block = max(1, _BLOCK // max(len(n), 1))
    out = []
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        out.append(statistic(rng.binomial(n, p, size=(size, len(n)))))
    return np.concatenate(out)


def _gap(name, table, count_column, n_column, rng, n_resamples, confidence) -> Disparity:
    rate = "fpr" if name == "fpr_gap" else "fnr"
    eligible = table[~table["too_few"] & (table[n_column] > 0)]
    if len(eligible) < 2:
        return _undefined_disparity(name, len(eligible), f"fewer than two groups with enough items and a {rate}")
    values = eligible[rate].to_numpy()
    hi, lo = _extremes(values)
    gap = float(values[hi] - values[lo])
    n = eligible[n_column].to_numpy()
    drawn = (eligible[count_column].to_numpy() + 0.5) / (n + 1)

    def spread(draws):
        e = draws / n - drawn
        return e.max(axis=1) - e.min(axis=1)

    c = float(np.quantile(_resampled(n, drawn, rng, n_resamples, spread), confidence))
    low, high = max(gap - c, -1.0), min(gap + c, 1.0)
    return Disparity(name, gap, low, high, str(eligible.index[hi]), str(eligible.index[lo]), len(eligible),
                     bool(low <= 0.0))


def _ratio(table, rng, n_resamples, confidence) -> Disparity:
    name = "flag_rate_ratio"
    eligible = table[~table["too_few"]]
    if len(eligible) < 2:
        return _undefined_disparity(name, len(eligible), "fewer than two groups with enough items")
    values = eligible["flag_rate"].to_numpy()
    hi, lo = _extremes(values)
    if values[hi] == 0:
        return _undefined_disparity(name, len(eligible), "no group has a flagged item")
    n, x = eligible["n"].to_numpy(), eligible["flagged"].to_numpy()
    smoothed = np.log((x + 0.5) / (n + 1))

    def spread(draws):
        e = np.log((draws + 0.5) / (n + 1)) - smoothed
        return e.max(axis=1) - e.min(axis=1)

    c = float(np.quantile(_resampled(n, np.exp(smoothed), rng, n_resamples, spread), confidence))
    ratio = float(values[lo] / values[hi])
    centre = smoothed[lo] - smoothed[hi]
    # The band is on the smoothed rates; widened to hold the plain ratio when a rate is 0.
    low, high = min(float(np.exp(centre - c)), ratio), max(float(np.exp(centre + c)), ratio)
    return Disparity(name, ratio, low, high, str(eligible.index[hi]), str(eligible.index[lo]), len(eligible),
                     bool(high >= 1.0))


def _extremes(values: np.ndarray) -> tuple[int, int]:
    """Positions of the highest and the lowest value; two groups even when all values tie."""
    hi = int(np.argmax(values))
    others = values.astype(np.float64).copy()
    others[hi] = np.inf
    return hi, int(np.argmin(others))


def _undefined_disparity(name, groups, note) -> Disparity:
    """A disparity the data cannot give: NaN, marked noise (no disparity is shown), with why."""
    return Disparity(name, float("nan"), float("nan"), float("nan"), None, None, groups, True, note)


def _pair(d: Disparity) -> str:
    return "" if d.high_group is None else f"{d.high_group} vs {d.low_group}"


def _shared(a: GroupRates, b: GroupRates) -> dict:
    """Items both runs scored, A's membership of them, labels and both runs' flags."""
    if "item_id" not in a.scored or "item_id" not in b.scored:
        raise ValueError("compare_fairness needs item_id in both runs' results")
    sa = a.scored.assign(row=np.arange(len(a.scored)))[a.scored["ok"].to_numpy()]
    sb = b.scored[b.scored["ok"].to_numpy()]
    both = sa.merge(sb[["item_id", "flagged"]], on="item_id", suffixes=("_a", "_b"))
    return {"matrix": a.membership[both["row"].to_numpy()], "label": both["label"].to_numpy(),
            "fa": both["flagged_a"].to_numpy(), "fb": both["flagged_b"].to_numpy(), "items": len(both)}


def _paired_change(name, pairs, min_items, rng, n_resamples, confidence) -> dict:
    label, fa, fb, matrix = pairs["label"], pairs["fa"], pairs["fb"], pairs["matrix"]
    if name == "flag_rate_ratio":
        keep = np.ones(len(label), dtype=bool)
    else:
        keep = (label == (name == "fnr_gap"))  # FNR over gold-1 items, FPR over gold-0
    n_all = np.asarray(matrix.sum(axis=0)).ravel()
    # For the gaps, "a flag" means an error: a false negative is a gold-1 item not flagged.
    ea, eb = (~fa, ~fb) if name == "fnr_gap" else (fa, fb)
    cells = np.asarray((matrix.T @ _one_hot(np.where(keep, ea * 2 + eb, 4), 5)).todense())[:, :4]
    n = cells.sum(axis=1)
    use = (n_all >= min_items) & (n > 0)
    out = {"change": np.nan, "change_low": np.nan, "change_high": np.nan, "direction": "",
           "beyond_noise": False, "shared_items": pairs["items"]}
    if use.sum() < 2:
        return out
    cells, n = cells[use], n[use]

    def statistic(c):  # c: (..., groups, 4) cells 0 neither, 1 B only, 2 A only, 3 both
        ra, rb = (c[..., 2] + c[..., 3]) / n, (c[..., 1] + c[..., 3]) / n
        if name == "flag_rate_ratio":
            da = _safe_ratio(ra.min(axis=-1), ra.max(axis=-1))
            db = _safe_ratio(rb.min(axis=-1), rb.max(axis=-1))
        else:
            da, db = ra.max(axis=-1) - ra.min(axis=-1), rb.max(axis=-1) - rb.min(axis=-1)
        return db - da

    change = float(statistic(cells))
    if np.isnan(change):
        return out
    block = max(1, _BLOCK // (4 * len(n)))
    shares = cells / n[:, None]
    draws = np.concatenate([statistic(rng.multinomial(n, shares, size=(min(block, n_resamples - start), len(n))))
                            for start in range(0, n_resamples, block)])
    draws = draws[~np.isnan(draws)]
    tail = (1 - confidence) / 2
    low, high = (float(v) for v in np.quantile(draws, [tail, 1 - tail]))
    better = change > 0 if name == "flag_rate_ratio" else change < 0
    direction = "unchanged" if change == 0 else ("narrowed" if better else "widened")
    return {**out, "change": change, "change_low": low, "change_high": high, "direction": direction,
            "beyond_noise": bool(low > 0 or high < 0)}


def _safe_ratio(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
