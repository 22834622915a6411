import numpy as np
import pytest

from cope_eval.metrics import calibration, score_histogram
from tests.metric_data import frame


def test_hand_computed_reliability_brier_and_ece():
    results = frame([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8])
    c = calibration(results, n_bins=2)  # bins [0, .5], (.5, 1]
    assert c.bin.tolist() == [0, 1]
    assert c.mean_score.tolist() == pytest.approx([0.2, 0.7])
    assert c.fraction_positive.tolist() == [0.0, 1.0]
    assert c.count.tolist() == [2, 2]
    assert c.brier == pytest.approx((0.01 + 0.09 + 0.16 + 0.04) / 4)
    assert c.ece == pytest.approx(0.5 * 0.2 + 0.5 * 0.3)


def test_score_on_inner_edge_falls_in_lower_bin_as_sklearn():
    c = calibration(frame([1], [0.5]), n_bins=2)
    assert c.bin.tolist() == [0]


def test_empty_bins_have_no_point():
    c = calibration(frame([0, 1], [0.05, 0.95]), n_bins=10)
    assert c.bin.tolist() == [0, 9] and len(c.bin_edges) == 11


def test_hard_label_brier_is_error_rate_and_is_noted():
    c = calibration(frame([1, 0, 1, 0], [1.0, 1.0, 0.0, 0.0]), hard_label=True)
    assert c.brier == 0.5
    assert "hard-label" in c.note and "error rate" in c.note


def test_empty_and_all_error_runs_give_none():
    for results in (frame([], []), frame([1], [0.4], [True])):
        c = calibration(results)
        assert c.brier is None and c.ece is None and len(c.count) == 0 and c.note


def test_one_class_is_defined():
    c = calibration(frame([0, 0], [0.2, 0.4]))
    assert c.brier == pytest.approx(0.1) and c.ece == pytest.approx(0.3)


def test_histogram_splits_by_gold_label_and_counts_errors():
    h = score_histogram(frame([1, 0, 1, 0], [0.95, 0.05, 1.0, 0.3], [False] * 3 + [True]),
                        n_bins=4)
    assert h.count_positive.tolist() == [0, 0, 0, 2]
    assert h.count_negative.tolist() == [1, 0, 0, 0]
    assert (h.n, h.errors) == (3, 1)
    assert np.allclose(h.bin_edges, [0, 0.25, 0.5, 0.75, 1])


@pytest.mark.parametrize("kwargs", [{"n_bins": 0}, {"n_bins": 2.5}, {"strategy": "kmeans"}])
def test_bad_options(kwargs):
    with pytest.raises(ValueError):
        calibration(frame([0, 1], [0.2, 0.8]), **kwargs)
