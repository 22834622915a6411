"""Carrying an operating point from run A to run B (``metrics.transfer_threshold``), checked on
synthetic scores whose answer is known and against a brute-force scan of every B threshold with
scikit-learn's precision and recall."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import precision_score, recall_score

from cope_eval.cli._output import dumps
from cope_eval.errors import ConfigError, ValidationError
from cope_eval.metrics import (
    CHANGES, KEEPS, bootstrap_ci, metrics_at_threshold, threshold_for_flag_rate, threshold_for_precision,
    threshold_for_recall, transfer_threshold
)
from tests.metric_data import frame, runs


def brute_force(label, score_b, keep, target):
    """B's threshold by the rule of ``keep``, scanning every distinct B score with scikit-learn."""
    thresholds = np.unique(score_b)
    values = []
    for t in thresholds:
        predicted = (score_b >= t).astype(int)
        values.append({"precision": lambda: precision_score(label, predicted, zero_division=0),
                       "recall": lambda: recall_score(label, predicted, zero_division=0),
                       "flag-rate": lambda: predicted.mean()}[keep]())
    values = np.array(values)
    if keep == "flag-rate":
        gap = np.abs(values - target)
        return thresholds[np.isclose(gap, gap.min(), rtol=0, atol=1e-12)].max(), True
    reached = thresholds[values >= target]
    if len(reached):
        return (reached.min() if keep == "precision" else reached.max()), True
    best = thresholds[values == values.max()]  # out of reach: where B comes closest, by the same rule
    return (best.min() if keep == "precision" else best.max()), False


def scored(n=400, seed=0, base=0.4):
    """(label, score): a noisy classifier, gold-1 scores higher on average."""
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < base).astype(int)
    score = np.clip(rng.normal(0.35 + 0.3 * label, 0.15), 0.0, 1.0).round(6)
    return label, score


# --- B a monotone transform of A: the answer is known exactly -----------------------------------------

TRANSFORMS = {"cube": lambda s: s ** 3, "sharpen": lambda s: 1 / (1 + ((1 - s) / np.maximum(s, 1e-12)) ** 4)}


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("threshold_a", [0.0, 0.3, 0.5, 0.62, 1.0])
def test_a_monotone_transform_keeps_the_flag_rate_at_exactly_the_transformed_threshold(transform, threshold_a):
    label, score = scored()
    f = TRANSFORMS[transform]
    a, b = frame(label, score), frame(label, f(score))

    t = transfer_threshold(a, b, threshold_a=threshold_a, keep="flag-rate")

    flagged = score >= threshold_a
    if flagged.any():  # A's operating point is its lowest flagged score: B's is that item's B score
        # (B's own score of that item, not f applied again to a scalar: numpy may round an array
        # element and a scalar a last bit apart)
        assert t.threshold_b == f(score)[flagged].min()
        counts = ("tp", "fp", "fn", "tn")
        assert [getattr(t.metrics_b, c) for c in counts] == [getattr(t.metrics_a, c) for c in counts]
        assert t.achieved == t.target and t.reachable
        assert all(c.change.estimate == 0 for c in t.changes.values())
    else:  # A flags nothing: no B threshold (its distinct scores) does; the closest flags the top item
        assert t.target == 0 and t.threshold_b == f(score).max() and "as closely as" in t.rationale


@pytest.mark.parametrize("keep, picker", [("precision", threshold_for_precision), ("recall", threshold_for_recall)])
@pytest.mark.parametrize("threshold_a", [0.0, 0.3, 0.5, 0.62])
def test_a_monotone_transform_keeps_precision_and_recall_where_a_itself_would(keep, picker, threshold_a):
    """B's rule picks the transform of the threshold the same rule picks on A: every metric is equal."""
    label, score = scored(seed=1)
    f = TRANSFORMS["sharpen"]
    a, b = frame(label, score), frame(label, f(score))

    t = transfer_threshold(a, b, threshold_a=threshold_a, keep=keep)

    on_a = picker(a, t.target)
    assert t.threshold_b == f(on_a.threshold)
    assert t.metrics_b.to_dict() | {"threshold": 0} == on_a.metrics.to_dict() | {"threshold": 0}
    assert t.achieved >= t.target and t.reachable
    assert t.threshold_b == brute_force(label, f(score), keep, t.target)[0]


# --- every rule against a brute-force scan ----------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(runs(max_size=40), runs(max_size=40), st.sampled_from(KEEPS), st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0]))
def test_every_rule_matches_a_brute_force_scan_of_b(run_a, run_b, keep, threshold_a):
    label, score_a, errored_a, _ = run_a
    _, score_b, errored_b, _ = run_b
    n = min(len(label), len(score_b))
    label, score_a, errored_a, score_b, errored_b = label[:n], score_a[:n], errored_a[:n], score_b[:n], errored_b[:n]
    a, b = frame(label, score_a, errored_a), frame(label, score_b, errored_b)
    both = ~errored_a & ~errored_b
    y, s_a, s_b = label[both], score_a[both], score_b[both]
    flagged_a = s_a >= threshold_a
    undefined = (not both.any() or (keep == "precision" and not flagged_a.any())
                 or (keep == "recall" and not y.any()))
    if undefined:
        with pytest.raises(ConfigError):
            transfer_threshold(a, b, threshold_a=threshold_a, keep=keep, n_resamples=20)
        return

    t = transfer_threshold(a, b, threshold_a=threshold_a, keep=keep, n_resamples=20)

    expected_target = {"precision": lambda: precision_score(y, flagged_a), "recall": lambda: recall_score(y, flagged_a),
                       "flag-rate": lambda: flagged_a.mean()}[keep]()
    assert t.target == pytest.approx(expected_target, abs=1e-12)
    assert (t.threshold_b, t.reachable) == brute_force(y, s_b, keep, t.target)
    assert t.n == both.sum() and t.metrics_a.errors == t.metrics_b.errors == (~both).sum()
    assert t.same_items == both.all()


@settings(max_examples=100, deadline=None)
@given(runs(max_size=40), st.floats(0.0, 1.0))
def test_threshold_for_flag_rate_matches_a_brute_force_scan(run, target):
    label, score, errored, _ = run
    choice = threshold_for_flag_rate(frame(label, score, errored), target)
    ok = ~errored
    if not ok.any():
        assert not choice.found and choice.note.startswith("no ")
        return
    assert choice.found and choice.threshold == brute_force(label[ok], score[ok], "flag-rate", target)[0]
    assert choice.metrics.positive_rate == np.mean(score[ok] >= choice.threshold)


# --- B more confident, or out of reach ------------------------------------------------------------

def test_a_more_confident_b_reaches_as_precision_at_a_higher_threshold():
    label, score = scored(n=600, seed=2)
    rng = np.random.default_rng(3)
    confident = np.clip(np.where(label == 1, rng.beta(6, 1.5, len(label)), rng.beta(1.5, 6, len(label))), 0, 1)
    pushed = np.clip(0.5 + 1.6 * (confident - 0.5), 0, 1).round(6)  # mass pushed to 0 and 1

    t = transfer_threshold(frame(label, score), frame(label, pushed), threshold_a=0.5, keep="precision")

    assert t.reachable and t.achieved >= t.target
    assert t.threshold_b == brute_force(label, pushed, "precision", t.target)[0]
    assert t.metrics_b.recall > t.metrics_a.recall  # a better model keeps the precision at more recall
    assert t.changes["recall"].change.low > 0  # and the gain is no noise
    assert t.rationale.startswith(f"Keeps the precision of run A ({t.target:.3f} at threshold 0.5) on run B: "
                                  f"threshold {t.threshold_b:.6g} gives precision {t.achieved:.3f}, recall ")


def test_a_precision_b_never_reaches_is_said_plainly_and_b_comes_as_close_as_it_can():
    label = np.array([1, 1, 1, 0, 0, 0, 1, 0])
    a = frame(label, [0.9, 0.8, 0.7, 0.2, 0.1, 0.3, 0.4, 0.35])  # precision 1.0 at 0.5
    b = frame(label, [0.6, 0.7, 0.5, 0.95, 0.1, 0.3, 0.4, 0.2])  # B's top score is a gold 0

    t = transfer_threshold(a, b, threshold_a=0.5, keep="precision", names=("run-a", "run-b"))

    assert t.target == 1.0 and not t.reachable
    assert (t.threshold_b, t.achieved) == (0.4, 0.8)  # B's best precision (4 of 5), at its lowest threshold
    assert t.threshold_b == brute_force(label, b["score"].to_numpy(), "precision", 1.0)[0]
    assert t.rationale == ("run-b cannot keep the precision of run-a (1.000 at threshold 0.5): its highest is 0.800, "
                           "at threshold 0.4, with recall 1.000 (was 0.750).")


def test_flag_rate_ties_go_to_the_higher_threshold_even_when_the_gaps_differ_in_the_last_bit():
    # A flags half its items; B (three items) can flag 1/3 or 2/3: equally far, but not in floats.
    assert abs(1 / 3 - 0.5) > abs(2 / 3 - 0.5)
    choice = threshold_for_flag_rate(frame([1, 0, 1], [0.1, 0.2, 0.3]), 0.5)
    assert (choice.threshold, choice.metrics.positive_rate) == (0.3, 1 / 3)
    assert choice.note == "chosen among 3 distinct scores for the flag rate closest to 0.5"


# --- the items compared, errors, hard labels, thresholds 0 and 1 -------------------------------------

def test_runs_over_different_items_are_compared_on_the_items_both_scored_and_say_so():
    label, score = scored(n=50, seed=4)
    ids = [f"item-{i}" for i in range(50)]
    errored_a = np.arange(50) == 3
    a = frame(label, score, errored_a, ids=ids)
    b = frame(label[5:], (score[5:] ** 2), np.arange(45) == 10, ids=ids[5:])  # B lacks 5 items, errored on item 15

    t = transfer_threshold(a, b, threshold_a=0.5, keep="recall")

    common = np.isin(ids, ids[5:]) & ~errored_a & (np.array(ids) != "item-15")
    on_common = metrics_at_threshold(frame(label[common], score[common]), threshold=0.5)
    assert t.target == on_common.recall and t.n == common.sum() == 44
    assert not t.same_items and (t.errors_a, t.errors_b) == (0, 1)  # item 3 errored in A is one of the 5 B lacks
    assert "5 items only in A" in t.items and "44 items compared" in t.items
    assert t.rationale.endswith("; on the 44 items both runs scored.")


def test_a_hard_label_b_has_only_the_thresholds_0_and_1_and_says_so():
    label, score = scored(n=100, seed=5)
    labels_b = (score >= 0.55).astype(float)

    t = transfer_threshold(frame(label, score), frame(label, labels_b), threshold_a=0.5, keep="flag-rate")

    assert t.hard_label_b and t.threshold_b in (0.0, 1.0)
    assert "gave labels, not probabilities: its only thresholds are 1 (its own labels) and 0" in t.note
    assert t.rationale.endswith("(run B gave labels: thresholds 0 and 1 only).")
    with pytest.raises(ValidationError, match="hard-label run has scores 0.0 or 1.0 only"):
        transfer_threshold(frame(label, score), frame(label, score), threshold_a=0.5, keep="recall", hard_label_b=True)


def test_thresholds_0_and_1_are_values_and_an_undefined_target_is_refused_in_words():
    label, score = scored(n=80, seed=6)
    score = np.minimum(score, 0.99)  # so that A flags nothing at threshold 1
    a, b = frame(label, score), frame(label, score ** 2)

    everything = transfer_threshold(a, b, threshold_a=0.0, keep="precision")
    assert everything.target == label.mean() and everything.threshold_b == (score ** 2).min()
    assert everything.metrics_b.positive_rate == 1.0

    assert transfer_threshold(a, b, threshold_a=1.0, keep="recall").threshold_b == (score ** 2).max()
    with pytest.raises(ConfigError, match="At threshold 1 run A flags none of the 80 items both runs scored, so "
                                          "its precision is undefined"):
        transfer_threshold(a, b, threshold_a=1.0, keep="precision")
    with pytest.raises(ConfigError, match="None of the 80 items both runs scored is gold 1"):
        transfer_threshold(frame(label * 0, score), b.assign(label=0), threshold_a=0.5, keep="recall")


@pytest.mark.parametrize("options, message", [
    (dict(keep="f1"), "Cannot keep 'f1': keep one of precision, recall, flag-rate."),
    (dict(keep="recall", threshold_a=1.5), "Run A's threshold must be a number from 0 to 1, not 1.5."),
])
def test_bad_keep_or_threshold_is_an_error_in_words(options, message):
    label, score = scored(n=20)
    with pytest.raises(ConfigError) as error:
        transfer_threshold(frame(label, score), frame(label, score), **{"threshold_a": 0.5, **options})
    assert str(error.value) == message


def test_no_item_scored_by_both_runs_is_an_error():
    a = frame([1, 0], [0.9, 0.1], ids=["x", "y"])
    b = frame([1, 0], [0.9, 0.1], ids=["p", "q"])
    with pytest.raises(ConfigError, match="run A and run B have no item in common that both scored"):
        transfer_threshold(a, b, threshold_a=0.5, keep="flag-rate")


# --- what else changes, with intervals -------------------------------------------------------------

def test_changes_report_both_runs_with_their_bootstrap_intervals_and_the_paired_change():
    label, score = scored(n=300, seed=7)
    rng = np.random.default_rng(8)
    other = np.clip(score + rng.normal(0, 0.1, len(score)), 0, 1).round(6)
    a, b = frame(label, score), frame(label, other)

    t = transfer_threshold(a, b, threshold_a=0.5, keep="precision", n_resamples=400, random_state=3)

    assert tuple(t.changes) == CHANGES
    boot_a = bootstrap_ci(a, threshold=0.5, metrics=("precision", "recall", "specificity"), n_resamples=400,
                          random_state=3).intervals
    assert t.changes["precision"].a == boot_a["precision"]
    fpr = t.changes["fpr"]
    assert fpr.a.estimate == t.metrics_a.fp / (t.metrics_a.fp + t.metrics_a.tn)
    assert (fpr.a.low, fpr.a.high) == pytest.approx((1 - boot_a["specificity"].high, 1 - boot_a["specificity"].low))
    for name, change in t.changes.items():
        assert change.change.estimate == pytest.approx(change.b.estimate - change.a.estimate, abs=1e-12)
        for interval in (change.a, change.b, change.change):
            assert interval.low <= interval.estimate + 1e-12 and interval.estimate <= interval.high + 1e-12
    assert t.changes["flag_rate"].b.estimate == t.metrics_b.positive_rate
    table = t.to_frame()
    assert list(table.index) == list(CHANGES) and table.loc["recall", "b"] == t.metrics_b.recall
    assert json.loads(dumps(t.to_dict()))["changes"]["fpr"]["change"]["estimate"] == fpr.change.estimate
