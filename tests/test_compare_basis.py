"""Compare's figures computed once per pair of runs: the lean store read (``run_scores``), the
runs paired once (``pair_runs``, ``compare_paired``, ``paired_flips``) and ``compare_basis``
give the very numbers of the whole-frame path, checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from cope_eval.app import at_threshold, compare_basis, compare_curves
from cope_eval.app._compare_view import SWEEP_POINTS
from cope_eval.golden import make_split
from cope_eval.metrics import (
    compare_paired, compare_runs, flips, overlay_curves, pair_runs, paired_flips, threshold_sweep
)
from cope_eval.store import Store, run_results, run_scores, score_columns
from tests.factories import POLICY_TEXT, make_golden, make_policy
from tests.test_export import scored_run

RNG = np.random.default_rng(7)
N = 300
IDS = [f"i{k:04d}" for k in range(N)]
LABEL = RNG.integers(0, 2, N)


def _run(shift: float, errored: int = 0) -> pd.DataFrame:
    score = np.clip(RNG.normal(0.35 + shift * LABEL, 0.2), 0, 1).round(2)  # ties, on purpose
    error = np.array([None] * N, dtype=object)
    error[RNG.choice(N, errored, replace=False)] = "timeout"
    score[error != None] = np.nan  # noqa: E711 (elementwise)
    return pd.DataFrame({"item_id": IDS, "label": LABEL, "category": RNG.choice(["a", "b", "c"], N),
                         "score": score, "error": error})


A, B = _run(0.3, errored=5), _run(0.4, errored=7)


@pytest.mark.parametrize("threshold", [0.0, 0.31, 0.5, 0.77, 1.0])
def test_paired_figures_are_those_of_compare_runs_and_sklearn(threshold):
    paired = pair_runs(A, B)
    once, whole = compare_paired(paired, threshold=threshold, n_resamples=200), compare_runs(
        A, B, threshold=threshold, n_resamples=200)
    assert once.to_dict() == whole.to_dict()
    both = A["error"].isna() & B["error"].isna()
    y, pb = LABEL[both], (B["score"][both] >= threshold).astype(int)
    assert once.metrics_b.f1 == pytest.approx(f1_score(y, pb, zero_division=0))
    assert once.metrics_b.precision == pytest.approx(precision_score(y, pb, zero_division=0))
    assert once.metrics_b.recall == pytest.approx(recall_score(y, pb, zero_division=0))
    for every in (False, True):
        pd.testing.assert_frame_equal(paired_flips(paired, threshold=threshold, include_both_right=every),
                                      flips(A, B, threshold=threshold, include_both_right=every))


def test_the_paired_arrays_are_read_only():
    paired = pair_runs(A, B)
    with pytest.raises(ValueError):
        paired.by_change[0] = 1
    with pytest.raises(ValueError):
        paired.score_a[0] = 0.5


@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.9])
def test_a_basis_gives_the_figures_of_the_frames(threshold):
    short = B.iloc[:250]  # cut to shared items: the note and every table follow
    for runs in ({"A": A, "B": B}, {"A": A, "S": short}, {"A": A}):
        basis = compare_basis(runs)
        fast, slow = (at_threshold(r, threshold=threshold, focus="A", n_resamples=100) for r in (basis, runs))
        pd.testing.assert_frame_equal(fast.metrics, slow.metrics)
        pd.testing.assert_frame_equal(fast.categories, slow.categories)
        assert fast.focus == slow.focus and fast.note == slow.note
        if len(runs) > 1:
            assert fast.comparison.to_dict() == slow.comparison.to_dict()
            pd.testing.assert_frame_equal(fast.flips, slow.flips)
        shared = A[A["item_id"].isin(list(runs.values())[-1]["item_id"])]
        scored = shared[shared["error"].isna()]
        assert fast.metrics.loc["A", "f1"] == pytest.approx(f1_score(scored["label"], scored["score"] >= threshold))


def test_compare_curves_are_the_overlay_and_sweeps_of_the_frames():
    basis = compare_basis({"A": A, "S": B.iloc[:250]})
    overlay, sweeps = compare_curves(basis, hard_label={"A": False, "S": False})
    expected = overlay_curves({"A": A, "S": B.iloc[:250]}, on_mismatch="intersect")
    for name in expected:
        assert overlay[name].roc.auc == expected[name].roc.auc
        np.testing.assert_array_equal(overlay[name].pr.precision, expected[name].pr.precision)
    assert sweeps["S"].n == int(B.iloc[:250]["error"].isna().sum())
    for name, frame in {"A": A, "S": B.iloc[:250]}.items():  # A lost nothing: its sweep is from its checked run
        alone = threshold_sweep(frame)
        for field in ("threshold", "tp", "fp", "precision", "recall", "f1"):
            np.testing.assert_array_equal(getattr(sweeps[name], field), getattr(alone, field))


def test_run_scores_is_run_results_without_content(workspace):
    golden = make_split(make_golden(40), test_fraction=0.25, seed=0)
    items = golden.items
    scores = {text: 0.9 if label else 0.2 for text, label in zip(items["text"], items["label"])}
    with Store(workspace.private_dir) as store:
        run, _ = scored_run(store, workspace, golden, scores, policy=make_policy(POLICY_TEXT))
        for split in ("dev", "test", "all"):
            full, lean = run_results(store, run.id, split=split), run_scores(store, run.id, split=split)
            assert not {"text", "raw", "latency_ms", "hard_label"} & set(lean.columns)
            # The same frame; a completed run's errors are the score file's Arrow text, not objects.
            pd.testing.assert_frame_equal(full[lean.columns].drop(columns="error"), lean.drop(columns="error"))
            assert full["error"].isna().tolist() == lean["error"].isna().tolist()
            assert full["error"].dropna().tolist() == lean["error"].dropna().tolist()
        assert len(run_scores(store, run.id)) == int((items["split"] == "dev").sum())  # dev unless asked
        asked = []
        kept = run_scores(store, run.id, items_of=lambda h: asked.append(h) or score_columns(store, h))
        assert asked == [run.golden_hash]  # the set's columns come from the caller, for the run's own set
        pd.testing.assert_frame_equal(kept, run_scores(store, run.id))
        wanted = items["id"].iloc[[3, 1]].tolist()
        rows = store.golden_columns(golden.hash, only=["id", "text"], ids=wanted)
        assert list(rows.columns) == ["id", "text"] and set(rows["id"]) == set(wanted)
        lookup = store.golden_lookup(golden.hash, ["text", "image", "video"])
        found = lookup.rows([wanted[0], "not-an-item", wanted[1]])
        assert found["id"].tolist() == [wanted[0], "not-an-item", wanted[1]]
        by_id = items.set_index("id")
        assert found["text"].tolist()[::2] == by_id.loc[wanted, "text"].tolist() and pd.isna(found["text"].iat[1])
        assert list(found.columns) == ["id", "text", "image", "video"]


def test_a_sweep_of_many_scores_is_the_full_sweep_at_evenly_spaced_scores():
    n = 5_000
    rng = np.random.default_rng(3)
    run = pd.DataFrame({"item_id": [f"x{k}" for k in range(n)], "label": rng.integers(0, 2, n), "score": rng.random(n)})
    _, sweeps = compare_curves(compare_basis({"A": run}), hard_label={"A": False})
    full = threshold_sweep(run)
    thin = sweeps["A"]
    assert len(thin.threshold) == SWEEP_POINTS and thin.threshold[[0, -1]].tolist() == full.threshold[[0, -1]].tolist()
    at = np.searchsorted(full.threshold, thin.threshold)
    np.testing.assert_array_equal(full.threshold[at], thin.threshold)  # real scores of the run, none made up
    for field in ("tp", "fp", "precision", "recall", "f1"):
        np.testing.assert_array_equal(getattr(thin, field), getattr(full, field)[at])
