"""Studies: variants of a base run's policy text, each scored as an ordinary run.

Probes, clause ablation and change attribution all ask "what happens to these items under a
slightly different policy?". Each variant becomes a policy version (kept in the store only, not
in the policy folders) and a run over the chosen items with the base run's model, template,
answer mode and threshold. So variants go through the same runner, retries, error counting,
resume and cache as any run: ablating the same clause twice sends no request the second time.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..golden import golden_set_hash
from ..policies import version_id
from ..records import Endpoint, GoldenSet, PolicyVersion, Run, Study, StudyRun
from ..scoring import RunProgress, create_run, effective_status, execute_run
from ..store import Store, utc_now

SELECTIONS = ("all", "sample", "near")
"""Which items a study scores: every item, a seeded random sample, or the items nearest the
base run's threshold (where a policy edit can flip a decision)."""


@dataclass(frozen=True)
class Variant:
    """A policy text to score, derived from the base run's."""

    role: str
    """Unique machine name in the study, e.g. ``inverted``."""
    label: str
    """What the analyst reads."""
    text: str
    """The full policy text sent to the model."""


@dataclass(frozen=True)
class StudyProgress:
    """A snapshot for a progress bar over all the study's runs."""

    runs_done: int
    runs_total: int
    current: RunProgress | None
    """Progress of the run being scored now."""


def select_items(results: pd.DataFrame, selection: str = "all", *, threshold: float = 0.5,
                 limit: int | None = None, seed: int = 0) -> list[str]:
    """Item ids of a base run's results to score, scored items only.

    ``sample`` takes ``limit`` items at random (seeded, so a repeat selects the same items and
    hits the cache); ``near`` takes the ``limit`` items whose score is closest to ``threshold``.
    """
    if selection not in SELECTIONS:
        raise ConfigError(f"Unknown item selection {selection!r}; choose one of {', '.join(SELECTIONS)}.")
    if limit is not None and limit < 1:
        raise ConfigError(f"The number of items must be at least 1, not {limit}.")
    scored = results[results["error"].isna() & results["score"].notna()]
    if scored.empty:
        raise ConfigError("The base run has no scored items to study.")
    if selection == "all" or limit is None or limit >= len(scored):
        return scored["item_id"].tolist()
    if selection == "sample":
        picked = np.random.default_rng(seed).choice(len(scored), size=limit, replace=False)
        return scored["item_id"].iloc[np.sort(picked)].tolist()
    distance = (scored["score"] - threshold).abs().to_numpy()
    nearest = np.argsort(distance, kind="stable")[:limit]
    return scored["item_id"].iloc[np.sort(nearest)].tolist()


def subset(golden: GoldenSet, item_ids: Iterable[str], *, why: str) -> GoldenSet:
    """The golden set restricted to ``item_ids`` (its own hash), named after ``why``."""
    wanted = set(item_ids)
    items = golden.items[golden.items["id"].isin(wanted)].reset_index(drop=True)
    if len(items) == len(golden):
        return golden
    missing = wanted - set(items["id"])
    if missing:
        raise ConfigError(f"{len(missing)} item(s) are not in golden set {golden.name}, e.g. {sorted(missing)[0]!r}.")
    return GoldenSet(name=f"{golden.name} ({why})", hash=golden_set_hash(items), items=items)


def create_study(store: Store, *, kind: str, base_run: Run, variants: Sequence[Variant],
                 item_ids: Iterable[str] | None = None, params: dict | None = None, author: str = "") -> Study:
    """Register one run per variant over ``item_ids`` (default: all items) and the study."""
    roles = [v.role for v in variants]
    if not variants:
        raise ConfigError("A study needs at least one policy variant.")
    if len(set(roles)) != len(roles):
        raise ConfigError(f"Variant roles must be unique: {roles}.")
    for variant in variants:
        if not variant.text.strip():
            raise ConfigError(f"Variant {variant.label!r} has an empty policy text.")
    base_version = store.policy_version(base_run.policy_version_id)
    golden = store.golden_set(base_run.golden_hash)
    items = golden if item_ids is None else subset(golden, item_ids, why=f"{kind} items")
    endpoint = Endpoint(base_run.base_url, base_run.model)
    runs = []
    for variant in variants:
        version = PolicyVersion(id=version_id(variant.text), policy=base_version.policy, text=variant.text,
                                parent=base_version.id, note=f"{kind}: {variant.label}", author="cope-eval",
                                created=utc_now())
        run = create_run(store, policy=version, golden=items, endpoint=endpoint, template=base_run.template,
                         answer_mode=base_run.answer_mode, threshold=base_run.threshold,
                         concurrency="auto" if base_run.adaptive else base_run.concurrency)
        runs.append(StudyRun(variant.role, variant.label, run.id))
    study = Study(new_study_id(), kind, base_run.id, dict(params or {}, items=len(items)), author, utc_now(),
                  tuple(runs))
    store.put_study(study)
    return study


def execute_study(store: Store, study_id: str, endpoint: Endpoint, *, workspace_root: Path,
                  progress: Callable[[StudyProgress], None] | None = None,
                  cancel: threading.Event | None = None, **options) -> int:
    """Score every variant run that is not complete yet, one after another; returns the HTTP
    requests made. Resumable like a run: completed variants and stored items are skipped."""
    study = store.study(study_id)
    cancel = cancel or threading.Event()
    requests = 0
    for done, member in enumerate(study.runs):
        if cancel.is_set():
            break
        if effective_status(store.run(member.run_id)) == "completed":
            continue

        def report(current: RunProgress, done=done) -> None:
            if progress:
                progress(StudyProgress(done, len(study.runs), current))

        result = execute_run(store, member.run_id, endpoint, workspace_root=workspace_root,
                             progress=report, cancel=cancel, **options)
        requests += result.requests
        if result.run.status == "interrupted":
            break
    if progress:
        progress(StudyProgress(sum(effective_status(store.run(r.run_id)) == "completed" for r in study.runs),
                               len(study.runs), None))
    return requests


def endpoint_mismatch(base_run: Run, endpoint: Endpoint | None) -> str | None:
    """Why ``endpoint`` cannot score variants of ``base_run`` (they must go to the model and
    server that scored it, or their scores do not compare), or None when it can."""
    if endpoint is not None and (endpoint.base_url, endpoint.model) == (base_run.base_url, base_run.model):
        return None
    return (f"Run {base_run.id} was scored by {base_run.model!r} at {base_run.base_url}; "
            "choose that server and model to score its variants.")


def study_status(store: Store, study: Study, *, run_status: Callable[[Run], str] = effective_status) -> str:
    """``completed`` when every variant is, ``running`` while one is, else the first other status.

    ``run_status`` is the rule for one variant run: ``run_status.effective_status``, or the app's
    ``RunManager.status`` that also knows the runs its workers are starting."""
    statuses = [run_status(store.run(r.run_id)) for r in study.runs]
    if all(s == "completed" for s in statuses):
        return "completed"
    if "running" in statuses:
        return "running"
    return next(s for s in statuses if s != "completed")


STUDY_ID_PREFIX = "study-"
"""How every study's id starts (a run's starts with ``run-``)."""


def new_study_id() -> str:
    """``study-<UTC time>-<6 hex>``: sorts by creation, unique within a second."""
    return f"{STUDY_ID_PREFIX}{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
