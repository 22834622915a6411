"""The suite: each sample harm-area policy over its sample golden set, on one or more servers or
models, as the model card's benchmark table (``metrics.card_table``).

Every area of every side is an ordinary stored run (``create_run``/``execute_run``): each figure
names its server, model, policy version and golden set; an interrupted area continues with
``resume`` like any run; re-running the suite creates new runs whose answers come from the cache.
The suite is a list of runs, not a study: a study's variants share one base run, its endpoint and
its policy, and are hidden from the run lists, while the suite's runs differ in policy, golden set
and endpoint and are runs an analyst may open, compare and export on their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..golden import add_golden_set, load_golden_set
from ..metrics import AreaScores
from ..policies import latest_version
from ..records import Endpoint, GoldenSet
from ..scoring import AUTO, DEFAULT_TEMPLATE, RunProgress, create_run, effective_status, execute_run
from ..store import Store, run_results
from ._studies import subset

SAMPLE_SETS: dict[str, str | None] = {
    "drugs": None,
    "harassment": "openai-moderation/harassment.csv",
    "hate-speech": "openai-moderation/hate.csv",
    "self-harm": "openai-moderation/self-harm.csv",
    "sexual-content": "openai-moderation/sexual.csv",
    "toxic-speech": None,
    "violence": "openai-moderation/violence.csv",
}
"""The one pairing of harm area (a policy folder under ``policies/``) with its sample golden set
(under ``golden_sets/``), as golden_sets/README.md's table gives it; None: the samples have no set
for that area (the source has no such labels)."""
AREAS = tuple(SAMPLE_SETS)
"""The harm areas, in the card's order."""


@dataclass(frozen=True)
class SuiteSide:
    """One server or model the suite scores every area on."""

    name: str
    """How the table heads its columns, e.g. ``A``."""
    endpoint: Endpoint
    """Server, model and key."""
    template: str = DEFAULT_TEMPLATE
    """Prompt template."""
    answer_mode: str = "logprobs"
    """``logprobs`` or ``constrained``."""

    def describe(self) -> str:
        return f"{self.endpoint.model} at {self.endpoint.base_url} ({self.template}, {self.answer_mode})"


def side_b(a: SuiteSide, *, base_url: str | None = None, model: str | None = None, template: str | None = None,
           answer_mode: str | None = None, own_key: str | None = None,
           template_key: Callable[[str], str | None], first_model: Callable[[str, str | None], str]) -> SuiteSide:
    """Side B, each part A's unless given: the one rule the CLI's ``-b`` flags and the page's B
    controls share. The server is ``base_url``, else the default server of a template given for B,
    else A's. The key is ``own_key``; else A's key when B is A's server (A's key never goes to
    another server); else ``template_key`` of the variable B's template names, if it names one. The
    model is ``model``; else A's on A's server; else ``first_model(url, key)``, the server's first.
    A side B equal to A is refused (``options``: ``side_b``)."""
    from ..config import normalise_base_url
    from ..scoring import TEMPLATES

    template_b = a.template if template is None else template
    if base_url is not None:
        url = normalise_base_url(base_url)
    elif template is not None and TEMPLATES[template].default_base_url:
        url = normalise_base_url(TEMPLATES[template].default_base_url)
    else:
        url = a.endpoint.base_url
    same_server = url == a.endpoint.base_url
    key_env = TEMPLATES[template_b].key_env_var
    if own_key is not None:
        key = own_key
    elif same_server:
        key = a.endpoint.api_key
    else:
        key = template_key(key_env) if key_env is not None else None
    if model is None:
        model = a.endpoint.model if same_server else first_model(url, key)
    side = SuiteSide("B", Endpoint(url, model, key), template_b, a.answer_mode if answer_mode is None else answer_mode)
    if (url, model, template_b, side.answer_mode) == (a.endpoint.base_url, a.endpoint.model, a.template,
                                                       a.answer_mode):
        raise ConfigError("Side B is the same as side A", options=("side_b",))
    return side


@dataclass(frozen=True)
class SuiteRun:
    """One area of one side: its run, or none when the area has no golden set."""

    side: str
    """The side's name."""
    area: str
    """The harm area."""
    run_id: str | None
    """The stored run; None when the area has no golden set."""


def suite_golden(workspace_root: Path, *, areas: Sequence[str] | None = None,
                 golden: Mapping[str, Path] | None = None) -> dict[str, Path | None]:
    """Each area's golden-set file (``areas``: all, in the card's order, when None): the sample
    set, or the one ``golden`` gives for the area (a team's own set for an area without a sample,
    or in place of the sample). None: no set, the area is shown without figures."""
    golden = dict(golden or {})
    chosen = list(AREAS if areas is None else areas)
    unknown = [a for a in [*chosen, *golden] if a not in SAMPLE_SETS]
    if unknown:
        raise ConfigError(f"Unknown harm area {unknown[0]!r}; the areas are {', '.join(AREAS)}.")
    if not chosen:
        raise ConfigError(f"Choose at least one harm area of {', '.join(AREAS)}.")
    paths = {}
    for area in dict.fromkeys(chosen):
        sample = SAMPLE_SETS[area]
        path = golden.get(area) or (Path(workspace_root) / "golden_sets" / sample if sample else None)
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"The golden set for {area!r} is not a file: {path}.")
        paths[area] = path
    return paths


def create_suite(store: Store, workspace_root: Path, sides: Sequence[SuiteSide], golden: Mapping[str, Path | None],
                 *, threshold: float = 0.5, limit: int | None = None, seed: int = 0,
                 concurrency: int | str = AUTO) -> list[SuiteRun]:
    """Register one run per area with a golden set and side: the area's latest policy version
    over its set (``limit``: at most that many items, a seeded sample, the same on every side and
    every repeat so the cache answers). Each set is loaded and stored once, with its file as origin."""
    if limit is not None and limit < 1:
        raise ConfigError(f"The number of items per area must be at least 1, not {limit}.")
    runs = []
    for area, path in golden.items():
        if path is None:
            runs += [SuiteRun(side.name, area, None) for side in sides]
            continue
        policy = latest_version(workspace_root, area)
        loaded = load_golden_set(path, workspace_root)
        items = add_golden_set(store, loaded, origin=f"file {path}")
        items = sample_items(items, limit, seed=seed)
        for side in sides:
            run = create_run(store, policy=policy, golden=items, endpoint=side.endpoint, template=side.template,
                             answer_mode=side.answer_mode, threshold=threshold, concurrency=concurrency)
            runs.append(SuiteRun(side.name, area, run.id))
    return runs


def sample_items(golden: GoldenSet, limit: int | None, *, seed: int = 0) -> GoldenSet:
    """``golden`` cut to ``limit`` items drawn at random (seeded; in file order), or whole."""
    if limit is None or limit >= len(golden):
        return golden
    picked = np.sort(np.random.default_rng(seed).choice(len(golden), size=limit, replace=False))
    return subset(golden, golden.items["id"].iloc[picked], why=f"{limit} items, seed {seed}")


def execute_suite(store: Store, runs: Sequence[SuiteRun], sides: Sequence[SuiteSide], *, workspace_root: Path,
                  started: Callable[[SuiteRun], None] | None = None,
                  progress: Callable[[RunProgress], None] | None = None,
                  cancel: threading.Event | None = None, **options) -> int:
    """Score every run of the suite that is not complete yet, one after another (``started`` is
    told of each first); returns the HTTP requests made. Stops at a cancel or an interrupted run;
    ``suite_scores`` then says which run is not complete."""
    endpoints = {side.name: side.endpoint for side in sides}
    cancel = cancel or threading.Event()
    requests = 0
    for member in runs:
        if member.run_id is None or effective_status(store.run(member.run_id)) == "completed":
            continue
        if cancel.is_set():
            break
        if started:
            started(member)
        result = execute_run(store, member.run_id, endpoints[member.side], workspace_root=workspace_root,
                             progress=progress, cancel=cancel, **options)
        requests += result.requests
        if result.run.status == "interrupted":
            break
    return requests


def suite_scores(store: Store, runs: Sequence[SuiteRun]) -> dict[str, list[AreaScores]]:
    """Each side's areas as ``metrics.card_table`` reads them; every run must be complete."""
    sides: dict[str, list[AreaScores]] = {}
    for member in runs:
        if member.run_id is None:
            sides.setdefault(member.side, []).append(AreaScores(member.area, None))
            continue
        run = store.run(member.run_id)
        status = effective_status(run)
        if status != "completed":
            raise ConfigError(f"Run {run.id} ({member.area}, side {member.side}) is {status}; continue it with: "
                              f"python -m cope_eval resume {run.id}, then run the suite again (scored items come "
                              "from the cache).")
        sides.setdefault(member.side, []).append(AreaScores(
            member.area, run_results(store, run.id), threshold=run.threshold, run_id=run.id,
            policy_version_id=run.policy_version_id, golden_hash=run.golden_hash,
            golden_name=store.golden_set(run.golden_hash).name))
    return sides
