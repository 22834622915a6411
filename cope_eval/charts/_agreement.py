"""The kappa matrix of an agreement report as a Plotly heatmap (no computation here)."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from ..insight import AgreementReport


def kappa_figure(report: AgreementReport) -> go.Figure:
    """Runs x runs, kappa from -1 (red) through 0 (white) to 1 (blue); undefined cells blank, with
    the items each pair used in the hover text."""
    matrix = report.kappa_matrix()
    names = [html.escape(name) for name in matrix.index]  # Plotly reads tags in labels; model names are not ours
    used = {(html.escape(p.a), html.escape(p.b)): p.n for p in report.pairs}
    used |= {(b, a): n for (a, b), n in used.items()}
    shown = [["" if np.isnan(v) else f"{v:.2f}" for v in row] for row in matrix.to_numpy()]
    hover = [[f"{a} × {b}<br>kappa {shown[i][j] or 'undefined'}<br>"
              + (f"{used[a, b]:,} items scored by both" if (a, b) in used else "the run itself")
              for j, b in enumerate(names)] for i, a in enumerate(names)]
    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(), x=names, y=names, zmin=-1, zmax=1, colorscale="RdBu",
                               text=shown, texttemplate="%{text}", hovertext=hover, hoverinfo="text",
                               colorbar={"title": "kappa"}))
    fig.update_layout(title="Cohen's kappa between runs", yaxis_autorange="reversed", height=200 + 60 * len(names))
    return fig
