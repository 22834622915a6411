"""Which runs the Compare and Export pages offer, under which names, and which two by default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .records import Run
from .store import Store
from .templates import get_template
from .views import short_id


@dataclass(frozen=True)
class RunInfo:
    """A run as the Compare page lists it."""

    run: Run
    """The run as stored."""
    name: str
    """Short unique display name: ``policy@version · run id suffix``."""
    stored: int
    """Predictions stored so far (keys caches of a run still in progress)."""
    hard_label: bool
    """True when the run's template gives labels, not probabilities."""
    version_created: str = ""
    """When the policy version it scored was saved."""


def scored_runs(store: Store) -> dict[str, RunInfo]:
    """Runs with at least one stored prediction, newest first, by id; study variants are left
    out (they are read on the Insight page)."""
    out = {}
    for run in reversed(store.runs(variants=False)):
        stored = store.prediction_counts(run.id)[0]
        if stored:
            version = store.policy_version(run.policy_version_id)
            name = f"{version.policy}@{short_id(run.policy_version_id, 8)} · {run.id[-6:]}"
            out[run.id] = RunInfo(run, name, stored, not get_template(run.template).has_probability, version.created)
    return out


def default_pair(runs: Mapping[str, RunInfo]) -> list[str]:
    """The two newest runs, the one with the older policy version first (A), so B - A reads as
    "what the edit did"; runs of one version keep their creation order."""
    newest = list(runs.values())[:2]
    return [r.run.id for r in sorted(newest, key=lambda r: (r.version_created, r.run.created, r.run.id))]
