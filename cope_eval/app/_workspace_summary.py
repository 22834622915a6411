"""What a workspace holds, for the overview page and the CLI.

An overview shows what it can: a stray file in a policy folder, a folder whose name is not a
policy name, or a damaged version is listed in ``problems`` beside everything else, never
allowed to hide the rest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from ..config import Workspace
from ..errors import ValidationError
from ..policies import POLICIES_DIR, scan_policy, validate_slug

GOLDEN_SET_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet")


@dataclass(frozen=True)
class WorkspaceSummary:
    """Names found in a workspace, without loading golden-set content."""

    policies: tuple[tuple[str, int, str], ...]
    """(policy slug, number of saved versions read back intact, time of the latest), sorted by slug."""
    golden_sets: tuple[tuple[str, int], ...]
    """(golden-set file path under golden_sets/, size in bytes), sorted by path."""
    problems: tuple[str, ...] = ()
    """One sentence per entry under policies/ that is not a readable policy version (a stray
    file, a folder with an unusable name, a damaged version); each is left out of ``policies``."""

    def policies_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.policies, columns=["policy", "versions", "latest"])

    def golden_sets_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.golden_sets, columns=["file", "bytes"])


def summarise(workspace: Workspace) -> WorkspaceSummary:
    policies, problems = [], []
    for folder in _policy_folders(workspace):
        try:
            slug = validate_slug(folder.name)
        except ValidationError:
            shown = os.fsencode(folder.name).decode("utf-8", "backslashreplace")
            problems.append(f"{POLICIES_DIR}/{shown} is not a usable policy name; it is ignored")
            continue
        versions, found = scan_policy(workspace.root, slug)
        problems += found
        if versions:
            policies.append((slug, len(versions), versions[-1].created))
    golden = []
    if workspace.golden_sets_dir.is_dir():
        for path in sorted(workspace.golden_sets_dir.rglob("*")):
            if path.is_file() and path.suffix.lower() in GOLDEN_SET_SUFFIXES:
                golden.append((str(path.relative_to(workspace.golden_sets_dir)), path.stat().st_size))
    return WorkspaceSummary(tuple(policies), tuple(golden), tuple(problems))


def _policy_folders(workspace: Workspace):
    """Sub-folders of policies/, by name; files there (a README) and hidden entries are not policies."""
    if not workspace.policies_dir.is_dir():
        return []
    return sorted(p for p in workspace.policies_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
