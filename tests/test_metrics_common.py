"""Properties every metric shares, checked over one registry (as scikit-learn's test_common).

Each entry names one value our library computes, the scikit-learn (or numpy) reference for it,
where the reference is defined, and the rule we state for input where it is not (empty, all
errors, one class). Every entry is then checked on random data and on named edge cases for:
agreement with the reference (or the stated rule), errored rows being ignored, row order not
mattering, and DataFrame / mapping / ScoredRun input giving the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from sklearn.calibration import calibration_curve

from cope_eval.metrics import (
    best_f1_threshold, bootstrap_ci, calibration, check_results, metrics_at_threshold, pr_curve,
    roc_curve, score_histogram, slice_metrics, threshold_for_precision, threshold_for_recall,
    threshold_sweep
)
from tests.metric_data import edge_cases, frame, runs

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # sklearn's undefined-metric
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
T = 0.5


@dataclass(frozen=True)
class Case:
    ours: Callable  # results -> value
    ref: Callable  # (y, s, category) of the scored rows -> value
    defined: Callable = lambda y, s: len(y) > 0  # where ref applies
    rule: Callable = lambda y, s: 0.0  # our stated value elsewhere
    frames_only: bool = False  # needs DataFrame columns a ScoredRun does not keep


def _pred(s):
    return (s >= T).astype(int)


def _prfs(index, zd):
    def ref(y, s, c):
        return skm.precision_recall_fscore_support(y, _pred(s), average="binary",
                                                   zero_division=zd)[index]
    return ref


def _cm(index):
    return lambda y, s, c: skm.confusion_matrix(y, _pred(s), labels=[0, 1]).ravel()[index]


def _pr(y, s):
    p, r, t = skm.precision_recall_curve(y, s)
    return p[:-1][::-1], r[:-1][::-1], t[::-1]


def _roc(y, s):
    return skm.roc_curve(y, s, drop_intermediate=False)


def _both_classes(y, s):
    return 0 < np.sum(y) < len(y)


def _has_pos(y, s):
    return np.sum(y) > 0


def _has_neg(y, s):
    return len(y) - np.sum(y) > 0


def _n_thresholds(y, s):
    return len(np.unique(s))


def _ece(y, s, strategy):
    prob_true, prob_pred = calibration_curve(y, s, n_bins=5, strategy=strategy)
    edges = (np.percentile(s, np.linspace(0, 100, 6)) if strategy == "quantile"
             else np.linspace(0, 1, 6))
    counts = np.bincount(np.searchsorted(edges[1:-1], s), minlength=5)
    return np.sum(counts[counts > 0] * np.abs(prob_true - prob_pred)) / len(y)


def _best_f1(y, s):
    ts = np.unique(s)
    f1 = np.array([skm.f1_score(y, s >= t, zero_division=0.0) for t in ts])
    return ts[np.flatnonzero(np.isclose(f1, f1.max(), rtol=0, atol=1e-12))[-1]]


def _first(y, s, score_fn, target, pick):
    ts = np.unique(s)
    ok = [t for t in ts if score_fn(y, s >= t, zero_division=0.0) >= target]
    return ok[pick] if ok else None


def _slice_mean_f1(y, s, c):
    values = [skm.f1_score(y[c == k], _pred(s[c == k]), zero_division=0.0)
              for k in np.unique(c)]
    return float(np.mean(values)) if values else 0.0


CASES = {
    # at a threshold
    "tp": Case(lambda r: metrics_at_threshold(r).tp, _cm(3)),
    "fp": Case(lambda r: metrics_at_threshold(r).fp, _cm(1)),
    "fn": Case(lambda r: metrics_at_threshold(r).fn, _cm(2)),
    "tn": Case(lambda r: metrics_at_threshold(r).tn, _cm(0)),
    "precision": Case(lambda r: metrics_at_threshold(r).precision, _prfs(0, 0.0)),
    "recall": Case(lambda r: metrics_at_threshold(r).recall, _prfs(1, 0.0)),
    "f1": Case(lambda r: metrics_at_threshold(r).f1, _prfs(2, 0.0)),
    "precision_zd1": Case(lambda r: metrics_at_threshold(r, zero_division=1.0).precision,
                          _prfs(0, 1.0), rule=lambda y, s: 1.0),
    "recall_zd1": Case(lambda r: metrics_at_threshold(r, zero_division=1.0).recall,
                       _prfs(1, 1.0), rule=lambda y, s: 1.0),
    "f1_zd1": Case(lambda r: metrics_at_threshold(r, zero_division=1.0).f1, _prfs(2, 1.0),
                   rule=lambda y, s: 1.0),
    "accuracy": Case(lambda r: metrics_at_threshold(r).accuracy,
                     lambda y, s, c: skm.accuracy_score(y, _pred(s))),
    "specificity": Case(lambda r: metrics_at_threshold(r).specificity,
                        lambda y, s, c: skm.recall_score(y, _pred(s), pos_label=0,
                                                         zero_division=0.0)),
    "positive_rate": Case(lambda r: metrics_at_threshold(r).positive_rate,
                          lambda y, s, c: np.mean(_pred(s))),
    # curves
    "pr.threshold": Case(lambda r: pr_curve(r).threshold, lambda y, s, c: _pr(y, s)[2],
                         rule=lambda y, s: np.array([])),
    "pr.precision": Case(lambda r: pr_curve(r).precision, lambda y, s, c: _pr(y, s)[0],
                         rule=lambda y, s: np.array([])),
    "pr.recall": Case(lambda r: pr_curve(r).recall, lambda y, s, c: _pr(y, s)[1],
                      defined=_has_pos, rule=lambda y, s: np.zeros(_n_thresholds(y, s))),
    "average_precision": Case(lambda r: pr_curve(r).average_precision,
                              lambda y, s, c: skm.average_precision_score(y, s),
                              defined=_has_pos, rule=lambda y, s: None),
    "roc.threshold": Case(lambda r: roc_curve(r).threshold, lambda y, s, c: _roc(y, s)[2],
                          rule=lambda y, s: np.array([])),
    "roc.fpr": Case(lambda r: roc_curve(r).fpr, lambda y, s, c: _roc(y, s)[0],
                    defined=_has_neg,
                    rule=lambda y, s: np.zeros(_n_thresholds(y, s) + (len(y) > 0))),
    "roc.tpr": Case(lambda r: roc_curve(r).tpr, lambda y, s, c: _roc(y, s)[1],
                    defined=_has_pos,
                    rule=lambda y, s: np.zeros(_n_thresholds(y, s) + (len(y) > 0))),
    "roc_auc": Case(lambda r: roc_curve(r).auc, lambda y, s, c: skm.roc_auc_score(y, s),
                    defined=_both_classes, rule=lambda y, s: None),
    # calibration
    "brier": Case(lambda r: calibration(r).brier,
                  lambda y, s, c: skm.brier_score_loss(y, s, labels=[0, 1]),
                  rule=lambda y, s: None),
    "reliability.uniform": Case(
        lambda r: np.concatenate([(c := calibration(r, n_bins=5)).fraction_positive,
                                  c.mean_score]),
        lambda y, s, c: np.concatenate(calibration_curve(y, s, n_bins=5)),
        rule=lambda y, s: np.array([])),
    "reliability.quantile": Case(
        lambda r: np.concatenate([(c := calibration(r, n_bins=5, strategy="quantile"))
                                  .fraction_positive, c.mean_score]),
        lambda y, s, c: np.concatenate(calibration_curve(y, s, n_bins=5,
                                                         strategy="quantile")),
        rule=lambda y, s: np.array([])),
    "ece.uniform": Case(lambda r: calibration(r, n_bins=5).ece,
                        lambda y, s, c: _ece(y, s, "uniform"), rule=lambda y, s: None),
    "ece.quantile": Case(lambda r: calibration(r, n_bins=5, strategy="quantile").ece,
                         lambda y, s, c: _ece(y, s, "quantile"), rule=lambda y, s: None),
    "histogram": Case(
        lambda r: np.concatenate([(h := score_histogram(r, n_bins=8)).count_positive,
                                  h.count_negative]),
        lambda y, s, c: np.concatenate([np.histogram(s[y == 1], bins=8, range=(0, 1))[0],
                                        np.histogram(s[y == 0], bins=8, range=(0, 1))[0]]),
        defined=lambda y, s: True),
    # functions of the threshold
    "sweep.f1": Case(lambda r: threshold_sweep(r).f1,
                     lambda y, s, c: [skm.f1_score(y, s >= t, zero_division=0.0)
                                      for t in np.unique(s)],
                     rule=lambda y, s: np.array([])),
    "sweep.precision_on_grid": Case(
        lambda r: threshold_sweep(r, thresholds=[0.0, 0.3, 0.5, 0.95, 1.0]).precision,
        lambda y, s, c: [skm.precision_score(y, s >= t, zero_division=0.0)
                         for t in (0.0, 0.3, 0.5, 0.95, 1.0)],
        rule=lambda y, s: np.zeros(5)),
    "best_f1_threshold": Case(lambda r: best_f1_threshold(r).threshold,
                              lambda y, s, c: _best_f1(y, s), rule=lambda y, s: None),
    "threshold_for_precision": Case(
        lambda r: threshold_for_precision(r, 0.6).threshold,
        lambda y, s, c: _first(y, s, skm.precision_score, 0.6, 0), rule=lambda y, s: None),
    "threshold_for_recall": Case(
        lambda r: threshold_for_recall(r, 0.6).threshold,
        lambda y, s, c: _first(y, s, skm.recall_score, 0.6, -1), rule=lambda y, s: None),
    # derived tables
    "bootstrap.f1_estimate": Case(
        lambda r: bootstrap_ci(r, n_resamples=20).intervals["f1"].estimate, _prfs(2, 0.0)),
    "slices.mean_f1": Case(lambda r: slice_metrics(r).mean["f1"], _slice_mean_f1,
                           frames_only=True),
}


def _expected(case: Case, label, score, errored, category):
    ok = ~np.asarray(errored, bool)
    y, s = np.asarray(label, int)[ok], np.asarray(score, float)[ok]
    c = np.asarray(category, dtype=object)[ok]
    return case.ref(y, s, c) if case.defined(y, s) else case.rule(y, s)


def _assert_same(ours, expected, name):
    if expected is None or ours is None:
        assert ours is expected, f"{name}: {ours!r} != {expected!r}"
        return
    ours, expected = np.asarray(ours, float), np.asarray(expected, float)
    assert ours.shape == expected.shape, f"{name}: shape {ours.shape} != {expected.shape}"
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-12, err_msg=name)


NAMES = sorted(CASES)
EDGES = edge_cases()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("edge", sorted(EDGES))
def test_edge_cases_follow_reference_or_stated_rule(name, edge):
    label, score, errored, category = EDGES[edge]
    case = CASES[name]
    ours = case.ours(frame(label, score, errored, category=category))
    _assert_same(ours, _expected(case, label, score, errored, category), f"{name}/{edge}")


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=runs())
def test_random_runs_follow_reference_or_stated_rule(name, data):
    case = CASES[name]
    ours = case.ours(frame(*data[:3], category=data[3]))
    _assert_same(ours, _expected(case, *data), name)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=runs())
def test_errored_rows_change_nothing(name, data):
    label, score, errored, category = data
    case = CASES[name]
    with_errors = frame(label, score, errored, category=category)
    # An errored row may still carry a score: the error text alone must exclude it.
    with_errors.loc[errored, "score"] = 0.5
    keep = ~errored
    without = frame(label[keep], score[keep], category=category[keep])
    _assert_same(case.ours(with_errors), case.ours(without), name)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=runs())
def test_row_order_does_not_matter(name, data):
    label, score, errored, category = data
    order = np.random.default_rng(len(label)).permutation(len(label))
    case = CASES[name]
    shuffled = frame(label[order], score[order], errored[order], category=category[order])
    _assert_same(case.ours(shuffled), case.ours(frame(label, score, errored,
                                                        category=category)), name)


@pytest.mark.parametrize("name", NAMES)
def test_frame_mapping_and_scored_run_agree(name):
    label, score, errored, category = EDGES["some_errors"]
    results = frame(label, score, errored, category=category)
    case = CASES[name]
    expected = case.ours(results)
    _assert_same(case.ours({c: results[c].to_numpy() for c in results}), expected, name)
    if not case.frames_only:
        _assert_same(case.ours(check_results(results)), expected, name)
