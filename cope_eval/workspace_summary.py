"""What a workspace holds, for the overview page and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .config import Workspace

GOLDEN_SET_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet")


@dataclass(frozen=True)
class WorkspaceSummary:
    """Names found in a workspace, without loading their content."""

    policies: tuple[tuple[str, int], ...]
    """(policy slug, number of saved versions), sorted by slug."""
    golden_sets: tuple[tuple[str, int], ...]
    """(golden-set file name, size in bytes), sorted by name."""

    def policies_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.policies, columns=["policy", "versions"])

    def golden_sets_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.golden_sets, columns=["file", "bytes"])


def summarise(workspace: Workspace) -> WorkspaceSummary:
    policies = []
    if workspace.policies_dir.is_dir():
        for folder in sorted(p for p in workspace.policies_dir.iterdir() if p.is_dir()):
            policies.append((folder.name, sum(1 for _ in folder.rglob("*.md"))))
    golden = []
    if workspace.golden_sets_dir.is_dir():
        for path in sorted(workspace.golden_sets_dir.rglob("*")):
            if path.is_file() and path.suffix.lower() in GOLDEN_SET_SUFFIXES:
                golden.append((str(path.relative_to(workspace.golden_sets_dir)), path.stat().st_size))
    return WorkspaceSummary(tuple(policies), tuple(golden))
