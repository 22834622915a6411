"""Tables and labels the app pages show, shaped from store records. No Streamlit here.

Every function returns plain values or DataFrames, so the pages only lay them out. Frames that
can be large (golden items) are filtered and cut to one page before anything per-row happens.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import RowProblem
from ..golden import SPLIT_SOURCE
from ..policies import label_versions
from ..records import GoldenSet, PolicyVersion, Run, short_id

MISSING_CATEGORY = "(missing)"
"""How items without a category are named in balance tables and filters."""

_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(text: str) -> str:
    """``text`` with every ASCII punctuation character backslash-escaped, so Markdown shows it
    literally: no links, images, HTML, emphasis, colour directives or LaTeX from user content."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))



def version_history(versions: Sequence[PolicyVersion], runs: Iterable[Run]) -> pd.DataFrame:
    """Newest version first: its label (v1, v2, ...) and hash, who saved it, when, why, from which
    parent, and which runs used it."""
    versions = list(versions)
    labels = label_versions(versions)
    used: dict[str, list[str]] = {}
    for run in runs:
        used.setdefault(run.policy_version_id, []).append(run.id)
    rows = [{
        "version": labels[v.id], "hash": short_id(v.id), "created": v.created, "author": v.author, "note": v.note,
        "parent": labels.get(v.parent, short_id(v.parent)) if v.parent else "", "runs": len(used.get(v.id, [])),
        "run ids": ", ".join(used.get(v.id, [])),
    } for v in reversed(versions)]
    return pd.DataFrame(rows, columns=["version", "hash", "created", "author", "note", "parent", "runs", "run ids"])


def golden_set_label(row) -> str:
    """One line for a golden-set menu, from a row of ``Store.golden_sets()``: a version drawn as a
    dev/test split says so; another version with a parent is a label correction."""
    derived = ""
    if isinstance(row["parent_hash"], str) and row["parent_hash"]:
        split = isinstance(row["source"], str) and row["source"].startswith(SPLIT_SOURCE)
        derived = " · dev/test split" if split else " · corrected"
    return f"{row['name']} · {int(row['n_items']):,} items · {short_id(row['hash'])}{derived}"


def golden_set_labels(golden_sets: pd.DataFrame) -> dict[str, str]:
    """Hash -> menu label, newest first."""
    return {row["hash"]: golden_set_label(row) for _, row in golden_sets.iloc[::-1].iterrows()}


def label_balance(items: pd.DataFrame) -> pd.DataFrame:
    """Gold "1" and "0" per category, all items first. The share is of each row's items."""
    category = items["category"].astype(object).where(items["category"].notna(), MISSING_CATEGORY)
    frame = pd.DataFrame({"category": category.astype(str), "label": items["label"].astype(int)})
    per = frame.groupby("category", sort=True)["label"].agg(["size", "sum"])
    total = pd.DataFrame({"size": [len(frame)], "sum": [int(frame["label"].sum())]}, index=["(all)"])
    only_missing = list(per.index) == [MISSING_CATEGORY]
    table = total if only_missing or per.empty else pd.concat([total, per])
    out = pd.DataFrame({"category": table.index.astype(str), "items": table["size"].to_numpy(),
                        "gold 1": table["sum"].to_numpy(), "gold 0": (table["size"] - table["sum"]).to_numpy()})
    # An empty set has no share of "1": say so with a missing value, not 0.
    out["share 1"] = np.where(out["items"] > 0, out["gold 1"] / out["items"].where(out["items"] > 0, 1), np.nan)
    return out.reset_index(drop=True)


def categories(items: pd.DataFrame) -> list[str]:
    """Distinct categories, sorted, with ``MISSING_CATEGORY`` last when some items have none."""
    present = items["category"].dropna().astype(str).unique().tolist()
    return sorted(present) + ([MISSING_CATEGORY] if items["category"].isna().any() else [])


def filter_items(items: pd.DataFrame, *, search: str = "", label: int | None = None,
                 category: str | None = None) -> pd.DataFrame:
    """Items whose text or id contains ``search`` (case-insensitive, literal), with the label and
    category asked for (None: any)."""
    keep = np.ones(len(items), dtype=bool)
    if label is not None:
        keep &= (items["label"] == label).to_numpy()
    if category is not None:
        if category == MISSING_CATEGORY:
            keep &= items["category"].isna().to_numpy()
        else:
            keep &= (items["category"].astype(object) == category).fillna(False).to_numpy(dtype=bool)
    if search:
        keep &= text_matches(items["text"], items["id"], search)
    return items[keep]


def text_matches(text: pd.Series, ids: pd.Series, search: str) -> np.ndarray:
    """Where ``text`` or ``ids`` contains ``search`` (case-insensitive, literal), as bools."""
    needle = search.casefold()
    hit = text.fillna("").str.casefold().str.contains(needle, regex=False)
    hit |= ids.astype(str).str.casefold().str.contains(needle, regex=False)
    return hit.to_numpy(dtype=bool)


def split_sizes(items: pd.DataFrame) -> tuple[int, int] | None:
    """(dev items, test items) of a golden set's items; None when it has no split."""
    if "split" not in items.columns or not items["split"].notna().any():
        return None
    test = int((items["split"] == "test").sum())
    return len(items) - test, test


def page_of(frame: pd.DataFrame, page: int, page_size: int = 50) -> tuple[pd.DataFrame, int]:
    """Rows of 1-based page ``page`` (clamped to the pages there are) and the number of pages."""
    pages = max(1, math.ceil(len(frame) / page_size))
    page = min(max(1, int(page)), pages)
    return frame.iloc[(page - 1) * page_size: page * page_size], pages


def page_note(total: int, page: int, page_size: int = 50) -> str:
    """Which rows 1-based page ``page`` (clamped as ``page_of`` does) holds, of ``total``:
    "rows 51–100 of 1,234", or "no rows" for an empty table."""
    if total <= 0:
        return "no rows"
    page = min(max(1, int(page)), math.ceil(total / page_size))
    first, last = (page - 1) * page_size + 1, min(page * page_size, total)
    return f"rows {first:,}–{last:,} of {total:,}"


def upload_note(max_upload_mb: float, golden_sets_dir: Path) -> str:
    """What the golden-set uploader takes, and how to load a larger file: the upload is held whole
    in the app's memory, while a file in the workspace's ``golden_sets/`` folder is read from disk.
    Markdown, with the folder path escaped."""
    return (f"Uploads up to {max_upload_mb:g} MB (the app's `server.maxUploadSize`). A larger file: copy it "
            f"into the workspace's golden_sets/ folder, {escape_markdown(Path(golden_sets_dir).resolve())}, and pick it in "
            "\"…or load a file from the workspace's golden_sets/ folder\" below; or score it from the command "
            "line with `cope-eval run --golden FILE`.")


def problems_table(problems: Sequence[RowProblem]) -> pd.DataFrame:
    """One row per problem: row number (blank for the whole file), column, value, problem."""
    rows = [{"row": p.row, "column": p.column or "", "value": "" if p.value is None else p.value,
             "problem": p.problem} for p in problems]
    frame = pd.DataFrame(rows, columns=["row", "column", "value", "problem"])
    frame["row"] = frame["row"].astype("Int64")
    return frame


def golden_preview(golden: GoldenSet, n: int = 50) -> pd.DataFrame:
    """The first ``n`` items, canonical columns only."""
    return golden.items[["id", "text", "label", "image", "category"]].head(n)


def files_table(files: dict[str, bytes | int]) -> pd.DataFrame:
    """File name and size in bytes (given, or of the file's bytes), in the given order."""
    return pd.DataFrame({"file": list(files),
                         "bytes": [data if isinstance(data, int) else len(data) for data in files.values()]})
