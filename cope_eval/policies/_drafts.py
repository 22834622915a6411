"""Unsaved drafts of policy texts: kept in the workspace's private folder, never as a version.

One draft per policy, ``<workspace>/.cope_eval/drafts/<slug>.json``: the text, the version it was
edited from and when it was last kept. A policy not yet named keeps its draft as ``_new.json`` (no
slug starts with ``_``). The Policies page keeps every edit here, so a page switch, a reload or an
app restart does not lose it; saving a version or discarding removes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .._util.atomic_files import replace_atomic
from ..errors import CopeEvalError
from ._versions import canonical_text, get_version, validate_slug

DRAFTS_DIR = Path(".cope_eval") / "drafts"
"""Where drafts live, relative to the workspace root (its private folder, never committed)."""
_NEW = "_new"


@dataclass(frozen=True)
class Draft:
    """The unsaved text of one policy."""

    policy: str | None
    """The policy's slug; None for a policy not yet named."""
    text: str
    parent: str | None
    """The id of the version the text was edited from; None for a new policy."""
    saved_at: str
    """When the draft was last kept (ISO 8601, UTC)."""


def save_draft(workspace: Path, policy: str | None, text: str, *, parent: str | None = None,
               template: str = "") -> Draft | None:
    """Keep ``text`` as the draft of ``policy`` (None: the policy being created), replacing any draft.

    A text equal to the ``parent`` version's (or, with no parent, blank or equal to ``template``, the
    text a new policy starts from) is no draft: any draft kept is removed and None returned.
    """
    if _unchanged(workspace, policy, text, parent, template):
        discard_draft(workspace, policy)
        return None
    draft = Draft(policy, text, parent, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    path = _path(workspace, policy)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"policy": policy, "text": text, "parent": parent, "saved_at": draft.saved_at}
    replace_atomic(path, json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8"))
    return draft


def read_draft(workspace: Path, policy: str | None) -> Draft | None:
    """The draft of ``policy`` (None: the policy being created), or None when it has none.

    A draft file that cannot be read as one (edited by hand) counts as none."""
    path = _path(workspace, policy)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        draft = Draft(policy, data["text"], data["parent"], data["saved_at"])
    except (OSError, UnicodeError, ValueError, KeyError, TypeError):
        return None
    ok = isinstance(draft.text, str) and isinstance(draft.saved_at, str)
    return draft if ok and (draft.parent is None or isinstance(draft.parent, str)) else None


def discard_draft(workspace: Path, policy: str | None) -> None:
    """Remove the draft of ``policy`` (None: the policy being created); nothing happens without one."""
    _path(workspace, policy).unlink(missing_ok=True)


def list_drafts(workspace: Path) -> list[Draft]:
    """Every readable draft of a named policy, the most recently kept first."""
    folder = Path(workspace) / DRAFTS_DIR
    slugs = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    drafts = [d for d in (read_draft(workspace, s) for s in slugs if _valid(s)) if d is not None]
    return sorted(drafts, key=lambda d: d.saved_at, reverse=True)


def _unchanged(workspace: Path, policy: str | None, text: str, parent: str | None, template: str) -> bool:
    text = canonical_text(text)
    if parent is None:
        return not text.strip() or text == canonical_text(template)
    try:
        return text == get_version(workspace, policy, parent).text
    except CopeEvalError:  # the parent cannot be read: keep the draft rather than lose it
        return False


def _path(workspace: Path, policy: str | None) -> Path:
    return Path(workspace) / DRAFTS_DIR / f"{_NEW if policy is None else validate_slug(policy)}.json"


def _valid(slug: str) -> bool:
    try:
        validate_slug(slug)
    except CopeEvalError:
        return False
    return True


def newest_draft(workspace: Path) -> Draft | None:
    """The most recently kept draft of any policy, the one being created included: where a fresh
    session (a reload, a restart) opens the Policies page."""
    drafts = list_drafts(workspace) + [d for d in (read_draft(workspace, None),) if d is not None]
    return max(drafts, key=lambda d: d.saved_at, default=None)
