"""Tables of the ablation and attribution tabs: clause and hunk tables, signed colours, item texts."""

import pandas as pd

from cope_eval.app import clause_table, hunk_table, signed_colours, with_text
from cope_eval.policies import diff_hunks, split_clauses


def test_clause_and_hunk_tables():
    clauses = clause_table(split_clauses("## Overview\n\nOne\ntwo.\n\n#### Includes\n- A.\n"))
    assert clauses.to_dict(orient="list") == {"clause": ["overview-1", "includes-1"], "section": ["Overview", "Includes"],
                                              "kind": ["paragraph", "item"], "lines": ["3-4", "7"],
                                              "text": ["One\ntwo.", "- A."]}
    hunks = hunk_table(diff_hunks("a\nb\n", "a\nc\nd\n"))
    assert hunks.to_dict(orient="records") == [{"hunk": "hunk-1", "kind": "changed", "where": "old 2 → new 2-3",
                                                "old (A)": "b", "new (B)": "c\nd"}]


def test_signed_colours_mark_gains_green_losses_red_and_leave_zero_and_other_columns_plain():
    frame = pd.DataFrame({"name": ["x", "y", "z"], "delta": [0.25, -0.5, 0.0], "other": [-1, 1, 0]})
    styles = dict(signed_colours(frame, ["delta", "missing"])._compute().ctx)
    assert styles == {(0, 1): [("background-color", "#e8f5e9")], (1, 1): [("background-color", "#fdecea")]}


def test_with_text_puts_each_item_s_text_after_its_id_without_touching_the_input():
    frame = pd.DataFrame({"item_id": ["b", "a", "gone"], "delta_p": [0.1, 0.2, 0.3]}, index=[5, 6, 7])
    items = pd.DataFrame({"id": ["a", "b"], "text": ["alpha", "beta"]})
    out = with_text(frame, items)
    assert list(out.columns) == ["item_id", "text", "delta_p"]
    assert out["text"].tolist()[:2] == ["beta", "alpha"] and pd.isna(out["text"].iloc[2])
    assert list(frame.columns) == ["item_id", "delta_p"]
