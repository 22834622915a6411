"""Tables and labels the pages show."""

import numpy as np
import pandas as pd
import pytest

from cope_eval.app import (
    categories, escape_markdown, files_table, filter_items, golden_set_labels, label_balance, page_of,
    problems_table, version_history
)
from cope_eval.app._views import MISSING_CATEGORY
from cope_eval.errors import RowProblem
from cope_eval.golden import SPLIT_SOURCE
from cope_eval.records import PolicyVersion, Run, short_id
from tests.factories import make_golden


def _version(n: int, parent=None, note="") -> PolicyVersion:
    return PolicyVersion(f"sha256:{n:064x}", "p", f"text {n}", parent, note, "ana", f"2026-01-0{n}T10:00:00Z")


def _run(run_id: str, version_id: str) -> Run:
    return Run(run_id, version_id, "sha256:" + "9" * 64, "http://h/v1", "m", "cope-b", "logprobs", 0.5, 4,
               "completed", 10, created="2026-01-01T00:00:00")


@pytest.mark.parametrize("hostile", [
    "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "![x](http://evil/x.png)",
    ":red[alarm] :material/home:", "$x^2$", "**bold** _it_ `code` # head", "a\\b",
])
def test_escape_markdown_leaves_no_markdown_syntax(hostile):
    escaped = escape_markdown(hostile)
    assert escaped.replace("\\", "") == hostile.replace("\\", "")
    for ch in "<>[]()!:*_`#$":
        assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c == ch)


def test_version_history_is_newest_first_with_parents_and_runs():
    v1, v2 = _version(1, note="first"), _version(2, parent=f"sha256:{1:064x}", note="second")
    history = version_history([v1, v2], [_run("run-a", v2.id), _run("run-b", v2.id)])

    assert history["note"].tolist() == ["second", "first"]
    assert history["version"].tolist() == ["v2", "v1"] and history["hash"][1] == short_id(v1.id)
    assert history["parent"].tolist() == ["v1", ""]
    assert history["runs"].tolist() == [2, 0] and history["run ids"][0] == "run-a, run-b"
    assert version_history([], []).columns.tolist()[:4] == ["version", "hash", "created", "author"]


def test_golden_set_labels_newest_first_and_mark_corrections():
    frame = pd.DataFrame({"hash": ["sha256:aa", "sha256:bb"], "name": ["x", "x"], "n_items": [3, 3],
                          "source": ["", ""], "parent_hash": [None, "sha256:aa"], "created": ["1", "2"]})
    labels = golden_set_labels(frame)
    assert list(labels) == ["sha256:bb", "sha256:aa"]
    assert labels["sha256:bb"].endswith("corrected") and "3 items" in labels["sha256:aa"]


def test_a_split_version_is_labelled_as_a_split_not_a_correction():
    frame = pd.DataFrame({"hash": ["sha256:aa", "sha256:cc"], "name": ["x", "x"], "n_items": [3, 3],
                          "source": ["", f"{SPLIT_SOURCE}sha256:aa (test fraction 0.3, seed 0)"],
                          "parent_hash": [None, "sha256:aa"], "created": ["1", "2"]})
    assert golden_set_labels(frame)["sha256:cc"].endswith("· dev/test split")


def test_label_balance_per_category_with_all_first():
    golden = make_golden(6, categories=["a", "a", "b", None, "b", "b"])
    balance = label_balance(golden.items)

    assert balance["category"].tolist() == ["(all)", MISSING_CATEGORY, "a", "b"]
    assert balance["items"].tolist() == [6, 1, 2, 3]
    assert balance["gold 1"].tolist() == [3, 1, 1, 1]
    assert balance["share 1"].iloc[0] == pytest.approx(0.5)


def test_label_balance_without_categories_and_empty():
    golden = make_golden(4, categories=[None] * 4)
    assert label_balance(golden.items)["category"].tolist() == ["(all)"]
    empty = label_balance(golden.items.iloc[:0])
    assert empty["items"].tolist() == [0] and np.isnan(empty["share 1"].iloc[0])


def test_filter_items_by_text_label_and_category():
    golden = make_golden(6, texts=["Hello", "hello there", "bye", "<b>HELLO</b>", "x", "y"],
                         categories=["a", "b", "a", None, "b", "a"])
    items = golden.items
    assert filter_items(items, search="HELLO")["id"].tolist() == ["item-00000", "item-00001", "item-00003"]
    assert filter_items(items, search="hello", label=1)["id"].tolist() == ["item-00001", "item-00003"]
    assert filter_items(items, category=MISSING_CATEGORY)["id"].tolist() == ["item-00003"]
    assert filter_items(items, search="item-00004")["text"].tolist() == ["x"]
    assert filter_items(items, search="(.*")["id"].tolist() == []  # literal, not a regex
    assert categories(items) == ["a", "b", MISSING_CATEGORY]


def test_page_of_clamps_and_counts_pages():
    frame = pd.DataFrame({"x": range(120)})
    rows, pages = page_of(frame, 3, 50)
    assert pages == 3 and rows["x"].tolist() == list(range(100, 120))
    assert page_of(frame, 99, 50)[0]["x"].iloc[0] == 100
    assert page_of(frame.iloc[:0], 1)[1] == 1


def test_problems_table_keeps_file_level_problems():
    table = problems_table([RowProblem("f.csv", 2, "label", "maybe", "not 0/1"),
                            RowProblem("f.csv", None, None, None, "not UTF-8")])
    assert table["row"].tolist()[0] == 2 and table["row"].isna().tolist() == [False, True]
    assert table["value"].tolist() == ["maybe", ""]


def test_files_table_keeps_order_and_sizes():
    table = files_table({"b.md": b"12", "a/c.json": b""})
    assert table.values.tolist() == [["b.md", 2], ["a/c.json", 0]]
