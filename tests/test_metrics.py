import math

import numpy as np
import pytest

from cope_eval.errors import ConfigError
from cope_eval.metrics import (
    ThresholdMetrics, best_f1_threshold, check_threshold, metrics_at_threshold, threshold_for_precision,
    threshold_for_recall, threshold_sweep
)
from cope_eval.metrics._threshold import RATIOS, rates
from tests.metric_data import frame

# gold:   1    1    1    0    0    0    1    0
# score: .9   .8   .5   .7   .5   .2   .1   NaN (errored)
HAND = frame([1, 1, 1, 0, 0, 0, 1, 0], [0.9, 0.8, 0.5, 0.7, 0.5, 0.2, 0.1, 0.3],
             [False] * 7 + [True])


def test_hand_computed_counts_and_ratios():
    m = metrics_at_threshold(HAND)  # score >= 0.5 is "1": .9 .8 .5 | .7 .5
    assert (m.n, m.errors, m.tp, m.fp, m.fn, m.tn) == (7, 1, 3, 2, 1, 1)
    assert m.precision == 3 / 5
    assert m.recall == 3 / 4
    assert m.f1 == 6 / 9
    assert m.accuracy == 4 / 7
    assert m.specificity == 1 / 3
    assert m.positive_rate == 5 / 7


def test_score_equal_to_threshold_is_positive():
    assert metrics_at_threshold(frame([1], [0.5]), threshold=0.5).tp == 1
    assert metrics_at_threshold(frame([1], [0.5]), threshold=0.5000001).tp == 0


def test_zero_division_rule_is_explicit():
    nothing = frame([0, 0], [0.1, 0.2])  # no gold 1, nothing predicted 1
    assert metrics_at_threshold(nothing).precision == 0.0
    strict = metrics_at_threshold(nothing, zero_division=1.0)
    assert (strict.precision, strict.recall, strict.f1) == (1.0, 1.0, 1.0)
    assert strict.specificity == 1.0  # defined: tn / (tn + fp) = 2 / 2
    undefined = metrics_at_threshold(nothing, zero_division=float("nan"))
    assert math.isnan(undefined.precision) and undefined.accuracy == 1.0


def test_empty_and_all_error_runs():
    for results in (frame([], []), frame([0, 1], [0.3, 0.9], [True, True])):
        m = metrics_at_threshold(results)
        assert (m.n, m.tp, m.fp, m.fn, m.tn) == (0, 0, 0, 0, 0)
        assert all(getattr(m, r) == 0.0 for r in RATIOS)
    assert metrics_at_threshold(frame([0, 1], [0.3, 0.9], [True, True])).errors == 2


def test_record_round_trips_through_counts_and_dict():
    m = metrics_at_threshold(HAND, threshold=0.6)
    again = ThresholdMetrics.from_counts(0.6, m.tp, m.fp, m.fn, m.tn, errors=m.errors)
    assert again == m
    assert m.to_dict()["f1"] == m.f1 and set(m.to_dict()) >= set(RATIOS)


def test_rates_are_elementwise():
    r = rates(np.array([1, 0]), np.array([1, 0]), np.array([0, 0]), np.array([2, 0]))
    assert r["precision"].tolist() == [0.5, 0.0]
    assert r["accuracy"].tolist() == [0.75, 0.0]


def test_bad_zero_division_raises_value_error():
    with pytest.raises(ValueError):
        metrics_at_threshold(HAND, zero_division=5)


@pytest.mark.parametrize("value", [1.2, -0.1, float("nan"), float("inf"), -float("inf"), "1.5", "nan", "abc", None,
                                   True])
def test_the_one_threshold_check_refuses_what_is_not_a_number_from_0_to_1(value):
    with pytest.raises(ConfigError, match=r"^--threshold must be a number from 0 to 1, not "):
        check_threshold(value, source="--threshold")
    with pytest.raises(ConfigError, match=r"^Threshold must be a number from 0 to 1"):
        metrics_at_threshold(HAND, threshold=value)


@pytest.mark.parametrize("value, number", [(0, 0.0), (1, 1.0), ("0", 0.0), ("0.25", 0.25), (np.float64(1.0), 1.0)])
def test_zero_and_one_are_thresholds(value, number):
    assert check_threshold(value) == number
    assert metrics_at_threshold(HAND, threshold=value).threshold == number


def test_sweep_at_distinct_scores_ascending():
    sweep = threshold_sweep(HAND)
    assert sweep.threshold.tolist() == [0.1, 0.2, 0.5, 0.7, 0.8, 0.9]
    assert sweep.tp.tolist() == [4, 3, 3, 2, 2, 1]
    assert sweep.fp.tolist() == [3, 3, 2, 1, 0, 0]
    assert (sweep.tp + sweep.fp + sweep.fn + sweep.tn == 7).all()
    at_half = metrics_at_threshold(HAND)
    i = sweep.threshold.tolist().index(0.5)
    assert (sweep.precision[i], sweep.recall[i], sweep.f1[i]) == (
        at_half.precision, at_half.recall, at_half.f1)
    assert list(sweep.to_frame().columns)[:2] == ["threshold", "tp"]


def test_sweep_on_a_grid_and_bad_grid():
    sweep = threshold_sweep(HAND, thresholds=[0.95, 0.0, 0.6])
    assert sweep.threshold.tolist() == [0.0, 0.6, 0.95]
    assert sweep.tp.tolist() == [4, 2, 0]
    for bad in ([0.5, float("nan")], [-0.1, 0.5], [0.5, 1.01]):
        with pytest.raises(ConfigError, match="Every threshold must be a number from 0 to 1"):
            threshold_sweep(HAND, thresholds=bad)


def test_hard_label_sweep_is_one_point_and_says_so():
    hard = frame([1, 0, 1, 0], [1.0, 1.0, 0.0, 0.0])
    sweep = threshold_sweep(hard, hard_label=True)
    assert sweep.threshold.tolist() == [0.5]
    assert (sweep.tp[0], sweep.fp[0]) == (1, 1)
    assert "hard-label" in sweep.note


def test_empty_sweep_says_so():
    sweep = threshold_sweep(frame([1], [0.4], [True]))
    assert len(sweep.threshold) == 0 and sweep.note == "no scored items (1 errored)"


def test_best_f1_picks_highest_f1_and_reports_metrics_there():
    choice = best_f1_threshold(HAND)
    # F1 by threshold: .1: 8/11, .2: 6/9=.667, .5: 6/9, .7: 4/7, .8: 4/6, .9: 2/5
    assert choice.found and choice.threshold == 0.1
    assert choice.metrics == metrics_at_threshold(HAND, threshold=0.1)
    assert choice.metrics.errors == 1


def test_best_f1_ties_go_to_the_highest_threshold():
    tied = frame([1, 0, 0, 1], [0.9, 0.8, 0.7, 0.6])  # F1 at .9 = 2/3, at .6 = 4/6
    assert best_f1_threshold(tied).threshold == 0.9


def test_precision_target_takes_lowest_threshold_reaching_it():
    choice = threshold_for_precision(HAND, 0.6)
    # precision: .1: 4/7, .2: 3/6, .5: 3/5, .7: 2/3, .8: 1, .9: 1
    assert choice.threshold == 0.5 and choice.metrics.precision == 0.6
    assert threshold_for_precision(HAND, 1.0).threshold == 0.8


def test_recall_target_takes_highest_threshold_reaching_it():
    # recall: .1: 1, .2: .75, .5: .75, .7: .5, .8: .5, .9: .25
    assert threshold_for_recall(HAND, 0.75).threshold == 0.5
    assert threshold_for_recall(HAND, 0.0).threshold == 0.9


def test_unreachable_target_and_empty_input_find_nothing():
    low = frame([0, 0, 1], [0.9, 0.8, 0.1])
    miss = threshold_for_precision(low, 0.9)
    assert not miss.found and miss.threshold is None and miss.metrics is None
    assert "precision >= 0.9" in miss.note
    empty = best_f1_threshold(frame([], []))
    assert not empty.found and empty.note == "no items"
    with pytest.raises(ValueError, match="target"):
        threshold_for_recall(HAND, 1.1)


def test_hard_label_pickers_use_the_single_operating_point():
    hard = frame([1, 0, 1, 0], [1.0, 1.0, 0.0, 0.0])
    choice = best_f1_threshold(hard, hard_label=True)
    assert choice.threshold == 0.5 and "hard-label" in choice.note
    assert choice.metrics == metrics_at_threshold(hard)
