import json
import math

import numpy as np
import pytest

from cope_eval.metrics import pr_curve, roc_curve
from tests.metric_data import frame

# gold 1 1 0 1 0 at scores .9 .8 .7 .6 .2
SMALL = frame([1, 1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.2])


def test_hand_computed_pr_curve_and_average_precision():
    c = pr_curve(SMALL)
    assert c.threshold.tolist() == [0.9, 0.8, 0.7, 0.6, 0.2]
    assert c.precision.tolist() == [1, 1, 2 / 3, 3 / 4, 3 / 5]
    assert c.recall.tolist() == [1 / 3, 2 / 3, 2 / 3, 1, 1]
    # AP = 1/3 * 1 + 1/3 * 1 + 0 + 1/3 * 3/4
    assert c.average_precision == pytest.approx((1 + 1 + 0.75) / 3, abs=1e-15)
    assert (c.n, c.n_pos, c.note) == (5, 3, "")


def test_hand_computed_roc_curve_and_auc():
    c = roc_curve(SMALL)
    assert math.isinf(c.threshold[0])
    assert c.fpr.tolist() == [0, 0, 0, 0.5, 0.5, 1]
    assert c.tpr.tolist() == [0, 1 / 3, 2 / 3, 2 / 3, 1, 1]
    # 5 of the 6 (positive, negative) pairs are ranked right
    assert c.auc == pytest.approx(5 / 6, abs=1e-15)


def test_hard_label_curves_are_one_point_with_no_area():
    hard = frame([1, 0, 1, 0, 1], [1.0, 1.0, 0.0, 0.0, 1.0])
    pr = pr_curve(hard, hard_label=True)
    roc = roc_curve(hard, hard_label=True)
    assert pr.threshold.tolist() == [0.5] and roc.threshold.tolist() == [0.5]
    assert (pr.precision[0], pr.recall[0]) == (2 / 3, 2 / 3)
    assert (roc.fpr[0], roc.tpr[0]) == (0.5, 2 / 3)
    assert pr.average_precision is None and roc.auc is None
    assert "hard-label" in pr.note and "hard-label" in roc.note


def test_hard_label_run_that_never_says_one_uses_zero_division():
    pr = pr_curve(frame([1, 0], [0.0, 0.0]), hard_label=True, zero_division=1.0)
    assert (pr.precision[0], pr.recall[0]) == (1.0, 0.0)


def test_one_class_runs_say_what_is_undefined():
    negatives = frame([0, 0, 0], [0.2, 0.5, 0.9])
    pr, roc = pr_curve(negatives), roc_curve(negatives)
    assert pr.average_precision is None and "no gold '1'" in pr.note
    assert roc.auc is None and "no gold '1'" in roc.note
    assert np.isnan(pr_curve(negatives, zero_division=float("nan")).recall).all()
    positives = frame([1, 1], [0.2, 0.9])
    assert pr_curve(positives).average_precision == 1.0
    assert roc_curve(positives).auc is None and "no gold '0'" in roc_curve(positives).note


def test_empty_and_all_error_curves():
    for results, note in ((frame([], []), "no items"),
                          (frame([1, 0], [0.5, 0.5], [True, True]), "no scored items (2")):
        pr, roc = pr_curve(results), roc_curve(results)
        assert len(pr.threshold) == len(roc.threshold) == 0
        assert pr.average_precision is None and roc.auc is None
        assert pr.note.startswith(note) and roc.note.startswith(note)


def test_errors_are_counted():
    c = pr_curve(frame([1, 0, 1], [0.9, 0.1, 0.5], [False, False, True]))
    assert (c.n, c.errors) == (2, 1)


def test_curves_serialise():
    record = roc_curve(SMALL).to_dict()
    assert record["threshold"][0] == float("inf")
    json.dumps(pr_curve(SMALL).to_dict())
