import numpy as np
import pytest

from cope_eval.errors import CopeEvalError
from cope_eval.metrics import leaderboard, overlay_curves, pr_curve, roc_curve, slice_metrics
from tests.metric_data import frame

N = 300
RNG = np.random.default_rng(0)
Y = RNG.integers(0, 2, N)
CATS = RNG.choice(["drugs", "hate", "violence"], N)
IDS = [f"i{i}" for i in range(N)]
RUNS = {
    name: frame(Y, np.clip(RNG.normal(0.3 + shift * Y, 0.2), 0, 1), RNG.random(N) < 0.02,
                category=CATS, ids=IDS)
    for name, shift in (("weak", 0.1), ("strong", 0.5), ("middle", 0.3))
}


def test_overview_is_the_unweighted_mean_sorted_by_f1():
    board = leaderboard(RUNS)
    assert board.overview.index.tolist() == ["strong", "middle", "weak"]
    for name, results in RUNS.items():
        table = slice_metrics(results)
        assert board.overview.loc[name, "f1"] == pytest.approx(table.mean["f1"])
        assert board.overview.loc[name, "errors"] == table.overall.errors
    assert board.same and board.slices == ("drugs", "hate", "violence")
    assert board.n_items == N


def test_per_slice_tables_follow_the_model_card_layout():
    board = leaderboard(RUNS)
    hate = board.table("hate")
    assert list(hate.columns) == ["n", "errors", "precision", "recall", "f1"]
    assert hate["f1"].is_monotonic_decreasing
    expected = slice_metrics(RUNS["weak"]).rows.loc["hate", "precision"]
    assert hate.loc["weak", "precision"] == expected
    with pytest.raises(KeyError, match="slices are"):
        board.table("spam")


def test_wide_view_has_mean_then_slices():
    wide = leaderboard(RUNS).wide()
    assert wide.columns[0] == ("mean", "precision")
    assert ("violence", "f1") in wide.columns and len(wide.columns) == 12
    assert wide.index.tolist() == ["strong", "middle", "weak"]


def test_threshold_per_run_and_unsliced():
    board = leaderboard(RUNS, by=None, threshold={"weak": 0.2, "strong": 0.5, "middle": 0.5})
    assert board.overview.loc["weak", "threshold"] == 0.2
    assert board.slices == ("(all)",)


def test_mismatched_golden_sets_raise_or_intersect():
    runs = dict(RUNS, partial=RUNS["weak"].iloc[:100])
    with pytest.raises(CopeEvalError, match="'partial'"):
        leaderboard(runs)
    board = leaderboard(runs, on_mismatch="intersect")
    assert not board.same and board.n_items == 100
    with pytest.raises(CopeEvalError, match="hashes differ"):
        leaderboard(RUNS, golden_hashes={"weak": "sha256:1", "strong": "sha256:2"})


def test_overlay_curves_per_run():
    curves = overlay_curves(RUNS, hard_label={"weak": False})
    assert list(curves) == list(RUNS)
    assert curves["strong"].roc.auc == roc_curve(RUNS["strong"]).auc
    assert curves["weak"].pr.average_precision == pr_curve(RUNS["weak"]).average_precision
    assert curves["middle"].calibration.n_bins == 10
    hard = {"model": frame(Y, (RNG.random(N) < 0.5).astype(float), ids=IDS)}
    assert overlay_curves(hard, hard_label=True)["model"].pr.hard_label
