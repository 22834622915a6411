"""Policy versions: content-addressed texts saved on disk, their labels (v1, v2, ...), unsaved
drafts, their diffs, their clauses (for ablation) and their hunks (for attribution)."""

from ._clauses import Clause, pick_clauses, split_clauses, without
from ._diff import PolicyDiff, diff_texts, diff_versions
from ._drafts import Draft, discard_draft, list_drafts, newest_draft, read_draft, save_draft
from ._hunks import Hunk, diff_hunks, revert_hunk
from ._labels import label_versions, version_labels, version_title, version_titles
from ._versions import (
    POLICIES_DIR, canonical_text, export_policy, get_version, import_policy, latest_version,
    list_policies, list_versions, policy_bytes, read_policy_file, save_version, scan_policy, slugify,
    validate_slug, version_id
)

__all__ = [
    "Clause",
    "Draft",
    "Hunk",
    "POLICIES_DIR",
    "PolicyDiff",
    "canonical_text",
    "diff_hunks",
    "diff_texts",
    "diff_versions",
    "discard_draft",
    "export_policy",
    "get_version",
    "import_policy",
    "label_versions",
    "latest_version",
    "list_drafts",
    "newest_draft",
    "list_policies",
    "list_versions",
    "pick_clauses",
    "policy_bytes",
    "read_draft",
    "read_policy_file",
    "revert_hunk",
    "save_draft",
    "save_version",
    "scan_policy",
    "slugify",
    "split_clauses",
    "validate_slug",
    "version_id",
    "version_labels",
    "version_title",
    "version_titles",
    "without",
]
