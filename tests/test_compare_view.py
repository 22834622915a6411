"""The Compare page's numbers at one threshold, flips with content, pickers."""

import numpy as np
import pandas as pd
import pytest

from cope_eval.app import at_threshold, deltas_note, deltas_table, flip_labels, flips_page, pick_threshold
from tests.factories import make_golden

GOLDEN = make_golden(8, categories=["x", "x", "y", "y", "x", "x", "y", "y"])
LABELS = GOLDEN.items["label"].to_numpy()


def _results(scores, golden=GOLDEN) -> pd.DataFrame:
    return pd.DataFrame({"item_id": golden.items["id"], "label": golden.items["label"],
                         "category": golden.items["category"], "score": scores, "error": None})


A = _results(np.where(LABELS == 1, 0.7, 0.3) + np.array([0, -0.5, 0, 0, 0, 0, 0, 0.2]))  # item 1 wrong
B = _results(np.where(LABELS == 1, 0.9, 0.1))


def test_at_threshold_metrics_categories_deltas_and_flips():
    view = at_threshold({"A": A, "B": B}, threshold=0.5, focus="A", n_resamples=200)

    assert view.metrics.index.tolist() == ["A", "B"] and view.note == ""
    assert view.metrics.loc["B", "f1"] == 1.0 and view.metrics.loc["A", "tp"] == 3
    assert view.metrics.loc["B", "f1 95% CI"] == "[1.000, 1.000]"
    assert (view.focus.tp, view.focus.fn) == (3, 1)
    assert view.categories.index.tolist() == ["(unweighted mean)", "x", "y"]
    assert view.categories.columns.tolist()[:4] == ["A · precision", "A · recall", "A · f1", "A · n"]
    assert view.categories.loc["x", "A · n"] == 4
    assert view.comparison.fixed == 1 and view.comparison.broken == 0
    assert set(view.flips["outcome"]) == {"fixed"} and view.flips["item_id"].tolist() == ["item-00001"]
    deltas = deltas_table(view.comparison)
    assert deltas.loc["recall", "B - A"] == pytest.approx(0.25)


def test_one_run_has_no_comparison():
    view = at_threshold({"A": A}, threshold=0.5, focus="A", n_resamples=50)
    assert view.comparison is None and view.flips is None and len(view.metrics) == 1


def test_runs_on_different_items_are_cut_and_say_so():
    smaller = _results(np.full(4, 0.9), make_golden(4))
    view = at_threshold({"A": A, "S": smaller}, threshold=0.5, focus="S", n_resamples=50)
    assert view.metrics["n"].tolist() == [4, 4] and "shared items only" in view.note


def test_errored_items_are_counted_apart():
    errored = B.assign(error=[None] * 7 + ["timeout"], score=list(B["score"][:7]) + [np.nan])
    view = at_threshold({"A": A, "B": errored}, threshold=0.5, focus="B", n_resamples=50)
    assert view.metrics.loc["B", "errors"] == 1 and view.metrics.loc["B", "n"] == 7


@pytest.mark.parametrize("rule,target,threshold", [("max_f1", None, 0.9), ("min_precision", 1.0, 0.9),
                                                   ("min_recall", 1.0, 0.9)])
def test_pick_threshold(rule, target, threshold):
    choice = pick_threshold(B, rule, target=target)
    assert choice.found and choice.threshold == pytest.approx(threshold)


def test_pick_threshold_rejects_unknown_rules():
    with pytest.raises(ValueError, match="rule must be one of"):
        pick_threshold(B, "min_f1")


def test_flips_page_joins_text_and_filters_by_outcome(workspace):
    flipped = at_threshold({"A": A, "B": B}, threshold=0.5, focus="A", n_resamples=50).flips
    rows, pages = flips_page(flipped, GOLDEN.items, workspace.root)
    assert pages == 1 and rows["text"].tolist() == ["post number 1"]
    assert rows.columns.tolist()[:4] == ["outcome", "item_id", "thumbnail", "text"]
    assert flips_page(flipped, GOLDEN.items, workspace.root, outcome="broken")[0].empty


def test_changed_flips_are_the_fixed_and_broken_ones(workspace):
    # Gold 0, 1, 0, 1, ...: D misses items 1 and 3, C misses items 0 and 1, so D -> C breaks item 0,
    # fixes item 3 and item 1 is wrong in both.
    d = _results(np.where(LABELS == 1, 0.7, 0.3) + np.array([0, -0.5, 0, -0.5, 0, 0, 0, 0]))
    c = _results(np.where(LABELS == 1, 0.9, 0.1) + np.array([0.8, -0.8, 0, 0, 0, 0, 0, 0]))
    flipped = at_threshold({"D": d, "C": c}, threshold=0.5, focus="D", n_resamples=50)
    every = flips_page(flipped.flips, GOLDEN.items, workspace.root)[0]
    changed = flips_page(flipped.flips, GOLDEN.items, workspace.root, outcome="changed")[0]

    assert sorted(every["outcome"]) == ["both_wrong", "broken", "fixed"]
    assert sorted(changed["outcome"]) == ["broken", "fixed"]
    assert flip_labels(flipped.comparison) == {"changed": "decision changed (2)", "fixed": "fixed (1)",
                                               "broken": "broken (1)", "both_wrong": "both wrong (1)"}


def test_deltas_note_names_the_run_whose_figures_differ():
    errored_b = B.assign(error=[None] * 6 + ["timeout"] * 2, score=list(B["score"][:6]) + [np.nan] * 2)
    errored_a = A.assign(error=["timeout"] + [None] * 7, score=[np.nan] + list(A["score"][1:]))

    only_b = deltas_note(at_threshold({"A": A, "B": errored_b}, threshold=0.5, focus="A", n_resamples=20))
    both = deltas_note(at_threshold({"A": errored_a, "B": errored_b}, threshold=0.5, focus="A", n_resamples=20))

    assert only_b == ("A scored 8 items and B 6 (an item with an error has no score): the deltas are on the 6 "
                      "items both scored, so their A figures differ from the table above.")
    assert "A scored 7 items and B 6" in both and "the 5 items both scored, so their A and B figures" in both
    assert deltas_note(at_threshold({"A": A, "B": B}, threshold=0.5, focus="A", n_resamples=20)) == ""
    assert deltas_note(at_threshold({"A": A}, threshold=0.5, focus="A", n_resamples=20)) == ""
