"""cope-eval: author content policies and evaluate them with policy-steerable classifiers."""

from .background import RunManager
from .calibration import CalibrationCurve, ScoreHistogram, calibration, score_histogram
from .check import CheckResult, check_one
from .comparison import GoldenOverlap, RunComparison, align_runs, compare_runs, flips, golden_overlap
from .curves import PRCurve, ROCCurve, pr_curve, roc_curve
from .errors import ConfigError, CopeEvalError, NotFoundError, RowProblem, ValidationError
from .batch import export_batch, import_batch
from .export import Bundle, build_bundle, export_bundle
from .golden import ColumnSpec, LabelChange, LoadResult, golden_set_hash, load_golden_set, relabel, write_golden_set
from .leaderboard import Leaderboard, RunCurves, leaderboard, overlay_curves
from .metrics import (
    ThresholdChoice, ThresholdMetrics, ThresholdSweep, best_f1_threshold, metrics_at_threshold,
    threshold_for_precision, threshold_for_recall, threshold_sweep,
)
from .policies import (
    canonical_text, export_policy, get_version, import_policy, latest_version, list_policies, list_versions,
    save_version, slugify, validate_slug, version_id,
)
from .policy_diff import PolicyDiff, diff_texts, diff_versions
from .records import Endpoint, GoldenItem, GoldenSet, PolicyVersion, Prediction, Run
from .results import run_results
from .runner import RunProgress, RunResult, create_run, effective_status, execute_run
from .scored import ScoredRun, check_results
from .slices import SliceTable, slice_metrics
from .store import Store
from .templates import TEMPLATES, get_template
from .transport import RetryPolicy
from .uncertainty import BootstrapResult, Interval, McNemarResult, bootstrap_ci, mcnemar_test, paired_bootstrap_ci

__version__ = "0.1.0"

__all__ = [
    "BootstrapResult",
    "Bundle",
    "CalibrationCurve",
    "CheckResult",
    "ColumnSpec",
    "ConfigError",
    "CopeEvalError",
    "Endpoint",
    "GoldenItem",
    "GoldenOverlap",
    "GoldenSet",
    "Interval",
    "LabelChange",
    "Leaderboard",
    "LoadResult",
    "McNemarResult",
    "NotFoundError",
    "PRCurve",
    "PolicyDiff",
    "PolicyVersion",
    "Prediction",
    "ROCCurve",
    "RetryPolicy",
    "RowProblem",
    "Run",
    "RunComparison",
    "RunCurves",
    "RunManager",
    "RunProgress",
    "RunResult",
    "ScoreHistogram",
    "ScoredRun",
    "SliceTable",
    "Store",
    "TEMPLATES",
    "ThresholdChoice",
    "ThresholdMetrics",
    "ThresholdSweep",
    "ValidationError",
    "align_runs",
    "best_f1_threshold",
    "bootstrap_ci",
    "build_bundle",
    "calibration",
    "canonical_text",
    "check_one",
    "check_results",
    "compare_runs",
    "create_run",
    "diff_texts",
    "diff_versions",
    "effective_status",
    "execute_run",
    "export_batch",
    "export_bundle",
    "export_policy",
    "flips",
    "get_template",
    "get_version",
    "golden_overlap",
    "golden_set_hash",
    "import_batch",
    "import_policy",
    "latest_version",
    "leaderboard",
    "list_policies",
    "list_versions",
    "load_golden_set",
    "mcnemar_test",
    "metrics_at_threshold",
    "overlay_curves",
    "paired_bootstrap_ci",
    "pr_curve",
    "relabel",
    "roc_curve",
    "run_results",
    "save_version",
    "score_histogram",
    "slice_metrics",
    "slugify",
    "threshold_for_precision",
    "threshold_for_recall",
    "threshold_sweep",
    "validate_slug",
    "version_id",
    "write_golden_set",
    "__version__",
]
