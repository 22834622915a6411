"""Insight: what a run's scores say about the policy and the model.

Studies score variants of a base run's policy as ordinary runs: steerability probes
(``PROBES``), clause ablation (``ABLATION``) and change attribution (``ATTRIBUTION``), each a
``StudyKind`` filled into one scaffold. Triage finds confident disagreements; agreement compares
runs of one policy.
"""

from ._ablation import ABLATION, ablation_report, create_ablation
from ._agreement import AgreementReport, run_agreement
from ._attribution import ATTRIBUTION, attribution_candidates, attribution_report, create_attribution
from ._kinds import StudyKind
from ._probes import (
    PROBES, SHOWN_ITEMS, create_probe_study, probe_items, probe_policy_texts, probe_report, probe_table,
    threshold_notes
)
from ._studies import STUDY_ID_PREFIX, StudyProgress, endpoint_mismatch, execute_study, study_status
from ._suite import (
    AREAS, SAMPLE_SETS, SuiteRun, SuiteSide, create_suite, execute_suite, sample_items, suite_golden, suite_scores
)
from ._triage import (
    DEFAULT_MIN_CONFIDENCE, mark_gap_done, policy_gaps, send_label_errors_to_relabeling, tag_item,
    triage_run, untag_item
)

__all__ = [
    "ABLATION",
    "AREAS",
    "ATTRIBUTION",
    "AgreementReport",
    "DEFAULT_MIN_CONFIDENCE",
    "PROBES",
    "SAMPLE_SETS",
    "SHOWN_ITEMS",
    "STUDY_ID_PREFIX",
    "StudyKind",
    "StudyProgress",
    "SuiteRun",
    "SuiteSide",
    "ablation_report",
    "attribution_candidates",
    "attribution_report",
    "create_ablation",
    "create_attribution",
    "create_probe_study",
    "create_suite",
    "endpoint_mismatch",
    "execute_study",
    "execute_suite",
    "mark_gap_done",
    "policy_gaps",
    "probe_items",
    "probe_policy_texts",
    "probe_report",
    "probe_table",
    "run_agreement",
    "sample_items",
    "send_label_errors_to_relabeling",
    "study_status",
    "suite_golden",
    "suite_scores",
    "tag_item",
    "threshold_notes",
    "triage_run",
    "untag_item",
]
