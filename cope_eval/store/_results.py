"""A run's results as one frame: gold items joined with their predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._store import Store


def run_results(store: Store, run_id: str) -> pd.DataFrame:
    """One row per golden item of the run, in golden order.

    Columns: ``item_id``, ``label``, ``category`` and metadata from the golden set; ``score``,
    ``hard_label``, ``raw``, ``error``, ``latency_ms``, ``cached`` from the prediction. Items not
    scored yet have no score and the error ``"not scored yet"`` so no metric counts them.
    """
    run = store.run(run_id)
    items = store.golden_set(run.golden_hash).items.drop(columns=["text", "image", "video", "video_digest"])
    items = items.rename(columns={"id": "item_id"})
    merged = items.merge(store.predictions(run_id), on="item_id", how="left", indicator=True)
    missing = (merged.pop("_merge") == "left_only").to_numpy()
    if missing.any():
        merged["error"] = merged["error"].astype(object)
        merged.loc[missing, "error"] = "not scored yet"
    merged["score"] = merged["score"].astype(np.float64)
    return merged


def with_predicted_labels(results: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Add ``pred`` (1 when score >= threshold, 0 below, missing on error)."""
    pred = pd.array(np.where(results["score"].to_numpy() >= threshold, 1, 0), dtype="Int64")
    pred[results["error"].notna().to_numpy() | results["score"].isna().to_numpy()] = pd.NA
    return results.assign(pred=pred)
