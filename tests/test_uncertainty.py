import subprocess
import sys

import numpy as np
import pytest
import sklearn.metrics as skm
from scipy import stats

from cope_eval.metrics import bootstrap_ci, mcnemar_test, metrics_at_threshold, paired_bootstrap_ci
from tests.metric_data import frame

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # sklearn's undefined-metric


def _sample(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = np.clip(rng.normal(0.3 + 0.35 * y, 0.25), 0, 1)
    return y, s


def _naive_quantiles(values, confidence=0.95):
    tail = (1 - confidence) / 2
    return np.quantile(values, [tail, 1 - tail])


def test_matches_a_naive_index_bootstrap_scored_with_sklearn():
    y, s = _sample()
    ours = bootstrap_ci(frame(y, s), n_resamples=2000, random_state=1)
    rng = np.random.default_rng(2)
    idx = rng.integers(0, len(y), size=(1000, len(y)))  # the textbook index matrix
    pred = (s >= 0.5).astype(int)
    naive = np.array([skm.precision_recall_fscore_support(y[i], pred[i], average="binary",
                                                          zero_division=0.0)[:3]
                      for i in idx])
    for k, name in enumerate(("precision", "recall", "f1")):
        low, high = _naive_quantiles(naive[:, k])
        interval = ours.intervals[name]
        assert interval.low == pytest.approx(low, abs=0.015), name
        assert interval.high == pytest.approx(high, abs=0.015), name
        assert interval.low < interval.estimate < interval.high


def test_estimates_are_the_metrics_at_the_threshold():
    y, s = _sample()
    result = bootstrap_ci(frame(y, s), threshold=0.4, metrics=("f1", "accuracy"))
    m = metrics_at_threshold(frame(y, s), threshold=0.4)
    assert list(result.intervals) == ["f1", "accuracy"]
    assert result.intervals["f1"].estimate == m.f1
    assert result.intervals["accuracy"].estimate == m.accuracy


def test_seeded_and_reproducible():
    y, s = _sample()
    a = bootstrap_ci(frame(y, s), random_state=5)
    assert a == bootstrap_ci(frame(y, s), random_state=5)
    assert a != bootstrap_ci(frame(y, s), random_state=6)
    assert bootstrap_ci(frame(y, s), random_state=np.random.default_rng(5)) == a


def test_wider_confidence_gives_wider_intervals_and_more_data_narrower():
    y, s = _sample(n=400)
    narrow = bootstrap_ci(frame(y, s), confidence=0.5).intervals["f1"]
    wide = bootstrap_ci(frame(y, s), confidence=0.99).intervals["f1"]
    assert wide.high - wide.low > narrow.high - narrow.low
    big = bootstrap_ci(frame(*_sample(n=40_000))).intervals["f1"]
    assert big.high - big.low < (wide.high - wide.low) / 3


def test_empty_and_all_error_runs_give_point_intervals():
    for results in (frame([], []), frame([1, 0], [0.2, 0.9], [True, True])):
        result = bootstrap_ci(results, zero_division=1.0)
        assert all((i.estimate, i.low, i.high) == (1.0, 1.0, 1.0)
                   for i in result.intervals.values())
        assert result.note


def test_one_class_recall_stays_at_zero_division():
    result = bootstrap_ci(frame([0, 0, 0, 0], [0.1, 0.6, 0.7, 0.2]))
    recall = result.intervals["recall"]
    assert (recall.estimate, recall.low, recall.high) == (0.0, 0.0, 0.0)
    nan = bootstrap_ci(frame([0, 0, 0, 0], [0.1, 0.6, 0.7, 0.2]),
                       zero_division=float("nan")).intervals["recall"]
    assert np.isnan(nan.estimate) and np.isnan(nan.low)


def test_counts_errors_and_settings():
    result = bootstrap_ci(frame([1, 0, 1], [0.9, 0.2, 0.5], [False, False, True]),
                          n_resamples=50)
    assert (result.n, result.errors, result.n_resamples) == (2, 1, 50)


@pytest.mark.parametrize("kwargs", [{"metrics": ("auc",)}, {"metrics": ()},
                                    {"n_resamples": 0}, {"confidence": 1.5}])
def test_bad_options(kwargs):
    with pytest.raises(ValueError):
        bootstrap_ci(frame([0, 1], [0.2, 0.8]), **kwargs)


def test_paired_deltas_match_a_naive_paired_bootstrap():
    y, s = _sample()
    rng = np.random.default_rng(3)
    s_b = np.clip(s + rng.normal(0.05, 0.1, len(s)), 0, 1)
    pa, pb = s >= 0.5, s_b >= 0.5
    ours = paired_bootstrap_ci(y, pa, pb, n_resamples=2000, random_state=4)
    f1 = lambda yy, p: skm.f1_score(yy, p, zero_division=0.0)  # noqa: E731
    assert ours["f1"].estimate == pytest.approx(f1(y, pb) - f1(y, pa), abs=1e-12)
    # The index-matrix bootstrap, scored with numpy (F1's formula is checked against sklearn
    # in test_metrics_common); 4000 resamples keep the Monte Carlo error small.
    idx = rng.integers(0, len(y), size=(4000, len(y)))

    gold = y.astype(bool)[idx]

    def f1_rows(pred):  # 2tp / (2tp + fp + fn) = 2tp / (predicted 1 + gold 1)
        return 2 * np.sum(gold & pred[idx], axis=1) / (np.sum(pred[idx], axis=1)
                                                       + np.sum(gold, axis=1))

    low, high = _naive_quantiles(f1_rows(pb) - f1_rows(pa))
    assert ours["f1"].low == pytest.approx(low, abs=0.01)
    assert ours["f1"].high == pytest.approx(high, abs=0.01)


def test_identical_predictions_have_zero_deltas():
    y, s = _sample()
    deltas = paired_bootstrap_ci(y, s >= 0.5, s >= 0.5)
    assert all((d.estimate, d.low, d.high) == (0.0, 0.0, 0.0) for d in deltas.values())
    empty = paired_bootstrap_ci([], [], [])
    assert empty["f1"].estimate == 0.0
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap_ci([1], [1, 0], [0])


def test_mcnemar_exact_hand_computed():
    # B fixes all 5 items A got wrong: p = 2 * 0.5**5
    result = mcnemar_test([1] * 5 + [0] * 3, [0] * 5 + [0] * 3, [1] * 5 + [0] * 3)
    assert (result.n, result.only_a_right, result.only_b_right) == (8, 0, 5)
    assert result.method == "exact binomial"
    assert result.p_value == pytest.approx(0.0625)
    assert result.statistic == 0.0


@pytest.mark.parametrize("only_a, only_b", [(3, 9), (1, 0), (12, 12), (0, 20)])
def test_mcnemar_exact_matches_scipy(only_a, only_b):
    y = np.ones(only_a + only_b + 4, int)
    a = np.r_[np.ones(only_a), np.zeros(only_b), np.ones(4)]
    b = np.r_[np.zeros(only_a), np.ones(only_b), np.ones(4)]
    result = mcnemar_test(y, a, b)
    expected = stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue
    assert result.p_value == pytest.approx(expected)


def test_mcnemar_chi_square_with_continuity_correction():
    y = np.zeros(40, int)
    a = np.r_[np.zeros(30), np.ones(10)]  # A right on the first 30
    b = np.r_[np.ones(30), np.zeros(10)]  # B right on the last 10
    result = mcnemar_test(y, a, b)
    assert result.method == "chi-square with continuity correction"
    assert result.statistic == pytest.approx((20 - 1) ** 2 / 40)
    assert result.p_value == pytest.approx(stats.chi2.sf((20 - 1) ** 2 / 40, 1))
    balanced = mcnemar_test(np.zeros(60, int), np.r_[np.zeros(30), np.ones(30)],
                            np.r_[np.ones(30), np.zeros(30)])
    assert (balanced.statistic, balanced.p_value) == (0.0, 1.0)


def test_mcnemar_without_discordant_items_and_switch_point():
    same = mcnemar_test([1, 0, 1], [1, 1, 0], [1, 1, 0])
    assert (same.statistic, same.p_value, same.method) == (0.0, 1.0, "exact binomial")
    forced = mcnemar_test([1, 1], [0, 1], [1, 1], exact_below=0)
    assert forced.method.startswith("chi-square")


def test_mcnemar_matches_scipy_at_every_split_of_up_to_60_discordant_items():
    for discordant in range(1, 61):
        for only_a in range(discordant + 1):
            only_b = discordant - only_a
            y = np.ones(discordant, bool)
            a = np.r_[np.ones(only_a, bool), np.zeros(only_b, bool)]
            result = mcnemar_test(y, a, ~a)
            if discordant < 25:
                expected = stats.binomtest(min(only_a, only_b), discordant, 0.5).pvalue
            else:
                expected = stats.chi2.sf(max(abs(only_a - only_b) - 1, 0) ** 2 / discordant, 1)
            assert result.p_value == pytest.approx(min(expected, 1.0), rel=1e-12), (only_a, only_b)


def test_mcnemar_does_not_import_scipy_stats():
    """scipy.stats takes a second to import: a page's first comparison must not wait for it."""
    code = ("import sys, numpy as np; from cope_eval.metrics import mcnemar_test; "
            "mcnemar_test(np.ones(40, bool), np.r_[np.ones(30, bool), np.zeros(10, bool)], np.zeros(40, bool)); "
            "mcnemar_test([1, 1], [0, 1], [1, 1]); print('scipy.stats' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
