"""The one input check every metric shares, and the sorted counts every curve reads.

A run's results arrive as a DataFrame (or a mapping of column name to array) with one row per
item: ``label`` (gold 0/1), ``score`` (P("1") in [0, 1], NaN when the item errored), and
optionally ``error`` (non-null means the item errored) and ``item_id``. ``check_results``
validates them once and returns a ``ScoredRun``; every metric accepts either form, so a caller
computing many metrics on a million rows validates and sorts once.

Errored rows (a non-null ``error``, or a NaN score) are kept out of every metric and counted in
the ``errors`` field of each result instead.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..errors import RowProblem, ValidationError

SOURCE = "results"
"""What problems found in a run's results name as their "file"."""

_SHOWN_PER_COLUMN = 10  # a million bad rows must not become a million RowProblem objects


class Result:
    """Base of the result records: ``to_dict`` gives plain Python values (lists, not arrays).

    Records that hold arrays or frames are declared ``eq=False`` (compared by identity), since
    ``==`` on arrays is elementwise and would make record equality raise.
    """

    def to_dict(self) -> dict:
        return {f.name: to_plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def to_plain(value):
    """Turn arrays, numpy scalars, frames and nested records into JSON-friendly values."""
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, (np.ndarray, pd.Index)):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.DataFrame):
        return value.reset_index().to_dict(orient="records")
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class CountTable:
    """Confusion counts at every distinct score: the basis of all curves and pickers."""

    threshold: np.ndarray
    """Distinct scores, descending. At ``threshold[i]`` an item is "1" when score >= it."""
    tp: np.ndarray
    """True positives at each threshold (non-decreasing)."""
    fp: np.ndarray
    """False positives at each threshold (non-decreasing)."""
    n_pos: int
    """Scored items whose gold label is 1."""
    n_neg: int
    """Scored items whose gold label is 0."""

    def at(self, thresholds) -> tuple[np.ndarray, np.ndarray]:
        """(tp, fp) when predicting "1" for score >= t, for each t in ``thresholds``."""
        t = np.asarray(thresholds, dtype=float)
        # How many distinct scores are >= t; the counts at that index are the answer.
        k = np.searchsorted(-self.threshold, -t, side="right")
        tp = np.concatenate(([0], self.tp))[k]
        fp = np.concatenate(([0], self.fp))[k]
        return tp, fp


@dataclass(frozen=True, eq=False)
class ScoredRun:
    """One run's results after ``check_results``: arrays over every row, errors marked."""

    label: np.ndarray
    """Gold labels of every row, as bool (True is "1")."""
    score: np.ndarray
    """P("1") of every row, float64; NaN where the row errored."""
    ok: np.ndarray
    """True where the row has a score and no error: the rows metrics use."""
    item_id: pd.Index | None = None
    """Item ids of every row, when the input had an ``item_id`` column."""
    hard_label: bool = False
    """True when the model gave labels (scores 0.0/1.0 only), not probabilities."""

    @cached_property
    def n(self) -> int:
        """Number of scored (non-errored) rows."""
        return int(np.count_nonzero(self.ok))

    @property
    def errors(self) -> int:
        """Number of errored rows, excluded from every metric."""
        return len(self.ok) - self.n

    @property
    def note(self) -> str:
        """Why curves of this run are degenerate (empty, all errors, hard-label), or ""."""
        if self.n == 0:
            return f"no scored items ({self.errors} errored)" if self.errors else "no items"
        if self.hard_label:
            return ("hard-label run: the model gave labels, not probabilities, so there is "
                    "one operating point, not a curve")
        return ""

    @cached_property
    def y(self) -> np.ndarray:
        """Gold labels of the scored rows."""
        return self.label if self.n == len(self.ok) else self.label[self.ok]

    @cached_property
    def s(self) -> np.ndarray:
        """Scores of the scored rows."""
        return self.score if self.n == len(self.ok) else self.score[self.ok]

    @cached_property
    def counts(self) -> CountTable:
        """Counts at every distinct score, from one sort (cached: curves share it)."""
        if self.n == 0:
            none = np.array([], dtype=np.int64)
            return CountTable(np.array([], dtype=np.float64), none, none, 0, 0)
        # Unstable (SIMD) sort: several times faster than a stable one, and the order within
        # a run of tied scores does not matter, since only its last row's counts are kept.
        order = np.argsort(self.s)[::-1]
        s_desc = self.s[order]
        ends = np.flatnonzero(np.concatenate((s_desc[1:] != s_desc[:-1], [True])))
        tp = np.cumsum(self.y[order], dtype=np.int64)[ends]
        fp = ends + 1 - tp
        n_pos = int(tp[-1])
        return CountTable(s_desc[ends], tp, fp, n_pos, self.n - n_pos)


def check_results(results, *, hard_label: bool = False) -> ScoredRun:
    """Validate a run's results once; every metric calls this on its input.

    ``results`` is a ``ScoredRun`` (returned as is), a DataFrame, or a mapping of column name to
    array. Required columns: ``label`` (0/1) and ``score`` (in [0, 1]; NaN marks an errored item).
    Optional: ``error`` (any non-null value, even an empty string, marks the row errored) and
    ``item_id``. With ``hard_label=True`` every scored row must have score 0.0 or 1.0.
    Raises ``ValidationError`` naming the rows (1-based) and values that are wrong.
    """
    if isinstance(results, ScoredRun):
        if hard_label and not results.hard_label:
            _raise_if_any(_hard_label_problems(results.score, results.ok))
            return dataclasses.replace(results, hard_label=True)
        return results
    frame = _as_frame(results)
    missing = [c for c in ("label", "score") if c not in frame.columns]
    if missing:
        raise ValidationError([
            RowProblem(SOURCE, None, c, None, "required column is missing (results need "
                       "'label' and 'score'; 'item_id' and 'error' are optional)")
            for c in missing
        ])
    problems: list[RowProblem] = []
    label = _numeric(frame["label"], "label", problems)
    bad = ~((label == 0) | (label == 1))
    problems += _problems(bad, frame["label"], "label", "gold label must be 0 or 1")
    score = _numeric(frame["score"], "score", problems)
    bad = np.isinf(score) | (score < 0) | (score > 1)
    problems += _problems(bad, frame["score"], "score",
                          "score must be a probability in [0, 1] (NaN marks an errored item)")
    ok = ~np.isnan(score)
    if "error" in frame.columns:
        ok &= frame["error"].isna().to_numpy()
    if hard_label:
        problems += _hard_label_problems(score, ok)
    _raise_if_any(problems)
    item_id = pd.Index(frame["item_id"]) if "item_id" in frame.columns else None
    return ScoredRun(label == 1, score, ok, item_id, hard_label)


def check_zero_division(zero_division: float) -> float:
    """The value an undefined ratio takes: a number in [0, 1], or NaN to mark it undefined."""
    value = float(zero_division)
    if not (math.isnan(value) or 0.0 <= value <= 1.0):
        raise ValueError(f"zero_division must be in [0, 1] or NaN, got {zero_division!r}")
    return value


def check_unit(name: str, value: float) -> float:
    """A threshold, target or confidence: a finite number in [0, 1]."""
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return number


def _as_frame(results) -> pd.DataFrame:
    if isinstance(results, pd.DataFrame):
        return results
    if isinstance(results, Mapping):
        try:
            return pd.DataFrame(dict(results))
        except ValueError as ex:
            raise ValidationError(
                [RowProblem(SOURCE, None, None, None, f"columns do not line up: {ex}")]
            ) from ex
    raise TypeError(
        "results must be a pandas DataFrame, a mapping of column name to array, or a "
        f"ScoredRun; got {type(results).__name__}"
    )


def _numeric(column: pd.Series, name: str, problems: list[RowProblem]) -> np.ndarray:
    """The column as float64; non-numeric values are reported and read as NaN."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    values = pd.to_numeric(column, errors="coerce")
    problems += _problems((values.isna() & column.notna()).to_numpy(), column, name,
                          "not a number")
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _problems(bad: np.ndarray, column: pd.Series, name: str, problem: str) -> list[RowProblem]:
    rows = np.flatnonzero(bad)
    found = [RowProblem(SOURCE, int(r) + 1, name, str(column.iat[r]), problem)
             for r in rows[:_SHOWN_PER_COLUMN]]
    if len(rows) > _SHOWN_PER_COLUMN:
        found.append(RowProblem(SOURCE, None, name, None,
                                f"{len(rows)} rows in all: {problem}"))
    return found


def _hard_label_problems(score: np.ndarray, ok: np.ndarray) -> list[RowProblem]:
    bad = ok & (score != 0.0) & (score != 1.0)
    return _problems(bad, pd.Series(score), "score",
                     "a hard-label run has scores 0.0 or 1.0 only")


def _raise_if_any(problems: list[RowProblem]) -> None:
    if problems:
        raise ValidationError(problems)
