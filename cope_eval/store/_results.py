"""A run's results as one frame: gold items joined with their predictions, cut to a split.

The dev/test discipline is kept here, where every figure's items come from: ``run_results``
gives the **dev** split unless a caller asks for ``test`` or ``all``, so no report shows test
figures by accident. A set without a split is all dev, as sets were before splits. Showing test
figures on purpose is a *reveal*, recorded per policy lineage (``_reveals``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..records import SPLITS
from ._store import Store

CONTENT = ("text", "image", "video", "video_digest")
"""A golden item's content: no results frame carries it (pages join it to the rows they show)."""


def run_results(store: Store, run_id: str, *, split: str = "dev") -> pd.DataFrame:
    """One row per golden item of the run in ``split`` (``SPLITS``; see ``split_results``), in
    golden order.

    Columns: ``item_id``, ``label``, ``category``, ``split`` and metadata from the golden set;
    ``score``, ``hard_label``, ``raw``, ``error``, ``latency_ms``, ``cached`` from the prediction.
    Items not scored yet have no score and the error ``"not scored yet"`` so no metric counts them.
    """
    run = store.run(run_id)
    items = store.golden_set(run.golden_hash).items.drop(columns=list(CONTENT))
    return _joined(items, store.predictions(run_id), split)


def run_scores(store: Store, run_id: str, *, split: str = "dev",
               items_of: Callable[[str], pd.DataFrame] | None = None) -> pd.DataFrame:
    """``run_results`` without the text of the items or the model's raw replies, latencies and
    hard labels: the rows and every column a metric, slice or group reads (``item_id``,
    ``label``, ``category``, ``split``, metadata, ``score``, ``error``, ``cached``), read in a
    fraction of the time and memory. The same split rule (dev unless asked). ``items_of(hash)``
    gives a set's ``score_columns`` when a caller keeps them for several runs of one set (read-only:
    the runs then share their ids and labels)."""
    run = store.run(run_id)
    items = score_columns(store, run.golden_hash) if items_of is None else items_of(run.golden_hash)
    return _joined(items, store.prediction_scores(run_id), split)


def score_columns(store: Store, golden_hash: str) -> pd.DataFrame:
    """The columns of a stored set that ``run_scores`` joins to a run's scores: all but the content."""
    return store.golden_columns(golden_hash, without=CONTENT)


def _joined(items: pd.DataFrame, predictions: pd.DataFrame, split: str) -> pd.DataFrame:
    items = items.rename(columns={"id": "item_id"})
    if "row" in predictions.columns:  # a score file's: each score's position in the set
        return split_results(_placed(items, predictions), split)
    merged = items.merge(predictions, on="item_id", how="left", indicator=True)
    missing = (merged.pop("_merge") == "left_only").to_numpy()
    if missing.any():
        merged["error"] = merged["error"].astype(object)
        merged.loc[missing, "error"] = "not scored yet"
    merged["score"] = merged["score"].astype(np.float64)
    return split_results(merged, split)


def _placed(items: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """``_joined``'s merge, by position: each prediction's ``row`` in the set places it (no million
    ids matched), with the merge's columns, values and "not scored yet" rows (errors stay the file's
    text dtype when every item was scored)."""
    predictions = predictions[predictions["row"].to_numpy() >= 0]  # an id the set lacks: as the merge drops it
    at, n = predictions["row"].to_numpy(), len(items)
    score = np.full(n, np.nan)
    score[at] = predictions["score"].to_numpy()
    if len(at) == n:  # every item scored: the errors as text, reordered, never a million Python strings
        order = np.empty(n, dtype=np.int64)
        order[at] = np.arange(n)
        error = predictions["error"].take(order).set_axis(items.index)
        cached = np.zeros(n, dtype=np.int64)
    else:  # as the merge: objects, with "not scored yet"
        error = np.full(n, "not scored yet", dtype=object)
        error[at] = predictions["error"].to_numpy(dtype=object, na_value=np.nan)
        error = pd.Series(error, index=items.index, dtype=object)
        cached = np.full(n, np.nan)
    cached[at] = predictions["cached"].to_numpy()
    return items.assign(score=score, error=error, cached=cached)


def with_predicted_labels(results: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Add ``pred`` (1 when score >= threshold, 0 below, missing on error)."""
    pred = pd.array(np.where(results["score"].to_numpy() >= threshold, 1, 0), dtype="Int64")
    pred[results["error"].notna().to_numpy() | results["score"].isna().to_numpy()] = pd.NA
    return results.assign(pred=pred)


def has_split(frame: pd.DataFrame) -> bool:
    """True when ``frame`` (a set's items or a run's results) has a dev/test split."""
    return "split" in frame.columns and bool(frame["split"].notna().any())


def split_results(results: pd.DataFrame, split: str) -> pd.DataFrame:
    """The rows of ``results`` (a run's results, or a set's items) in ``split`` (``SPLITS``).

    ``all`` is every row. A frame without a split is all dev, as sets were before splits: ``dev``
    is every row, and ``test`` is an error (there is no test split to report)."""
    check_split(results, split)
    if split == "all" or not has_split(results):
        return results
    return results[(results["split"] == split).fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def check_split(frame: pd.DataFrame, split: str) -> None:
    """Raise ``ConfigError`` unless ``split`` can be reported for ``frame`` (see ``split_results``)."""
    if split not in SPLITS:
        raise ConfigError(f"Unknown split {split!r}; use one of {', '.join(SPLITS)}.")
    if split == "test" and not has_split(frame):
        raise ConfigError("This golden set has no test split: make one with cope-eval split (or on the Golden "
                          "sets page), then score that version.")
