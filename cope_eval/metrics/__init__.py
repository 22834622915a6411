"""From scores to numbers: metrics at a threshold, threshold rules, PR/ROC curves, calibration,
bootstrap and exact intervals, paired comparison of runs, carrying a threshold from one run to
another, slices, fairness across groups, leaderboards and the model card's per-area table.
Checked against scikit-learn; each metric states its rule for empty or one-class input."""

from ._calibration import CalibrationCurve, ScoreHistogram, calibration, score_histogram
from ._card_table import (
    AREA_NO_GOLDEN, AREA_NO_SCORES, AREA_SCORED, AREA_STATUSES, AreaScores, CardTable, card_table
)
from ._comparison import (
    OUTCOMES, AlignedRuns, GoldenOverlap, PairedRuns, RunComparison, align_runs, compare_paired, compare_runs,
    flips, golden_overlap, pair_runs, paired_flips
)
from ._curves import PRCurve, ROCCurve, pr_curve, roc_curve
from ._fairness import (
    DISPARITIES, RATES, RUN_COLUMNS, Disparity, GroupRates, compare_fairness, group_rates, membership
)
from ._leaderboard import SHOWN, Leaderboard, RunCurves, leaderboard, overlay_curves, run_curves
from ._proportions import Proportion, proportion
from ._scored import Result, ScoredRun, check_results
from ._slices import SliceTable, slice_metrics
from ._threshold import (
    CELLS, ThresholdChoice, ThresholdMetrics, ThresholdSweep, best_f1_threshold, check_threshold, confusion_cells,
    metrics_at_threshold, threshold_for_flag_rate, threshold_for_precision, threshold_for_recall,
    threshold_sweep
)
from ._transfer import CHANGES, KEEPS, MetricChange, ThresholdTransfer, transfer_threshold
from ._uncertainty import (
    BootstrapResult, Interval, McNemarResult, bootstrap_ci, mcnemar_test, paired_bootstrap_ci
)

__all__ = [
    "AREA_NO_GOLDEN",
    "AREA_NO_SCORES",
    "AREA_SCORED",
    "AREA_STATUSES",
    "AlignedRuns",
    "AreaScores",
    "BootstrapResult",
    "CELLS",
    "CHANGES",
    "CalibrationCurve",
    "CardTable",
    "DISPARITIES",
    "Disparity",
    "GoldenOverlap",
    "GroupRates",
    "Interval",
    "KEEPS",
    "Leaderboard",
    "McNemarResult",
    "MetricChange",
    "OUTCOMES",
    "PRCurve",
    "PairedRuns",
    "Proportion",
    "RATES",
    "RUN_COLUMNS",
    "ROCCurve",
    "Result",
    "RunComparison",
    "RunCurves",
    "SHOWN",
    "ScoreHistogram",
    "ScoredRun",
    "SliceTable",
    "ThresholdChoice",
    "ThresholdMetrics",
    "ThresholdSweep",
    "ThresholdTransfer",
    "align_runs",
    "best_f1_threshold",
    "bootstrap_ci",
    "calibration",
    "card_table",
    "check_results",
    "check_threshold",
    "compare_fairness",
    "compare_paired",
    "compare_runs",
    "confusion_cells",
    "flips",
    "golden_overlap",
    "group_rates",
    "leaderboard",
    "mcnemar_test",
    "membership",
    "metrics_at_threshold",
    "overlay_curves",
    "run_curves",
    "pair_runs",
    "paired_flips",
    "paired_bootstrap_ci",
    "pr_curve",
    "proportion",
    "roc_curve",
    "score_histogram",
    "slice_metrics",
    "threshold_for_flag_rate",
    "threshold_for_precision",
    "threshold_for_recall",
    "threshold_sweep",
    "transfer_threshold",
]
