"""Human labels for policy versions: "v1", "v2", ... per policy, in creation order, and the one
line that names a version wherever the app or a card shows one.

The numbering is the order ``list_versions`` gives (created time, then id as the tie-break), so
a version's label never changes when another is saved: a new version is always the newest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ..records import PolicyVersion, short_id
from ._versions import VERSION_FORMAT, _meta_files, _policy_dir

NOTE_CHARS = 40
"""How much of a version's note its title shows (the first line, cut with "…")."""


def label_versions(versions: Iterable[PolicyVersion]) -> dict[str, str]:
    """``{version id: "v1", ...}`` for all the versions of one policy: "v1" is the oldest."""
    return _number((v.created, v.id) for v in versions)


def version_labels(workspace: Path, slug: str) -> dict[str, str]:
    """``label_versions`` of every version of ``slug`` in ``workspace``; {} when it has none.

    Reads only the versions' metadata (id and created time): cheap enough for every menu, and a
    version whose text file was damaged keeps its number. Metadata that cannot be read is skipped.
    """
    folder = _policy_dir(workspace, slug)
    keys = []
    for path in _meta_files(folder) if folder.is_dir() else ():
        try:
            meta = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get("format") == VERSION_FORMAT and isinstance(meta.get("id"), str):
            keys.append((meta.get("created") or "", meta["id"]))
    return _number(keys)


def version_title(version: PolicyVersion, label: str | None) -> str:
    """The one line that names a version: ``violence v3 · "tightened jest clause" (3f2a9b0c)``.

    ``label`` is the version's entry in ``version_labels`` (None for a version the workspace no
    longer holds: the policy and hash alone then name it); the note is its first line, cut to
    ``NOTE_CHARS``; the hash is the first 8 hex digits of the id, for exactness."""
    name = f"{version.policy} {label}" if label else version.policy
    first = version.note.strip().splitlines()[0].strip() if version.note.strip() else ""
    note = first if len(first) <= NOTE_CHARS else first[:NOTE_CHARS - 1].rstrip() + "…"
    return f"{name} · \"{note}\" ({short_id(version.id, 8)})" if note else f"{name} ({short_id(version.id, 8)})"


def version_titles(versions: Iterable[PolicyVersion]) -> dict[str, str]:
    """``{version id: version_title}`` for all the versions of one policy (a menu's format_func)."""
    versions = list(versions)
    labels = label_versions(versions)
    return {v.id: version_title(v, labels[v.id]) for v in versions}


def _number(keys: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {vid: f"v{i}" for i, (_, vid) in enumerate(sorted(set(keys)), start=1)}
