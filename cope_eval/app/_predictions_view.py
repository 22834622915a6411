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
from ..metrics import check_threshold, confusion_cells
from ._run_errors import error_reason
from ._views import MISSING_CATEGORY, page_of, text_matches

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
    check_threshold(threshold, source="Threshold")  # before the rows are built, not after
    return with_outcomes(prediction_rows(results, items), threshold=threshold)


def prediction_rows(results: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """What ``predictions_table`` shows that no threshold changes, for a page to keep once per run:
    COLUMNS less ``outcome``, and ``state`` ("error", "not scored", or None for an item with a score).
    A million rows: one match of their ids to ``items`` and one reason per error, nothing per item."""
    score = results["score"].to_numpy(dtype=np.float64)
    message = results["error"]
    has_message = message.notna().to_numpy()
    failed = has_message | np.isnan(score)
    state = np.full(len(results), None, dtype=object)
    state[failed] = "error"
    state[(message == _NOT_SCORED).to_numpy()] = "not scored"
    reasons = np.full(len(results), "", dtype=object)
    erred = np.flatnonzero(has_message)
    reasons[erred] = [error_reason(m, i) for i, m in zip(results["item_id"].to_numpy()[erred],
                                                          message.to_numpy()[erred])]
    ids = results["item_id"].reset_index(drop=True)
    if len(items) == len(ids) and items["id"].reset_index(drop=True).equals(ids):  # in order already (no split)
        content = items.reset_index(drop=True)
    else:
        content = items.set_index("id").reindex(ids.to_numpy())
    category = results["category"] if "category" in results.columns else pd.Series(None, index=results.index)
    # Columns as pandas arrays (.array): Arrow text stays Arrow, never a million Python strings again.
    return pd.DataFrame({
        "item_id": results["item_id"].astype("str").array,
        "score": np.where(failed, np.nan, score),
        "label": results["label"].astype(int).to_numpy(),
        "category": category.astype("str").fillna(MISSING_CATEGORY).array,
        **{column: content[column].astype("str").fillna("").array if column in content.columns
           else pd.array([""] * len(results), dtype="str") for column in ("text", "image", "video")},
        "error": pd.array(reasons, dtype=object),
        "state": pd.array(state, dtype=object),
    })


def with_outcomes(rows: pd.DataFrame, *, threshold: float) -> pd.DataFrame:
    """``prediction_rows`` with each item's outcome at ``threshold``: COLUMNS (vectorised; the
    rows' text is shared, not copied)."""
    threshold = check_threshold(threshold, source="Threshold")
    said_one = rows["score"].to_numpy() >= threshold
    gold = rows["label"].to_numpy() == 1
    # Codes into PREDICTION_OUTCOMES (TP, FP, FN, TN, error, not scored): a million outcomes, no strings.
    codes = confusion_cells(said_one, gold)
    state = rows["state"]
    codes[(state == "error").to_numpy(dtype=bool)] = 4
    codes[(state == "not scored").to_numpy(dtype=bool)] = 5
    return rows.assign(outcome=pd.Categorical.from_codes(codes, categories=PREDICTION_OUTCOMES))[COLUMNS]


def outcome_counts(table: pd.DataFrame) -> dict[str, int]:
    """Items per outcome, every outcome of PREDICTION_OUTCOMES listed (0 included)."""
    counts = table["outcome"].value_counts()
    return {outcome: int(counts.get(outcome, 0)) for outcome in PREDICTION_OUTCOMES}


def filter_predictions(table: pd.DataFrame, *, outcomes: Iterable[str] | None = None, category: str | None = None,
                       search: str = "", sort: str = "score_desc") -> pd.DataFrame:
    """Rows of ``predictions_table`` with one of ``outcomes`` (None: any), in ``category`` (None:
    any; ``MISSING_CATEGORY`` for none), whose text or id contains ``search`` (case-insensitive,
    literal), in the order ``sort`` (a key of SORTS)."""
    return table.iloc[matching_rows(table, outcomes=outcomes, category=category, search=search, sort=sort)]


def matching_rows(table: pd.DataFrame, *, outcomes: Iterable[str] | None = None, category: str | None = None,
                  search: str = "", sort: str = "score_desc") -> np.ndarray:
    """The positions in ``table`` of ``filter_predictions``' rows, in its order: a page takes its
    slice of them, so no filter or sort copies a million rows' text."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {sorted(SORTS)}, got {sort!r}")
    keep = np.ones(len(table), dtype=bool)
    if outcomes is not None:
        keep &= table["outcome"].isin(list(outcomes)).to_numpy()
    if category is not None:  # the table names a missing category MISSING_CATEGORY
        keep &= (table["category"] == category).to_numpy(dtype=bool)
    if search:
        keep &= text_matches(table["text"], table["item_id"], search)
    at = np.flatnonzero(keep)
    if sort == "golden":
        return at
    score = table["score"].to_numpy()[at]
    key = -score if sort == "score_desc" else score
    return at[np.argsort(np.where(np.isnan(key), np.inf, key), kind="stable")]  # no score: last, in golden order


def predictions_page(rows: pd.DataFrame, workspace: Path, *, page: int = 1, page_size: int = 50,
                     order: np.ndarray | None = None) -> tuple[pd.DataFrame, int]:
    """One page of ``rows`` with a ``thumbnail`` first in place of ``image`` and ``video`` (only this
    page's images and videos are opened), and the number of pages. With ``order`` (``matching_rows``),
    the page is of ``rows.iloc[order]``, and only its rows are taken."""
    if order is None:
        shown, pages = page_of(rows, page, page_size)
    else:
        positions, pages = page_of(pd.Series(order), page, page_size)
        shown = rows.iloc[positions.to_numpy()]
    shown = shown.assign(outcome=shown["outcome"].astype(str))  # as words, not the table's categories
    return with_thumbnails(shown, workspace).drop(columns=["image", "video"]).reset_index(drop=True), pages


def predictions_csv(rows: pd.DataFrame) -> bytes:
    """``rows`` (of ``predictions_table``) as UTF-8 CSV a spreadsheet cannot run: a cell starting
    with ``=``, ``+``, ``-``, ``@`` gets a leading apostrophe (``csv_safe``). An inline image or
    video (a data URL) is named by its media type and size, not copied (megabytes in one cell)."""
    named = rows[COLUMNS].assign(image=rows["image"].map(image_reference), video=rows["video"].map(video_reference))
    buffer = io.StringIO()
    write_csv(named, buffer)
    return buffer.getvalue().encode("utf-8")
