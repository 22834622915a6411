import json

import numpy as np
import plotly.graph_objects as go
import pytest

from cope_eval.charts import _metrics as charts
from cope_eval.metrics import (
    best_f1_threshold, calibration, metrics_at_threshold, overlay_curves, pr_curve, roc_curve, threshold_sweep
)
from tests.metric_data import frame

N = 5000
RNG = np.random.default_rng(0)
Y = RNG.integers(0, 2, N)
IDS = [f"i{i}" for i in range(N)]
CATS = RNG.choice(["drugs", "hate"], N)
A = frame(Y, np.clip(RNG.normal(0.3 + 0.4 * Y, 0.2), 0, 1), ids=IDS, category=CATS)
B = frame(Y, np.clip(RNG.normal(0.3 + 0.45 * Y, 0.2), 0, 1), ids=IDS, category=CATS)
HARD = frame(Y, (RNG.random(N) < 0.5).astype(float), ids=IDS)


def _points(fig):
    return [len(trace.x) for trace in fig.data]


def test_pr_figure_thins_curves_and_marks_the_chosen_threshold():
    chosen = best_f1_threshold(A)
    fig = charts.pr_figure(pr_curve(A), chosen=chosen, max_points=500)
    assert isinstance(fig, go.Figure)
    assert _points(fig) == [500, 1]
    assert "AP" in fig.data[0].name
    assert fig.data[1].x[0] == chosen.metrics.recall and "max_f1" in fig.data[1].name
    json.loads(fig.to_json())


def test_roc_figure_overlays_runs():
    fig = charts.roc_figure(overlay_curves({"A": A, "B": B}))
    assert [t.name.split(" ")[0] for t in fig.data] == ["A", "B"]
    assert all("AUC" in t.name for t in fig.data)
    assert fig.layout.shapes[0].line.dash == "dash"  # the chance diagonal


def test_hard_label_curve_is_a_marker_with_its_note():
    fig = charts.pr_figure(pr_curve(HARD, hard_label=True))
    assert fig.data[0].mode == "markers" and _points(fig) == [1]
    assert "hard-label" in fig.layout.title.subtitle.text


def test_sweep_figure_marks_the_chosen_threshold():
    chosen = best_f1_threshold(A)
    fig = charts.threshold_sweep_figure(threshold_sweep(A), chosen=chosen, max_points=300)
    assert [t.name for t in fig.data] == ["precision", "recall", "f1"]
    assert max(_points(fig)) <= 300
    assert fig.layout.shapes[0].x0 == chosen.threshold


def test_sweep_figure_overlays_runs_one_trace_per_metric_thinned_with_both_ends():
    sweeps = {"A": threshold_sweep(A), "B": threshold_sweep(B)}
    fig = charts.sweep_figure(sweeps, threshold=0.4, max_points=300)
    assert len(fig.data) == 6 and {t.name for t in fig.data} >= {"A f1", "B recall"}
    assert max(_points(fig)) <= 300
    assert fig.data[0].x[0] == sweeps["A"].threshold[0] and fig.data[0].x[-1] == sweeps["A"].threshold[-1]
    assert fig.layout.shapes[0].x0 == 0.4


def test_calibration_figure():
    fig = charts.calibration_figure({"A": calibration(A), "B": calibration(B)})
    assert len(fig.data) == 2 and "ECE" in fig.data[0].name


def test_confusion_matrix_figure():
    m = metrics_at_threshold(A)
    fig = charts.confusion_matrix_figure(m)
    assert np.asarray(fig.data[0].z).tolist() == [[m.tn, m.fp], [m.fn, m.tp]]


def test_empty_run_figures_do_not_fail():
    empty = frame([], [])
    for fig in (charts.pr_figure(pr_curve(empty)), charts.roc_figure(roc_curve(empty)),
                charts.calibration_figure(calibration(empty)),
                charts.threshold_sweep_figure(threshold_sweep(empty))):
        assert "no items" in fig.layout.title.subtitle.text


def test_wrong_input_type_is_named():
    with pytest.raises(TypeError, match="PRCurve"):
        charts.pr_figure([pr_curve(A)])
