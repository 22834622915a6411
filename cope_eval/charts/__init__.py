"""Every plotly figure: built from metric and insight result records, computing nothing but layout."""

from ._agreement import kappa_figure
from ._metrics import (
    calibration_figure, confusion_matrix_figure, pr_figure, roc_figure, sweep_figure, threshold_sweep_figure
)

__all__ = [
    "calibration_figure",
    "confusion_matrix_figure",
    "kappa_figure",
    "pr_figure",
    "roc_figure",
    "sweep_figure",
    "threshold_sweep_figure",
]
