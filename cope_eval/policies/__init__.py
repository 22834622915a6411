"""Policy versions: content-addressed texts saved on disk, their diffs, their clauses (for
ablation) and their hunks (for attribution)."""

from ._clauses import Clause, pick_clauses, split_clauses, without
from ._diff import PolicyDiff, diff_texts, diff_versions
from ._hunks import Hunk, diff_hunks, revert_hunk
from ._versions import (
    POLICIES_DIR, canonical_text, export_policy, get_version, import_policy, latest_version,
    list_policies, list_versions, policy_bytes, read_policy_file, save_version, scan_policy, slugify,
    validate_slug, version_id
)

__all__ = [
    "Clause",
    "Hunk",
    "POLICIES_DIR",
    "PolicyDiff",
    "canonical_text",
    "diff_hunks",
    "diff_texts",
    "diff_versions",
    "export_policy",
    "get_version",
    "import_policy",
    "latest_version",
    "list_policies",
    "list_versions",
    "pick_clauses",
    "policy_bytes",
    "read_policy_file",
    "revert_hunk",
    "save_version",
    "scan_policy",
    "slugify",
    "split_clauses",
    "validate_slug",
    "version_id",
    "without",
]
