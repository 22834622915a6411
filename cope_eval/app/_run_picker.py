"""Which runs the pages offer, under which names, and which two by default (Compare, Export,
Insight: the completed runs a study starts from, the groups Agreement compares)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import CopeEvalError
from ..policies import version_labels, version_title
from ..records import PolicyVersion, Run, short_id
from ..scoring import effective_status, get_template
from ..store import Store


@dataclass(frozen=True)
class RunInfo:
    """A run as the Compare page lists it."""

    run: Run
    """The run as stored."""
    name: str
    """Unique display name: the version's title (``version_title``) and the run id's last six
    characters, ``violence v3 · "tightened jest clause" (3f2a9b0c) · run 4d5e6f``."""
    stored: int
    """Predictions stored so far."""
    version: int
    """The run's predictions version (``Store.predictions_version``): raised by every write of its
    predictions, so it keys the pages' caches of them (their count does not: a resend of errors
    stores as many as it forgot)."""
    hard_label: bool
    """True when the run's template gives labels, not probabilities."""
    version_created: str = ""
    """When the policy version it scored was saved."""


def scored_runs(store: Store) -> dict[str, RunInfo]:
    """Runs with at least one stored prediction, newest first, by id; study variants are left
    out (they are read on the Insight page)."""
    out, title = {}, version_namer(store)
    for run in reversed(store.runs(variants=False)):
        stored = store.prediction_counts(run.id)[0]
        if stored:
            version = store.policy_version(run.policy_version_id)
            name = f"{title(version)} · run {run.id[-6:]}"
            out[run.id] = RunInfo(run, name, stored, store.predictions_version(run.id),
                                  not get_template(run.template).has_probability, version.created)
    return out


def version_namer(store: Store, *, short: bool = False):
    """A function naming a version as every page does: ``version_title`` (``short``: the label and
    hash alone, ``v3 · 3f2a9b0c``, for a table that has a policy column), with the labels of the
    store's workspace (the folder its private folder is in), read once per policy; a version the
    workspace no longer holds is named by its hash alone."""
    labels: dict[str, dict[str, str]] = {}

    def name(version: PolicyVersion) -> str:
        if version.policy not in labels:
            try:
                labels[version.policy] = version_labels(store.private_dir.parent, version.policy)
            except CopeEvalError:  # a policy name that is no folder name here (a store from elsewhere)
                labels[version.policy] = {}
        label = labels[version.policy].get(version.id)
        if short:
            return f"{label} · {short_id(version.id, 8)}" if label else short_id(version.id, 8)
        return version_title(version, label)
    return name


def default_pair(runs: Mapping[str, RunInfo]) -> list[str]:
    """The two newest runs, the one with the older policy version first (A), so B - A reads as
    "what the edit did"; runs of one version keep their creation order."""
    newest = list(runs.values())[:2]
    return [r.run.id for r in sorted(newest, key=lambda r: (r.version_created, r.run.created, r.run.id))]


def agreement_groups(store: Store) -> dict[tuple[str, str], list[RunInfo]]:
    """Completed runs (study variants left out) grouped by (policy version id, golden hash); only
    groups of two runs or more, newest run first within a group (to the second)."""
    groups: dict[tuple[str, str], list[RunInfo]] = {}
    for info in scored_runs(store).values():
        if effective_status(info.run) == "completed":
            groups.setdefault((info.run.policy_version_id, info.run.golden_hash), []).append(info)
    return {key: infos for key, infos in groups.items() if len(infos) >= 2}


def group_labels(store: Store, groups: Mapping[tuple[str, str], Sequence[RunInfo]]) -> dict[tuple[str, str], str]:
    """One line per group of ``agreement_groups`` for a menu: version title · golden set · runs."""
    golden, title = store.golden_sets().set_index("hash")["name"], version_namer(store)
    return {(version_id, golden_hash): f"{title(store.policy_version(version_id))} · "
                                       f"{golden.get(golden_hash, short_id(golden_hash))} · {len(runs)} runs"
            for (version_id, golden_hash), runs in groups.items()}


def completed_runs(store: Store) -> dict[str, RunInfo]:
    """Completed runs an analyst started (study variants left out), newest first, by id: the runs
    a study can start from."""
    return {rid: info for rid, info in scored_runs(store).items() if effective_status(info.run) == "completed"}


MY_RUNS, EVERYONES_RUNS = "My runs", "Everyone's runs"
"""What Evaluate's run picker lists: this analyst's runs (``own_runs``), or every run in the workspace."""


def own_runs(run_ids: Sequence[str], *, authors: Mapping[str, str], author: str | None,
             started: Sequence[str]) -> list[str]:
    """The runs of ``run_ids`` (kept in their order) that are this analyst's: with sign-in on
    (``author`` given), the ones ``start_runs`` recorded under that author, from any session; with
    sign-in off, the ones this session started (``started``): nothing else tells one analyst's runs
    from another's."""
    if author is not None:
        return [r for r in run_ids if authors.get(r) == author]
    mine = set(started)
    return [r for r in run_ids if r in mine]


def run_to_follow(offered: Sequence[str], *, followed: str | None, own: Sequence[str],
                  author: str | None) -> str | None:
    """The run Evaluate follows among ``offered`` (newest first): the one it follows already, else the
    analyst's newest own run. Only with sign-in off and none of this session's own is it the newest
    offered (a single analyst's workspace, where a terminal's run is theirs too); with sign-in on it
    is never another's run unless picked: None, nothing followed."""
    if followed in offered:
        return followed
    mine = [r for r in own if r in offered]
    if mine:
        return mine[0]
    return offered[0] if author is None and offered else None
