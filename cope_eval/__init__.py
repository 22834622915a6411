"""cope-eval: author content policies and evaluate them with policy-steerable classifiers."""

from .calibration import CalibrationCurve, ScoreHistogram, calibration, score_histogram
from .comparison import GoldenOverlap, RunComparison, align_runs, compare_runs, flips, golden_overlap
from .curves import PRCurve, ROCCurve, pr_curve, roc_curve
from .errors import ConfigError, CopeEvalError, NotFoundError, RowProblem, ValidationError
from .leaderboard import Leaderboard, RunCurves, leaderboard, overlay_curves
from .metrics import (
    ThresholdChoice, ThresholdMetrics, ThresholdSweep, best_f1_threshold, metrics_at_threshold,
    threshold_for_precision, threshold_for_recall, threshold_sweep,
)
from .records import Endpoint, GoldenItem, GoldenSet, PolicyVersion, Prediction, Run
from .scored import ScoredRun, check_results
from .slices import SliceTable, slice_metrics
from .uncertainty import BootstrapResult, Interval, McNemarResult, bootstrap_ci, mcnemar_test, paired_bootstrap_ci

__version__ = "0.1.0"

__all__ = [
    "BootstrapResult",
    "CalibrationCurve",
    "ConfigError",
    "CopeEvalError",
    "Endpoint",
    "GoldenItem",
    "GoldenOverlap",
    "GoldenSet",
    "Interval",
    "Leaderboard",
    "McNemarResult",
    "NotFoundError",
    "PRCurve",
    "PolicyVersion",
    "Prediction",
    "ROCCurve",
    "RowProblem",
    "Run",
    "RunComparison",
    "RunCurves",
    "ScoreHistogram",
    "ScoredRun",
    "SliceTable",
    "ThresholdChoice",
    "ThresholdMetrics",
    "ThresholdSweep",
    "ValidationError",
    "__version__",
    "align_runs",
    "best_f1_threshold",
    "bootstrap_ci",
    "calibration",
    "check_results",
    "compare_runs",
    "flips",
    "golden_overlap",
    "leaderboard",
    "mcnemar_test",
    "metrics_at_threshold",
    "overlay_curves",
    "paired_bootstrap_ci",
    "pr_curve",
    "roc_curve",
    "score_histogram",
    "slice_metrics",
    "threshold_for_precision",
    "threshold_for_recall",
    "threshold_sweep",
]
