"""What the Policies page decides about its editor: where a fresh session opens, which text the
editor starts from, what the draft notice says, whether a newer version was saved meanwhile (from
another tab or session), and the save itself. No Streamlit here; the page only draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..policies import (
    Draft, PolicyDiff, diff_texts, discard_draft, get_version, label_versions, list_versions, newest_draft,
    save_version, slugify, version_id, version_labels, version_title
)
from ..records import PolicyVersion, short_id
from ._adhoc import TokenCount
from ._news import sibling_note


def opening_policy(workspace: Path, remembered: str | None) -> tuple[bool, str | None]:
    """(creating a new policy?, the policy to show) for a Policies page opened with none picked.

    Back from another page: the policy picked last (``remembered``). A fresh session (a reload, a
    restart): the newest draft's policy, or the new policy when that draft is one."""
    if remembered is not None:
        return False, remembered
    newest = newest_draft(workspace)
    if newest is None:
        return False, None
    return newest.policy is None, newest.policy


def draft_base(draft: Draft | None, by_id: Mapping[str, PolicyVersion], policy: str | None,
               loaded: tuple[str | None, str | None] | None, *, picked: bool) -> bool:
    """Whether to open the editor on the version the draft was edited from: the policy has a draft of
    one of its versions and the editor holds another policy's text (or none: ``loaded`` is the
    (policy, version id) it was last filled from), or no version is picked yet."""
    if draft is None or draft.parent not in by_id:
        return False
    return not picked or loaded is None or loaded[0] != policy


def draft_shown(draft: Draft | None, by_id: Mapping[str, PolicyVersion], base_id: str | None) -> bool:
    """Whether the editor shows the draft: it was edited from the version being edited (or from one
    no longer there, or it is the new policy's)."""
    return draft is not None and (draft.parent == base_id or draft.parent not in by_id)


def editor_text(draft: Draft | None, by_id: Mapping[str, PolicyVersion], base_id: str | None, starter: str) -> str:
    """The text the editor loads: the draft when it is shown, else the version's, else ``starter``."""
    if draft_shown(draft, by_id, base_id):
        return draft.text
    return by_id[base_id].text if base_id else starter


def draft_notice(draft: Draft, versions: Sequence[PolicyVersion], base_id: str | None) -> str:
    """The line above the editor when the policy has a draft: what it was edited from and when, and
    how to open it when the editor shows another version."""
    by_id = {v.id: v for v in versions}
    origin = (_short(label_versions(versions), draft.parent) if draft.parent in by_id
              else short_id(draft.parent) if draft.parent else "the starter text")
    line = f"Unsaved draft (edited from {origin}, {_when(draft.saved_at)})"
    if draft_shown(draft, by_id, base_id):
        return line + "."
    return line + f": pick {origin} under \"Edit from version\" to open it; editing this version replaces it."


@dataclass(frozen=True)
class NewerVersion:
    """A version of the policy newer than the one the editor's text was edited from."""

    newest: PolicyVersion
    """The newest version of the policy."""
    message: str
    """What to say before the Save button: which version, by whom, when, and what saving does."""
    diff: PolicyDiff
    """The editor's text against the newest version's (old: the newest, new: the text)."""


def newer_version(versions: Sequence[PolicyVersion], base_id: str | None, text: str, *,
                  seen: str | None) -> NewerVersion | None:
    """Say so when the editor's text, edited from ``base_id``, would be saved beside a newer version
    (one saved from another tab, by another analyst, or simply an older version picked to edit).

    ``versions`` are the policy's versions, oldest first (``list_versions``); ``seen`` is the newest
    version's id when the editor loaded its text: a newer one than that was saved meanwhile. None
    when there is nothing newer, or when saving would make no new version (the text unchanged, or
    the same as the newest)."""
    if base_id is None or not versions or versions[-1].id == base_id:
        return None
    newest = versions[-1]
    if version_id(text) in (base_id, newest.id):
        return None
    labels = label_versions(versions)
    new, base = _short(labels, newest.id), _short(labels, base_id)
    by = f"by {newest.author}, " if newest.author else ""
    if seen is not None and seen != newest.id:
        said = f"{new} was saved after you started editing from {base} ({by}{_when(newest.created)})."
    else:
        said = f"{new} ({by}{_when(newest.created)}) is newer than {base}, the version you are editing from."
    message = (f"{said} Saving makes a new version beside it, also edited from {base}: it will not have "
               f"{labels[newest.id]}'s changes. Below: your text against {labels[newest.id]}.")
    return NewerVersion(newest, message, diff_texts(newest.text, text, old_label=labels[newest.id],
                                                    new_label="your text"))


def save_edit(workspace: Path, policy: str | None, text: str, *, new_name: str = "", parent: str | None = None,
              note: str = "", author: str = "") -> PolicyVersion:
    """Save the editor's text as a version of ``policy`` (None: a new policy named ``new_name``) and
    drop the draft it was kept as."""
    version = save_version(workspace, slugify(new_name) if policy is None else policy, text, parent=parent,
                           note=note, author=author)
    discard_draft(workspace, policy)  # saved: the draft is a version now
    return version


def saved_message(workspace: Path, policy: str, vid: str, *, existed: bool, now: datetime | None = None) -> str:
    """What the page says after a save of version ``vid`` of ``policy``: that it was saved, or that
    the text already was that version. A new version saved from the same parent as another (two
    saves racing, from two analysts or tabs) says so too (``sibling_note``, seen from ``now``)."""
    title = version_title(get_version(workspace, policy, vid), version_labels(workspace, policy).get(vid))
    if existed:
        return f"This text is already saved as version {title}; nothing new was saved."
    now = datetime.now(timezone.utc) if now is None else now
    siblings = sibling_note(list_versions(workspace, policy), vid, now=now)
    return f"Saved version {title}." + (f" {siblings}" if siblings else "")


def token_caption(count: TokenCount) -> str:
    """The line under the editor about how much of the model's context the policy takes."""
    if count.tokens is None:
        return "Token count: this server cannot count tokens (no /tokenize endpoint)."
    if count.share is None:
        return f"Policy and prompt template: {count.tokens:,} tokens (the server does not say its context)."
    return (f"Policy and prompt template: {count.tokens:,} tokens of the model's {count.max_model_len:,}-token "
            f"context ({count.share:.0%})")


def _short(labels: Mapping[str, str], vid: str) -> str:
    return f"{labels[vid]} · {short_id(vid, 8)}"


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ") + " UTC"
