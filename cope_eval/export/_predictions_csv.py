"""The bundle's ``predictions.csv``: one row per item with its label, score, decision at the
exported threshold and outcome, written a chunk of rows at a time (a million rows are never one
table) through the formula-safe CSV writer."""

from __future__ import annotations

import io
from typing import BinaryIO

import numpy as np
import pandas as pd

from .._util.csv_safe import write_csv
from ..golden import image_reference, video_reference
from ..metrics import CELLS, confusion_cells
from ..store import has_split, with_predicted_labels


def bundle_prediction_rows(results: pd.DataFrame, threshold: float, *, split: bool | None = None) -> pd.DataFrame:
    """One row per item: id, label, score, pred, outcome (tp/fp/fn/tn/error), error, category, and
    split when the set has a dev/test split (``split``: whether to add it, decided for the whole
    run when ``results`` is one piece of it; None: when ``results`` has one)."""
    table = with_predicted_labels(results, threshold)
    pred = table["pred"].to_numpy(dtype="float64", na_value=np.nan)
    gold = table["label"].to_numpy() == 1
    outcome = np.where(np.isnan(pred), "error", np.array(CELLS)[confusion_cells(pred == 1, gold)])
    table = table.assign(outcome=outcome).rename(columns={"item_id": "id"})
    split = has_split(table) if split is None else split
    return table[["id", "label", "score", "pred", "outcome", "error", "category", *(["split"] if split else [])]]


def write_predictions(out: BinaryIO, results: pd.DataFrame, items: pd.DataFrame, threshold: float, scrub,
                       chunk_rows: int) -> None:
    """``bundle_prediction_rows`` plus each item's ``text``, ``image`` and ``video`` reference, as
    formula-safe CSV, written ``chunk_rows`` rows at a time.

    The text is golden-set content, exported as it is; an image or video path is scrubbed like the
    errors, and an inline data URL is named, not copied (it would be megabytes in one cell)."""
    content = items.set_index("id")[["text", "image", "video"]]
    split = has_split(results)
    for start in range(0, max(len(results), 1), chunk_rows):
        table = bundle_prediction_rows(results.iloc[start:start + chunk_rows], threshold, split=split)
        image, video = (table["id"].map(content[column]).map(lambda r: scrub(reference(r)), na_action="ignore")
                        for column, reference in (("image", image_reference), ("video", video_reference)))
        table = table.assign(error=table["error"].map(scrub, na_action="ignore"),
                             text=table["id"].map(content["text"]), image=image, video=video)
        buffer = io.StringIO()
        write_csv(table, buffer, header=start == 0)
        out.write(buffer.getvalue().encode("utf-8"))
