"""Why a policy scores as it does: studies (steerability probes, clause ablation, hunk
attribution) built on one scaffold, error triage, agreement between models."""

from ._ablation import ABLATION_ITEMS, ABLATION_KIND, ablation_report, create_ablation
from ._agreement import AgreementReport, run_agreement
from ._attribution import (
    ATTRIBUTION_ITEMS, ATTRIBUTION_KIND, attribution_candidates, attribution_report, create_attribution
)
from ._probes import (
    PROBES_KIND, SHOWN_ITEMS, create_probe_study, probe_items, probe_policy_texts, probe_report,
    probe_table, threshold_notes
)
from ._studies import SELECTIONS, StudyProgress, endpoint_mismatch, execute_study, study_status
from ._triage import (
    DEFAULT_MIN_CONFIDENCE, mark_gap_done, policy_gaps, send_label_errors_to_relabeling, tag_item,
    triage_run, untag_item
)

__all__ = [
    "ABLATION_ITEMS",
    "ABLATION_KIND",
    "ATTRIBUTION_ITEMS",
    "ATTRIBUTION_KIND",
    "AgreementReport",
    "DEFAULT_MIN_CONFIDENCE",
    "PROBES_KIND",
    "SELECTIONS",
    "SHOWN_ITEMS",
    "StudyProgress",
    "ablation_report",
    "attribution_candidates",
    "attribution_report",
    "create_ablation",
    "create_attribution",
    "create_probe_study",
    "endpoint_mismatch",
    "execute_study",
    "mark_gap_done",
    "policy_gaps",
    "probe_items",
    "probe_policy_texts",
    "probe_report",
    "probe_table",
    "run_agreement",
    "send_label_errors_to_relabeling",
    "study_status",
    "tag_item",
    "threshold_notes",
    "triage_run",
    "untag_item",
]
