"""Tables the Insight page's ablation and attribution tabs show. No Streamlit here."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from pandas.io.formats.style import Styler

from ..insight import StudyKind
from ..policies import Clause, Hunk
from ..store import Store
from ._background import RunManager
from ._study_progress import live_study_status

_GAIN, _LOSS = "background-color: #e8f5e9", "background-color: #fdecea"


def clause_table(clauses: Sequence[Clause]) -> pd.DataFrame:
    """One row per clause: id, section, kind, lines and text."""
    return pd.DataFrame({
        "clause": [c.id for c in clauses], "section": [c.section for c in clauses], "kind": [c.kind for c in clauses],
        "lines": [f"{c.first_line}-{c.last_line}" if c.last_line > c.first_line else str(c.first_line)
                  for c in clauses],
        "text": [c.text for c in clauses],
    })


def hunk_table(hunks: Sequence[Hunk]) -> pd.DataFrame:
    """One row per hunk: id, kind, where, and its old and new lines."""
    return pd.DataFrame({
        "hunk": [h.id for h in hunks], "kind": [h.kind for h in hunks], "where": [h.where for h in hunks],
        "old (A)": ["\n".join(h.old_lines) for h in hunks], "new (B)": ["\n".join(h.new_lines) for h in hunks],
    })


def signed_colours(frame: pd.DataFrame, columns: Sequence[str], *, digits: int = 3) -> Styler:
    """``frame`` styled for st.dataframe: green where a column is above 0, red below."""
    def colour(value) -> str:
        return _GAIN if value > 0 else _LOSS if value < 0 else ""

    present = [c for c in columns if c in frame.columns]
    return frame.style.map(colour, subset=present).format(precision=digits, subset=present)


def with_text(frame: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (with an item_id column) and each item's golden text right after the id."""
    out = frame.reset_index(drop=True)
    out.insert(1, "text", items.set_index("id")["text"].reindex(out["item_id"]).to_numpy())
    return out


def study_choices(store: Store, manager: RunManager, kind: StudyKind, base_run_id: str,
                  **params) -> dict[str, str]:
    """Studies of ``kind`` on ``base_run_id`` whose params include ``params``, newest first:
    id -> label (time, items, status, who started it)."""
    found = [s for s in reversed(store.studies(kind.name)) if s.base_run_id == base_run_id
             and all(s.params.get(k) == v for k, v in params.items())]
    return {s.id: f"{s.created[:19].replace('T', ' ')} · {s.params.get('selection', '?')} · "
                  f"{s.params.get('items', '?')} items · {len(s.runs)} variants · "
                  f"{live_study_status(store, manager, s)}"
                  + (f" · by {s.author}" if s.author else "")
            for s in found}

