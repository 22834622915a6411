"""Insight: what a run's scores say about the policy and the model.

Studies score variants of a base run's policy as ordinary runs: steerability probes
(``PROBES``), clause ablation (``ABLATION``) and change attribution (``ATTRIBUTION``), each a
``StudyKind`` filled into one scaffold. Triage finds confident disagreements; agreement compares
runs of one policy. Suggested edits ask a chat model to fix a run's confident dev misses and
score each suggestion on dev as a study (kind ``suggestion``).
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
    AREAS, SAMPLE_SETS, SuiteRun, SuiteSide, create_suite, execute_suite, sample_items, side_b, suite_golden, suite_scores
)
from ._suggest import (
    DEFAULT_MAX_ITEMS, Suggestion, dev_misses, stored_suggestion, stored_suggestions, suggest_edits
)
from ._suggest_prompt import Rationale, parse_reply, suggestion_prompt
from ._suggest_score import (
    SUGGESTION_KIND, SuggestionScore, compare_suggestions, create_suggestion_study, save_suggestion_as_draft,
    score_suggestion, suggestion_score, suggestion_study
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
    "DEFAULT_MAX_ITEMS",
    "DEFAULT_MIN_CONFIDENCE",
    "PROBES",
    "Rationale",
    "SAMPLE_SETS",
    "SHOWN_ITEMS",
    "STUDY_ID_PREFIX",
    "SUGGESTION_KIND",
    "StudyKind",
    "StudyProgress",
    "Suggestion",
    "SuggestionScore",
    "SuiteRun",
    "SuiteSide",
    "ablation_report",
    "attribution_candidates",
    "attribution_report",
    "compare_suggestions",
    "create_ablation",
    "create_attribution",
    "create_probe_study",
    "create_suggestion_study",
    "create_suite",
    "dev_misses",
    "endpoint_mismatch",
    "execute_study",
    "execute_suite",
    "mark_gap_done",
    "parse_reply",
    "policy_gaps",
    "probe_items",
    "probe_policy_texts",
    "probe_report",
    "probe_table",
    "run_agreement",
    "sample_items",
    "save_suggestion_as_draft",
    "score_suggestion",
    "send_label_errors_to_relabeling",
    "side_b",
    "stored_suggestion",
    "stored_suggestions",
    "study_status",
    "suggest_edits",
    "suggestion_prompt",
    "suggestion_score",
    "suggestion_study",
    "suite_golden",
    "suite_scores",
    "tag_item",
    "threshold_notes",
    "triage_run",
    "untag_item",
]
