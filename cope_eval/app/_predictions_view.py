"""A run's predictions as the Evaluate page browses them: each item's outcome at a threshold,
filters, sort, and the filtered rows as formula-safe CSV. No Streamlit here.

The outcome of an item is its confusion cell at the threshold (score >= threshold is "1"):
``TP``, ``FP``, ``FN`` or ``TN``; ``error`` when the model gave no usable answer (the reason, as
``run_errors`` groups it, is in ``error``), and ``not scored`` for items a run has not reached.
Cells a reader sees are never ``None``: text columns hold "" where there is nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .._util.csv_safe import write_csv
from ..golden import image_reference, video_reference, with_thumbnails
from ..metrics import check_threshold
from ._run_errors import error_reason
from ._views import MISSING_CATEGORY, filter_items, page_of

PREDICTION_OUTCOMES = ("TP", "FP", "FN", "TN", "error", "not scored")
"""Every outcome an item can have, in the order filters list them."""
SORTS = {"score_desc": "score, highest first", "score_asc": "score, lowest first", "golden": "golden-set order"}
"""Sort orders (key: words for a menu). Items with no score come last in both score orders."""
_NOT_SCORED = "not scored yet"  # how store.run_results marks items a run has not reached
COLUMNS = ["outcome", "item_id", "score", "label", "category", "text", "image", "video", "error"]


def predictions_table(results: pd.DataFrame, items: pd.DataFrame, *, threshold: float) -> pd.DataFrame:
    """One row per item of ``results`` (``store.run_results``), in golden order: COLUMNS.

    ``text``, ``image`` and ``video`` come from the golden ``items`` (by id); ``category`` is
    ``MISSING_CATEGORY`` where an item has none; ``error`` is the error's reason, "" otherwise."""
    check_threshold(threshold, source="Threshold")
    score = results["score"].to_numpy(dtype=np.float64)
    message = results["error"]
    failed = message.notna().to_numpy() | np.isnan(score)
    said_one = score >= threshold
    gold = results["label"].to_numpy() == 1
    outcome = np.where(said_one, np.where(gold, "TP", "FP"), np.where(gold, "FN", "TN")).astype(object)
    outcome[failed] = "error"
    outcome[(message == _NOT_SCORED).to_numpy()] = "not scored"
    reasons = ["" if pd.isna(m) else error_reason(m, i) for i, m in zip(results["item_id"], message)]
    content = items.set_index("id")
    category = results["category"] if "category" in results.columns else pd.Series(None, index=results.index)
    table = pd.DataFrame({
        "outcome": outcome,
        "item_id": results["item_id"].astype(str).to_numpy(),
        "score": np.where(failed, np.nan, score),
        "label": results["label"].astype(int).to_numpy(),
        "category": category.astype(object).where(category.notna(), MISSING_CATEGORY).astype(str).to_numpy(),
        "text": results["item_id"].map(content["text"]).fillna("").astype(str).to_numpy(),
        "image": results["item_id"].map(content["image"]).fillna("").astype(str).to_numpy(),
        "video": results["item_id"].map(content["video"]).fillna("").astype(str).to_numpy(),
        "error": reasons,
    })
    return table[COLUMNS]


def outcome_counts(table: pd.DataFrame) -> dict[str, int]:
    """Items per outcome, every outcome of PREDICTION_OUTCOMES listed (0 included)."""
    counts = table["outcome"].value_counts()
    return {outcome: int(counts.get(outcome, 0)) for outcome in PREDICTION_OUTCOMES}


def filter_predictions(table: pd.DataFrame, *, outcomes: Iterable[str] | None = None, category: str | None = None,
                       search: str = "", sort: str = "score_desc") -> pd.DataFrame:
    """Rows of ``predictions_table`` with one of ``outcomes`` (None: any), in ``category`` (None:
    any; ``MISSING_CATEGORY`` for none), whose text or id contains ``search`` (case-insensitive,
    literal), in the order ``sort`` (a key of SORTS)."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {sorted(SORTS)}, got {sort!r}")
    shown = table if outcomes is None else table[table["outcome"].isin(list(outcomes))]
    as_items = shown.rename(columns={"item_id": "id"}).assign(
        category=shown["category"].where(shown["category"] != MISSING_CATEGORY, None))
    shown = shown.loc[filter_items(as_items, search=search, category=category).index]
    if sort == "golden":
        return shown
    return shown.sort_values("score", ascending=sort == "score_asc", na_position="last", kind="stable")


def predictions_page(rows: pd.DataFrame, workspace: Path, *, page: int = 1,
                     page_size: int = 50) -> tuple[pd.DataFrame, int]:
    """One page of ``rows`` with a ``thumbnail`` first in place of ``image`` and ``video`` (only this
    page's images and videos are opened), and the number of pages."""
    shown, pages = page_of(rows, page, page_size)
    return with_thumbnails(shown, workspace).drop(columns=["image", "video"]).reset_index(drop=True), pages


def predictions_csv(rows: pd.DataFrame) -> bytes:
    """``rows`` (of ``predictions_table``) as UTF-8 CSV a spreadsheet cannot run: a cell starting
    with ``=``, ``+``, ``-``, ``@`` gets a leading apostrophe (``csv_safe``). An inline image or
    video (a data URL) is named by its media type and size, not copied (megabytes in one cell)."""
    named = rows[COLUMNS].assign(image=rows["image"].map(image_reference), video=rows["video"].map(video_reference))
    buffer = io.StringIO()
    write_csv(named, buffer)
    return buffer.getvalue().encode("utf-8")
