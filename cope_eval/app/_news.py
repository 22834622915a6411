"""Others' changes, said where they matter: a policy version saved by someone else (on the editor,
and in the save message when two saves came from the same parent), and a newer version of a run's
golden set (a relabel or a dev/test split, on Evaluate and Compare).

Pure functions over what the store and the policy folder hold; ``now`` is passed in, so a sentence
("2 min ago") is the same in a test as on the page. No Streamlit here; each page draws one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from ..golden import SPLIT_SOURCE
from ..policies import label_versions
from ..records import PolicyVersion
from ..store import Store
from ._views import golden_set_label
from ._workspace_summary import ago

NO_AUTHOR = "someone (no author given)"
"""Who saved a version or changed a label when the record names nobody (``author`` is "")."""


def policy_news(versions: Sequence[PolicyVersion], base_id: str | None, *, now: datetime) -> str | None:
    """The line above the editor when the policy has versions newer than ``base_id``, the version
    the editor's text was edited from: the newest one, by whom and when, and what to do.

    ``versions`` are the policy's versions, oldest first (``list_versions``); "newer" is that order
    (created time). None when ``base_id`` is the newest version, or none is picked."""
    ids = [v.id for v in versions]
    if base_id not in ids or ids[-1] == base_id:
        return None
    labels = label_versions(versions)
    newest, base = versions[-1], versions[ids.index(base_id)]
    newer = len(ids) - 1 - ids.index(base_id)
    line = f"{labels[newest.id]} of this policy was saved {_by(newest.author)} {_when(newest.created, now)}"
    if newest.parent is not None and newest.parent == base.parent and newest.parent in labels:
        line += f", edited from {labels[newest.parent]} as {labels[base_id]} was: both versions are kept"
    more = f" ({newer} versions are newer than it)" if newer > 1 else ""
    return (f"{line}. You are editing from {labels[base_id]}{more}: pick {labels[newest.id]} under \"Edit from "
            f"version\" to start from it, or see what differs under \"Compare two versions\" below.")


def sibling_note(versions: Sequence[PolicyVersion], version_id: str, *, now: datetime) -> str:
    """For the save message of ``version_id``: the other versions saved from the same parent (two
    analysts, or two tabs, saving edits of one version), who saved each and when, and where to see
    how they differ. "" when there is none. A version without a parent (a new policy's first, an
    import) has no siblings: those share no text they were edited from."""
    by_id = {v.id: v for v in versions}
    mine = by_id.get(version_id)
    if mine is None or mine.parent is None:
        return ""
    others = [v for v in versions if v.parent == mine.parent and v.id != version_id]
    if not others:
        return ""
    labels = label_versions(versions)
    parent = labels.get(mine.parent, "the same version")
    saved = _and([f"{labels[v.id]} (saved {_by(v.author)} {_when(v.created, now)})" for v in others])
    if len(others) == 1:
        kept = f"{saved} was also edited from {parent}: both versions are kept, and neither has the other's changes"
    else:
        kept = (f"{saved} were also edited from {parent}: all {len(others) + 1} versions are kept, and none has "
                "the others' changes")
    return (f"{kept}. See how they differ under \"Compare two versions\" below (Old {labels[others[-1].id]}, "
            f"New {labels[version_id]}).")


@dataclass(frozen=True)
class GoldenNews:
    """A golden set version newer than the one a run scored: derived from it by relabels, a
    dev/test split, or both."""

    golden_hash: str
    """The version the run scored."""
    newest: str
    """Hash of the newest version derived from it (the newest leaf of its versions' tree)."""
    label: str
    """How the Golden set menu on Evaluate names ``newest`` (``golden_set_label``)."""
    changed: int
    """Items whose label differs between the two versions (an item relabelled and back counts 0)."""
    authors: tuple[str, ...]
    """Who changed labels on the way, in the order they did ("" for a change that names nobody)."""
    split: bool
    """True when a dev/test split was drawn on the way."""
    created: str
    """When ``newest`` was stored (ISO 8601, UTC)."""
    branches: int
    """How many versions derived from it nothing derives from (more than 1: relabels that branch apart)."""

    def how(self, now: datetime) -> str:
        """What happened, by whom, when: ``relabelled by Bo, 3 min ago: 2 labels changed``."""
        when = _when(self.created, now)
        labels = f"{self.changed:,} label{'' if self.changed == 1 else 's'} changed"
        if not self.authors:  # no label changed on the way: a split alone
            return f"drawn as a dev/test split, {when}"
        who = _and(list(dict.fromkeys(a if a.strip() else NO_AUTHOR for a in self.authors)))
        split = " and drawn as a dev/test split" if self.split else ""
        return f"relabelled by {who}{split}, {when}: {labels}"


def golden_news(store: Store, golden_hash: str) -> GoldenNews | None:
    """The newest version derived from ``golden_hash`` (relabels, a split), and how it came about;
    None when nothing derives from it. Versions that merely share a parent with it (another
    analyst's relabel of the same set) are not newer versions of it: its labels are not in them."""
    leaves = [h for h in store.golden_leaves(golden_hash) if h != golden_hash]
    if not leaves:
        return None
    rows = {r["hash"]: r for r in store.golden_sets(study_subsets=True).to_dict("records")}
    newest, path = leaves[0], []
    current = newest
    while current != golden_hash and current in rows and current not in path:  # newest back to the run's set
        path.append(current)
        current = rows[current]["parent_hash"]
    history = store.label_history(newest)
    changes = history[history["new_hash"].isin(path)]
    split = any(str(rows[h]["source"] or "").startswith(SPLIT_SOURCE) for h in path)
    return GoldenNews(golden_hash, newest, golden_set_label(rows[newest]), _net_changes(changes),
                      tuple(changes["author"].astype(str)), split, str(rows[newest]["created"]), len(leaves))


def golden_notices(store: Store, runs: Mapping[str, str], *, now: datetime) -> list[str]:
    """One sentence per golden set version among ``runs`` (a run's name -> the hash of the set it
    scored) that has a newer version: which runs, what changed, by whom, when, and how to score the
    new version. [] when no run's set has a newer version."""
    by_set: dict[str, list[str]] = {}
    for name, golden_hash in runs.items():
        by_set.setdefault(golden_hash, []).append(name)
    out = []
    for golden_hash, names in by_set.items():
        news = golden_news(store, golden_hash)
        if news is None:
            continue
        line = f"The golden set of {_and(names)} has a newer version ({news.how(now)}): {news.label}."
        if news.branches > 1:
            line += f" It is the newest of {news.branches} versions that branch apart from this one."
        scored = by_set.get(news.newest)
        if scored:
            line += f" {_and(scored)} scored it."
        else:
            line += (" To score it, pick it under \"Golden set\" on Evaluate and Start; this run's figures stay "
                     "those of the version it scored.")
        out.append(line)
    return out


def _net_changes(changes: pd.DataFrame) -> int:
    """Items whose last new label differs from their first old label."""
    if changes.empty:
        return 0
    per_item = changes.groupby("item_id", sort=False).agg(first=("old_label", "first"), last=("new_label", "last"))
    return int((per_item["first"] != per_item["last"]).sum())


def _by(author: str) -> str:
    return f"by {author}" if author.strip() else f"by {NO_AUTHOR}"


def _when(iso: str, now: datetime) -> str:
    """``ago``, and "on <date>" for what ``ago`` names by its date (over 30 days)."""
    said = ago(iso, now)
    return said if said.endswith(("ago", "now")) else f"on {said}"


def _and(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
