"""What a workspace holds, for the overview page and the CLI, and what to do next with it.

An overview shows what it can: a stray file in a policy folder, a folder whose name is not a
policy name, or a damaged version is listed in ``problems`` beside everything else, never
allowed to hide the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..config import Workspace
from ..errors import ValidationError
from ..policies import POLICIES_DIR, scan_policy, validate_slug
from ..records import short_id

if TYPE_CHECKING:  # pandas, the store and the metrics load when a page asks for a table, not on import
    import pandas as pd

    from ..store import Store

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

    def policies_frame(self, now: datetime | None = None) -> pd.DataFrame:
        """One row per policy; ``latest`` in the reader's words ("2 h ago") when ``now`` is given."""
        import pandas as pd

        rows = [(slug, n, latest if now is None else ago(latest, now)) for slug, n, latest in self.policies]
        return pd.DataFrame(rows, columns=["policy", "versions", "latest"])

    def golden_sets_frame(self, stored: pd.DataFrame, golden_sets_dir, now: datetime) -> pd.DataFrame:
        """The stored golden sets (``Store.golden_sets()``), newest first, with their size in items,
        then the files of the golden_sets/ folder no stored set was loaded from."""
        import pandas as pd

        rows = [(name, n, ago(created, now), source or "")
                for name, n, created, source in stored[["name", "n_items", "created", "source"]].iloc[::-1].itertuples(
                    index=False)]
        loaded = set(stored["source"].dropna())
        rows += [(file, None, "not loaded yet", "golden_sets/ folder") for file, _ in self.golden_sets
                 if str(golden_sets_dir / file) not in loaded]
        return pd.DataFrame(rows, columns=["golden set", "items", "added", "from"]).astype({"items": "Int64"})


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


def ago(then: str | datetime, now: datetime) -> str:
    """``then`` in the reader's words, seen from ``now``: "just now", "5 min ago", "2 h ago",
    "3 days ago", and the date past 30 days. An ISO time without a zone is UTC; a time after
    ``now`` (another machine's clock) is "just now"."""
    when = datetime.fromisoformat(then) if isinstance(then, str) else then
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    if days <= 30:
        return "1 day ago" if days == 1 else f"{days} days ago"
    return f"{when:%Y-%m-%d}"


@dataclass(frozen=True)
class RecentRun:
    """A run as the first page lists it."""

    run_id: str
    version: str
    """``policy@version`` (12 hex digits of the version id)."""
    golden_set: str
    """The golden set's name."""
    f1: float | None
    """F1 when score >= 0.5 is "1", over the items scored so far; None before any is scored."""
    status: str
    """What the run is now (``store.effective_status``)."""
    created: str
    """ISO time the run was created."""


def recent_runs(store: Store, *, f1: Callable[[str, int], float] | None = None, limit: int = 5) -> list[RecentRun]:
    """The newest ``limit`` runs an analyst started (study variants left out), newest first.
    ``f1(run_id, version)`` gives a run's ``f1_at_half``; a page passes a cached one keyed on the
    run's predictions version (``Store.predictions_version``), so an unchanged run is not read again."""
    from ..store import effective_status
    from ._run_picker import version_namer

    f1 = (lambda run_id, version: f1_at_half(store, run_id)) if f1 is None else f1
    name = version_namer(store)
    names = dict(zip(*(store.golden_sets(study_subsets=True)[c] for c in ("hash", "name"))))
    out = []
    for run in reversed(store.runs(variants=False)[-limit:]):
        stored, errors, _ = store.prediction_counts(run.id)
        version = name(store.policy_version(run.policy_version_id))
        out.append(RecentRun(run.id, version, names.get(run.golden_hash, short_id(run.golden_hash)),
                             f1(run.id, store.predictions_version(run.id)) if stored > errors else None,
                             effective_status(run), run.created))
    return out


def f1_at_half(store: Store, run_id: str) -> float:
    """F1 of a run's dev split when score >= 0.5 is "1", from its scores alone (``run_scores``:
    no text, no raw replies), so a list of million-item runs reads a score file per run."""
    from ..metrics import metrics_at_threshold
    from ..store import run_scores

    return metrics_at_threshold(run_scores(store, run_id), threshold=0.5).f1


def recent_runs_frame(runs: list[RecentRun], now: datetime) -> pd.DataFrame:
    """The first page's runs table: times in the reader's words."""
    import pandas as pd

    return pd.DataFrame([(r.version, r.golden_set, r.f1, r.status, ago(r.created, now), r.run_id) for r in runs],
                        columns=["policy version", "golden set", "F1 at 0.5", "status", "started", "run"])


@dataclass(frozen=True)
class NextStep:
    """What the first page suggests doing next, and where."""

    text: str
    """The suggestion, in the analyst's words (policy and set names are user content: escape them)."""
    page: str
    """The page to do it on: ``policies``, ``golden_sets``, ``evaluate``, ``compare`` or ``export``."""
    policy: str | None = None
    """The policy it names, for that page to open on."""
    golden_hash: str | None = None
    """The stored golden set it names, for that page to open on."""


def next_step(summary: WorkspaceSummary, store: Store) -> NextStep:
    """The one thing to do next: write a policy, load a golden set, run a policy on a set (a sample
    policy on the set named like it, when there is one), run a second version, or compare."""
    slugs = [slug for slug, _, _ in summary.policies]
    if not slugs:
        return NextStep("Write a policy: what your classifier should flag, in plain English.", "policies")
    sets = store.golden_sets()
    if sets.empty:
        files = [name for name, _ in summary.golden_sets]
        slug, file = _pair(slugs, {f: PurePosixPath(f).stem for f in files}) if files else (slugs[0], None)
        where = f" ({file} in the golden_sets/ folder goes with {slug})" if file else ""
        return NextStep(f"Load a labeled golden set to score your policies against{where}.", "golden_sets",
                        policy=slug)
    runs = store.runs(variants=False)
    if not runs:
        slug, golden_hash = _pair(slugs, dict(zip(sets["hash"], sets["name"])))
        golden_hash = golden_hash or sets["hash"].iloc[-1]
        name = sets.set_index("hash")["name"][golden_hash]
        return NextStep(f"Run the policy {slug} on the golden set {name}.", "evaluate", policy=slug,
                        golden_hash=golden_hash)
    by_set: dict[str, set[str]] = {}
    for run in runs:
        by_set.setdefault(run.golden_hash, set()).add(run.policy_version_id)
    if all(len(versions) < 2 for versions in by_set.values()):
        newest = runs[-1]
        slug = store.policy_version(newest.policy_version_id).policy
        return NextStep(f"Edit {slug} and save a second version, then run it on the same golden set: Compare "
                        "shows what the edit changed.", "policies", policy=slug, golden_hash=newest.golden_hash)
    return NextStep("Compare the two newest runs, then export the version you trust.", "compare")


def _pair(slugs: list[str], sets: dict[str, str]) -> tuple[str, str | None]:
    """(policy, set key): the first policy with a set named like it ("violence" and
    "violence.csv", "hate-speech" and "hate"), else the first policy and no set."""
    names = {key: name.rsplit("/", 1)[-1].lower() for key, name in sets.items()}
    for wanted in (lambda slug: slug, lambda slug: slug.split("-")[0]):
        for slug in slugs:
            key = next((k for k, name in names.items() if name == wanted(slug)), None)
            if key is not None:
                return slug, key
    return slugs[0], None
