"""Plotly figures built from the metric results, shared by the app pages and exports.

Every function takes result records (never raw data), returns a ``plotly.graph_objects.Figure``
and computes nothing beyond layout. Curve functions take one curve or a mapping of run name to
curve (or to ``RunCurves``) and overlay them. Curves with more than ``max_points`` points are
thinned to evenly spaced points (ends kept) so a million-item run stays light in a browser.
A degenerate curve (hard-label, empty) shows its ``note`` under the title. Run names carry a
version's note (the analyst's text), so they are HTML-escaped: Plotly reads tags in legend text.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import plotly.graph_objects as go

from .._util.points import evenly_spaced
from ..metrics import (
    SHOWN, CalibrationCurve, PRCurve, ROCCurve, ThresholdChoice, ThresholdMetrics, ThresholdSweep
)

MAX_POINTS = 2000
_DASH = {"precision": "dot", "recall": "dash", "f1": "solid"}
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def pr_figure(curves, *, chosen: ThresholdChoice | None = None,
              max_points: int = MAX_POINTS) -> go.Figure:
    """Precision against recall per run; average precision in the legend."""
    fig, notes = go.Figure(), []
    for name, c in _named(curves, "pr", PRCurve).items():
        keep = evenly_spaced(len(c.threshold), max_points)
        ap = "" if c.average_precision is None else f" (AP {c.average_precision:.3f})"
        fig.add_trace(go.Scatter(
            x=c.recall[keep], y=c.precision[keep], name=f"{name}{ap}", line_shape="vh",
            mode=_mode(c), customdata=c.threshold[keep],
            hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}<br>threshold %{customdata:.4f}"))
        notes.append(_note(name, c.note))
    _mark(fig, chosen, "recall", "precision")
    return _layout(fig, "Precision-recall", "Recall", "Precision", notes)


def roc_figure(curves, *, max_points: int = MAX_POINTS) -> go.Figure:
    """True-positive rate against false-positive rate per run; AUC in the legend."""
    fig, notes = go.Figure(), []
    for name, c in _named(curves, "roc", ROCCurve).items():
        keep = evenly_spaced(len(c.threshold), max_points)
        auc = "" if c.auc is None else f" (AUC {c.auc:.3f})"
        fig.add_trace(go.Scatter(
            x=c.fpr[keep], y=c.tpr[keep], name=f"{name}{auc}", mode=_mode(c),
            customdata=c.threshold[keep],
            hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}<br>threshold %{customdata:.4f}"))
        notes.append(_note(name, c.note))
    _diagonal(fig)
    return _layout(fig, "ROC", "False-positive rate", "True-positive rate", notes)


def threshold_sweep_figure(sweep: ThresholdSweep, *, chosen: ThresholdChoice | None = None,
                           max_points: int = MAX_POINTS) -> go.Figure:
    """Precision, recall and F1 against the threshold, the chosen threshold marked."""
    fig = go.Figure()
    keep = evenly_spaced(len(sweep.threshold), max_points)
    for metric in SHOWN:
        fig.add_trace(go.Scatter(x=sweep.threshold[keep], y=getattr(sweep, metric)[keep],
                                 name=metric, mode=_mode(sweep)))
    if chosen is not None and chosen.found:
        fig.add_vline(x=chosen.threshold, line_dash="dash",
                      annotation_text=f"{chosen.rule}: {chosen.threshold:.3f}")
    return _layout(fig, "Metrics by threshold", "Threshold", "Value", [sweep.note])


def sweep_figure(sweeps: Mapping[str, ThresholdSweep], *, threshold: float,
                 max_points: int = 500) -> go.Figure:
    """Precision (dotted), recall (dashed) and F1 (solid) of every run against the threshold, one colour
    per run, the current ``threshold`` marked (the Compare page's overlay of ``threshold_sweep_figure``)."""
    fig = go.Figure()
    for i, (name, sweep) in enumerate((html.escape(n, quote=False), s) for n, s in sweeps.items()):
        keep = evenly_spaced(len(sweep.threshold), max_points)
        for metric in SHOWN:
            fig.add_trace(go.Scatter(
                x=sweep.threshold[keep], y=getattr(sweep, metric)[keep], name=f"{name} {metric}",
                mode="lines" if len(sweep.threshold) > 1 else "markers", legendgroup=name,
                line={"dash": _DASH[metric], "color": _PALETTE[i % len(_PALETTE)]}))
    fig.add_vline(x=threshold, line_dash="dash", line_color="gray")
    fig.update_layout(title="Metrics by threshold", xaxis_title="Threshold", yaxis_title="Value",
                      xaxis_range=[0, 1], yaxis_range=[0, 1.02], legend={"orientation": "h", "y": -0.25})
    return fig


def calibration_figure(curves) -> go.Figure:
    """Fraction of gold "1" against mean score per bin; Brier and ECE in the legend."""
    fig, notes = go.Figure(), []
    for name, c in _named(curves, "calibration", CalibrationCurve).items():
        scores = "" if c.brier is None else f" (Brier {c.brier:.3f}, ECE {c.ece:.3f})"
        fig.add_trace(go.Scatter(
            x=c.mean_score, y=c.fraction_positive, name=f"{name}{scores}",
            mode="lines+markers", customdata=c.count,
            hovertemplate="mean score %{x:.3f}<br>fraction '1' %{y:.3f}<br>%{customdata} items"))
        notes.append(_note(name, c.note))
    _diagonal(fig)
    return _layout(fig, "Reliability", "Mean score in bin", "Fraction gold '1'", notes)


def confusion_matrix_figure(metrics: ThresholdMetrics) -> go.Figure:
    """The 2x2 confusion matrix at the metrics' threshold (rows gold, columns predicted)."""
    z = [[metrics.tn, metrics.fp], [metrics.fn, metrics.tp]]
    text = [[f"TN {metrics.tn}", f"FP {metrics.fp}"], [f"FN {metrics.fn}", f"TP {metrics.tp}"]]
    fig = go.Figure(go.Heatmap(z=z, x=["predicted 0", "predicted 1"], y=["gold 0", "gold 1"],
                               text=text, texttemplate="%{text}", colorscale="Blues",
                               showscale=False))
    fig.update_yaxes(autorange="reversed")
    errors = f"{metrics.errors} errored items left out" if metrics.errors else ""
    return _layout(fig, f"Confusion matrix at threshold {metrics.threshold:g}", "", "",
                   [errors])


def _named(curves, attr: str, kind: type) -> dict:
    """One curve, or a mapping of name to curve or to ``RunCurves``, as {escaped name: curve}."""
    if isinstance(curves, kind):
        return {"": curves}
    if not isinstance(curves, Mapping):
        raise TypeError(f"expected a {kind.__name__} or a mapping of run name to it")
    return {html.escape(name, quote=False): c if isinstance(c, kind) else getattr(c, attr)
            for name, c in curves.items()}


def _mode(curve) -> str:
    return "markers" if curve.hard_label or len(curve.threshold) == 1 else "lines"


def _mark(fig: go.Figure, chosen: ThresholdChoice | None, x: str, y: str) -> None:
    if chosen is not None and chosen.found:
        fig.add_trace(go.Scatter(
            x=[getattr(chosen.metrics, x)], y=[getattr(chosen.metrics, y)], mode="markers",
            marker={"size": 12, "symbol": "star"},
            name=f"{chosen.rule} at {chosen.threshold:.3f}"))


def _diagonal(fig: go.Figure) -> None:
    fig.add_shape(type="line", x0=0, y0=0, x1=1, y1=1, line={"dash": "dash", "color": "gray"})


def _note(name: str, note: str) -> str:
    return f"{name}: {note}" if name and note else note


def _layout(fig: go.Figure, title: str, x: str, y: str, notes) -> go.Figure:
    shown = "; ".join(n for n in notes if n)
    fig.update_layout(title={"text": title, "subtitle": {"text": shown}} if shown else title,
                      xaxis_title=x, yaxis_title=y, legend_title_text="")
    return fig
