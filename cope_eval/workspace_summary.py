"""What a workspace holds, for the overview page and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .config import Workspace
from .policies import list_policies, list_versions

GOLDEN_SET_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet")


@dataclass(frozen=True)
class WorkspaceSummary:
    """Names found in a workspace, without loading golden-set content."""

    policies: tuple[tuple[str, int, str], ...]
    """(policy slug, number of saved versions, time of the latest), sorted by slug."""
    golden_sets: tuple[tuple[str, int], ...]
    """(golden-set file path under golden_sets/, size in bytes), sorted by path."""

    def policies_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.policies, columns=["policy", "versions", "latest"])

    def golden_sets_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.golden_sets, columns=["file", "bytes"])


def summarise(workspace: Workspace) -> WorkspaceSummary:
    policies = []
    for slug in list_policies(workspace.root):
        versions = list_versions(workspace.root, slug)
        policies.append((slug, len(versions), versions[-1].created if versions else ""))
    golden = []
    if workspace.golden_sets_dir.is_dir():
        for path in sorted(workspace.golden_sets_dir.rglob("*")):
            if path.is_file() and path.suffix.lower() in GOLDEN_SET_SUFFIXES:
                golden.append((str(path.relative_to(workspace.golden_sets_dir)), path.stat().st_size))
    return WorkspaceSummary(tuple(policies), tuple(golden))
