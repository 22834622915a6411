"""Why a run's items failed: its stored errors grouped by reason, most frequent first.

A message holds the cause and the item's own details (an HTTP body, the tokens the model gave,
a value, the item's id). The reason keeps the cause and drops the details, so that 40 different
HTTP 500 bodies are one reason with 40 items; each item keeps its full message.

Items not scored yet are left out: they are not errors (a resume scores them), and without them
the counts add up to the run's error count shown beside its progress.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ..store import Store

_BATCH = "batch: "
_MIN_ID_LENGTH = 4
_DETAIL_IN_PARENS = re.compile(r"\s*\([^()]*[0-9'\"][^()]*\)")  # ('a', 'b'), (byte b'\xff' at 3)
_REPR = re.compile(r"'(?:[^'\\]|\\.)*'")  # a token or value shown with repr()
_FLOAT = re.compile(r"(?<![\w.])-?(?:\d+\.\d*(?:e[+-]?\d+)?|\d+e[+-]?\d+|nan|inf)(?![\w.])", re.IGNORECASE)


@dataclass(frozen=True)
class RunErrors:
    """A run's errors by reason."""

    table: pd.DataFrame
    """One row per reason, most items first: ``reason``, ``items``."""
    items: pd.DataFrame
    """One row per failed item, grouped in the order of ``table``: ``reason``, ``item``, ``message``
    (the full message as stored)."""

    @property
    def count(self) -> int:
        """Items with an error."""
        return len(self.items)


def error_reason(message: str, item_id: str | None = None) -> str:
    """The cause in ``message`` without the item's details: ``HTTP 500: <body> (gave up after 3
    tries)`` -> ``HTTP 500``; ``neither "0" nor "1" among the top tokens ('a', 'b'); not a
    classification`` -> the same without the tokens. The item's own id (4 characters or more, as
    a whole word) becomes ``<item>``."""
    text = " ".join(str(message).split())
    # A shorter id would match words; an id not in the text needs no pattern (10,000 errors: 10,000 patterns).
    if item_id is not None and len(str(item_id)) >= _MIN_ID_LENGTH and str(item_id) in text:
        text = re.sub(rf"(?<![\w-]){re.escape(str(item_id))}(?![\w-])", "<item>", text)
    prefix = _BATCH if text.startswith(_BATCH) else ""
    head = text[len(prefix):].split(": ", 1)[0]  # what follows ": " is this item's detail
    head = _DETAIL_IN_PARENS.sub("", head)
    head = _FLOAT.sub("…", _REPR.sub("…", head))
    return (prefix + head).strip() or "error with no message"


def group_errors(predictions: pd.DataFrame) -> RunErrors:
    """Group the rows of ``predictions`` (``item_id``, ``error``) that have an error by
    ``error_reason``; ties in count are ordered by reason, items by id."""
    failed = predictions.loc[predictions["error"].notna(), ["item_id", "error"]]
    failed = failed.loc[failed["error"] != "not scored yet"]
    reasons = [error_reason(message, item) for item, message in zip(failed["item_id"], failed["error"])]
    items = pd.DataFrame({"reason": reasons, "item": failed["item_id"].astype(str).tolist(),
                          "message": failed["error"].astype(str).tolist()})
    table = (items.groupby("reason", sort=False).size().rename("items").reset_index()
             .sort_values(["items", "reason"], ascending=[False, True], kind="stable", ignore_index=True))
    rank = {reason: i for i, reason in enumerate(table["reason"])}
    items = items.assign(_rank=items["reason"].map(rank)).sort_values(["_rank", "item"], kind="stable")
    return RunErrors(table, items.drop(columns="_rank").reset_index(drop=True))


def run_errors(store: Store, run_id: str) -> RunErrors:
    """The run's stored errors grouped by reason (``group_errors``)."""
    return group_errors(store.prediction_errors(run_id))
