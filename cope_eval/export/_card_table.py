"""The model card's table for one's own deployment (``metrics.card_table``) as Markdown and CSV text.

Markdown: the card's layout, areas as rows and, for each side, precision, recall and F1 with
their intervals, the unweighted mean last; then the runs each figure comes from. Every cell goes
through the card's ``_md`` (golden-set names, model names and servers are user content: a ``|``
must not split a cell, a ``<script>`` must stay text). CSV: one row per (side, area) plus each
side's mean row, through ``csv_safe`` (no cell can start a spreadsheet formula). Text only: the
caller writes it where it is asked.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

from .._util.csv_safe import write_csv
from ..metrics import AREA_NO_GOLDEN, AREA_SCORED, SHOWN, CardTable
from ._card import _md, _table

MEAN_ROW = "(unweighted mean)"
"""The area name of a side's mean row (Markdown and CSV)."""
_TITLES = {"precision": "Precision", "recall": "Recall", "f1": "F1"}


def card_table_markdown(table: CardTable, *, descriptions: Mapping[str, str] | None = None) -> str:
    """The table as Markdown; ``descriptions`` says what each side is (model, server, template)."""
    descriptions = descriptions or {}
    header = ["Area"] + [f"{side} {_TITLES[m]}" if len(table.sides) > 1 else _TITLES[m]
                         for side in table.sides for m in SHOWN]
    rows = []
    for area in table.areas:
        cells = [area]
        for side in table.sides:
            row = table.side(side).loc[area]
            cells += [_figure(row, m) for m in SHOWN] if row["status"] == AREA_SCORED else [row["status"]] * len(SHOWN)
        rows.append(cells)
    mean = [f"Unweighted mean ({_areas_note(table)})"]
    for side in table.sides:
        mean += [_figure(table.mean.loc[side], m) if table.mean.loc[side, "areas_in_mean"] else "no scored area"
                 for m in SHOWN]
    rows.append(mean)
    lines = [f"Per-area precision, recall and F1 with {table.confidence:.0%} bootstrap intervals "
             f"({table.n_resamples:,} resamples); the mean weighs every area the same and leaves out areas "
             "without scores; its interval resamples each area's items on their own.", ""]
    if descriptions:
        lines += [f"- {_md(side)}: {_md(descriptions.get(side, ''))}" for side in table.sides] + [""]
    lines += _table(header, rows) + ["", "Runs:", ""]
    run_rows = [[r["side"], r["area"], _short(r["run_id"], None), _short(r["policy_version_id"]),
                 _short(r["golden_name"], None), _short(r["golden_hash"]), "" if r["status"] == AREA_NO_GOLDEN else f"{r['threshold']:g}",
                 f"{r['n']:,}", f"{r['errors']:,}"] for r in table.rows.to_dict(orient="records")]
    lines += _table(["Side", "Area", "Run", "Policy version", "Golden set", "Golden hash", "Threshold", "Scored",
                     "Errors"], run_rows)
    return "\n".join(lines) + "\n"


def card_table_csv(table: CardTable) -> str:
    """The table as CSV text: the per-area rows, then each side's mean row (``MEAN_ROW``)."""
    columns = ["side", "area", "status", "threshold", "n", "errors",
               *[f"{m}{end}" for m in SHOWN for end in ("", "_low", "_high")],
               "run_id", "policy_version_id", "golden_hash", "golden_name"]
    means = table.mean.reset_index().assign(area=MEAN_ROW)
    means["status"] = [f"mean over {n} areas" for n in means["areas_in_mean"]]
    frame = pd.concat([table.rows, means.drop(columns="areas_in_mean")], ignore_index=True).reindex(columns=columns)
    buffer = io.StringIO()
    write_csv(frame, buffer)
    return buffer.getvalue()


def _areas_note(table: CardTable) -> str:
    counts = {int(n) for n in table.mean["areas_in_mean"]}
    n = counts.pop() if len(counts) == 1 else None
    if n is not None:
        return f"over {n} area{'' if n == 1 else 's'}"
    return "over " + ", ".join(f"{int(table.mean.loc[s, 'areas_in_mean'])} areas for {s}" for s in table.sides)


def _figure(row, metric: str) -> str:
    return f"{row[metric]:.3f} [{row[f'{metric}_low']:.3f}, {row[f'{metric}_high']:.3f}]"


def _short(value, width: int | None = 19) -> str:
    """``value`` cut to ``width`` (a hash to its ``sha256:`` and 12 digits); "" when missing."""
    return "" if value is None or value != value else str(value)[:width]

