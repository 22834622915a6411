from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cope_eval.errors import CopeEvalError, ValidationError
from cope_eval.metrics import (
    align_runs, compare_runs, flips, golden_overlap, mcnemar_test, metrics_at_threshold,
    paired_bootstrap_ci
)
from tests.metric_data import frame

IDS = ["a", "b", "c", "d", "e", "f"]
LABELS = [1, 1, 0, 0, 1, 0]
CATS = ["x", "x", "y", "y", "z", "z"]
# right/wrong at 0.5:  A: a✓ b✗ c✓ d✗ e✓ f✓      B: a✓ b✓ c✗ d✗ e✓ f✓ (f errored in B)
RUN_A = frame(LABELS, [0.9, 0.3, 0.2, 0.6, 0.7, 0.1], ids=IDS, category=CATS)
RUN_B = frame(LABELS, [0.95, 0.8, 0.55, 0.9, 0.6, 0.1], [False] * 5 + [True], ids=IDS,
              category=CATS)


def test_same_golden_set():
    overlap = golden_overlap(RUN_A, RUN_B.iloc[::-1])  # order does not matter
    assert overlap.same and overlap.common.tolist() == IDS
    assert overlap.describe() == "both runs cover the same 6 items"


def test_differences_are_found_and_described():
    other = frame([1, 0, 0, 0, 1, 1], np.full(6, 0.5), ids=["a", "b", "c", "d", "g", "h"])
    overlap = golden_overlap(RUN_A, other)
    assert not overlap.same
    assert overlap.common.tolist() == ["a", "c", "d"]
    assert overlap.only_a.tolist() == ["e", "f"]
    assert overlap.only_b.tolist() == ["g", "h"]
    assert overlap.label_changed.tolist() == ["b"]
    text = overlap.describe()
    assert "2 items only in A" in text and "1 items with a changed gold label" in text
    assert "3 items match" in text


def test_hash_difference_alone_is_a_mismatch():
    overlap = golden_overlap(RUN_A, RUN_B, golden_hashes=("sha256:aaa", "sha256:bbb"))
    assert not overlap.same and "hashes differ" in overlap.describe()
    assert golden_overlap(RUN_A, RUN_B, golden_hashes=("sha256:aaa", None)).same


def test_mismatched_runs_are_not_compared_silently():
    shorter = RUN_B.iloc[:4]
    with pytest.raises(CopeEvalError, match="different golden sets: 2 items only in A; 4 items match$") as info:
        compare_runs(RUN_A, shorter)
    # The remedy is named neutrally; the CLI shows it as --intersect (tests/test_cli_errors.py).
    assert info.value.options == ("intersect",) and "on_mismatch" not in str(info.value)
    with pytest.raises(CopeEvalError):
        flips(RUN_A, shorter)
    result = compare_runs(RUN_A, shorter, on_mismatch="intersect")
    assert not result.overlap.same and result.n == 4
    with pytest.raises(ValueError, match="on_mismatch"):
        compare_runs(RUN_A, RUN_B, on_mismatch="ignore")


def test_flips_hand_computed():
    table = flips(RUN_A, RUN_B)
    assert table["item_id"].tolist() == ["b", "c", "d"]  # largest |score change| first
    assert table["outcome"].tolist() == ["fixed", "broken", "both_wrong"]
    assert table["score_change"].tolist() == pytest.approx([0.5, 0.35, 0.3])
    assert table["category"].tolist() == ["x", "y", "y"]
    everything = flips(RUN_A, RUN_B, include_both_right=True)
    assert set(everything["item_id"]) == {"a", "b", "c", "d", "e"}  # f errored in B


def test_flips_with_a_threshold_per_run():
    table = flips(RUN_A, RUN_B, threshold=(0.5, 0.85), include_both_right=True)
    outcomes = dict(zip(table["item_id"], table["outcome"]))
    assert outcomes["e"] == "broken" and outcomes["b"] == "both_wrong"


def test_comparison_hand_computed():
    result = compare_runs(RUN_A, RUN_B)
    assert (result.n, result.errors_a, result.errors_b) == (5, 0, 1)
    assert (result.fixed, result.broken, result.both_wrong, result.both_right) == (1, 1, 1, 2)
    assert result.mcnemar.only_a_right == result.broken
    assert result.mcnemar.only_b_right == result.fixed
    # metrics on the 5 items scored in both; errors counts the one left out
    assert result.metrics_a == replace(metrics_at_threshold(RUN_A.iloc[:5]), errors=1)
    assert result.metrics_b == replace(metrics_at_threshold(RUN_B.iloc[:5]), errors=1)
    delta = result.metrics_b.f1 - result.metrics_a.f1
    assert result.deltas["f1"].estimate == pytest.approx(delta)


def test_comparison_agrees_with_the_parts_on_random_runs():
    rng = np.random.default_rng(0)
    n = 500
    y = rng.integers(0, 2, n)
    s_a = np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1)
    s_b = np.clip(s_a + rng.normal(0.02, 0.1, n), 0, 1)
    err_a, err_b = rng.random(n) < 0.03, rng.random(n) < 0.03
    ids = [f"i{i}" for i in range(n)]
    a, b = frame(y, s_a, err_a, ids=ids), frame(y, s_b, err_b, ids=ids)
    result = compare_runs(a, b.sample(frac=1, random_state=1), threshold=0.45,
                          random_state=9)
    keep = ~(err_a | err_b)
    pa, pb = s_a[keep] >= 0.45, s_b[keep] >= 0.45
    assert result.n == keep.sum()
    assert result.metrics_a.f1 == metrics_at_threshold(
        frame(y[keep], s_a[keep]), threshold=0.45).f1
    assert result.deltas == paired_bootstrap_ci(y[keep], pa, pb, random_state=9)
    assert result.mcnemar == mcnemar_test(y[keep], pa, pb)
    table = flips(a, b, threshold=0.45, include_both_right=True)
    assert len(table) == result.n
    assert (table["outcome"] == "fixed").sum() == result.fixed
    assert table["abs_change"].is_monotonic_decreasing


def test_ids_are_required_and_unique():
    with pytest.raises(ValidationError, match="item_id"):
        golden_overlap({"label": [1], "score": [0.5]}, RUN_B)
    twice = frame([1, 1], [0.5, 0.6], ids=["a", "a"])
    with pytest.raises(ValidationError, match="more than once"):
        compare_runs(twice, RUN_B)


def test_align_several_runs():
    runs = {"v1": RUN_A, "v2": RUN_B.iloc[::-1], "v3": RUN_B.iloc[1:]}
    with pytest.raises(CopeEvalError, match="'v3'"):
        align_runs(runs)
    aligned = align_runs(runs, on_mismatch="intersect")
    assert not aligned.same and not aligned.overlaps["v3"].same
    assert all(f["item_id"].tolist() == IDS[1:] for f in aligned.frames.values())
    assert align_runs({"v1": RUN_A, "v2": RUN_B}).same
    assert isinstance(aligned.frames["v1"], pd.DataFrame)


def test_nothing_left_to_compare_follows_the_stated_rules():
    all_errors = frame(LABELS, np.full(6, 0.5), [True] * 6, ids=IDS)
    result = compare_runs(RUN_A, all_errors, zero_division=1.0)
    assert (result.n, result.errors_b) == (0, 6)
    assert result.metrics_a.n == 0 and result.metrics_a.f1 == 1.0
    assert all((d.estimate, d.low, d.high) == (0.0, 0.0, 0.0) for d in result.deltas.values())
    assert result.mcnemar.p_value == 1.0
    assert flips(RUN_A, all_errors).empty
    disjoint = frame([1, 0], [0.4, 0.6], ids=["p", "q"])
    empty = compare_runs(RUN_A, disjoint, on_mismatch="intersect")
    assert empty.n == 0 and len(empty.overlap.common) == 0


def test_result_serialises():
    record = compare_runs(RUN_A, RUN_B).to_dict()
    assert record["overlap"]["common"] == IDS and record["deltas"]["f1"]["low"] <= 1
