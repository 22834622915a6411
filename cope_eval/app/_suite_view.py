"""What the "Model card table" page does: the suite (``insight.create_suite``: each sample harm-area
policy over its sample golden set, one ordinary run per area and side) started in the background,
followed per area, and shown as the card's table (``metrics.card_table``).

Each run scores in a worker of its own (``RunManager``), as Evaluate's runs do, so the suite keeps
going when the tab closes or the app restarts. The page keeps only the suite's run ids (session
state); the runs themselves, and so every figure, live in the store.

Errors name the page's controls ("Areas", "Own golden sets", "B server URL"...), as the CLI's name
its flags.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import normalise_base_url
from ..errors import ConfigError, CopeEvalError
from ..export import MEAN_ROW
from ..golden import load_golden_set
from ..insight import AREAS, SAMPLE_SETS, SuiteRun, SuiteSide, create_suite, side_b, suite_golden, suite_scores
from ..metrics import AREA_NO_GOLDEN, SHOWN, CardTable, card_table
from ..policies import list_policies
from ..records import Endpoint
from ..scoring import probe
from ..store import Store
from ._background import RunManager
from ._run_setup import RunView, resume_run, run_view

SAME_AS_A = "same as A"
"""B's template or answer mode when it is A's."""
_TITLES = {"precision": "precision", "recall": "recall", "f1": "F1"}


def sample_areas(workspace_root: Path) -> list[str]:
    """The areas this workspace can run as they come: a policy, and its sample golden set on disk."""
    policies = set(list_policies(workspace_root))
    return [a for a in AREAS if a in policies and SAMPLE_SETS[a] is not None
            and (Path(workspace_root) / "golden_sets" / SAMPLE_SETS[a]).is_file()]


def own_golden(text: str, workspace_root: Path) -> dict[str, Path]:
    """The "Own golden sets" box: one ``AREA=PATH`` a line (the CLI's ``--golden``), a path relative
    to the workspace or absolute; blank lines are skipped."""
    chosen = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        area, separator, path = (part.strip() for part in line.partition("="))
        if not separator or not area or not path:
            raise ConfigError(f"Own golden sets, line {number}: write AREA=PATH (e.g. drugs=golden_sets/drugs.csv), "
                              f"not {line.strip()!r}.")
        if area not in AREAS:
            raise ConfigError(f"Own golden sets, line {number}: unknown area {area!r}; the areas are {', '.join(AREAS)}.")
        full = Path(workspace_root) / path
        if not full.is_file():
            raise ConfigError(f"Own golden sets, line {number}: no such file {path} in the workspace.")
        chosen[area] = full
    return chosen


def suite_plan(workspace_root: Path, areas: Sequence[str], own_text: str) -> dict[str, Path | None]:
    """Each chosen area's golden-set file (None: no set, shown without figures), checked before
    anything is created: every area with a set needs its policy in the workspace."""
    if not areas:
        raise ConfigError(f"Areas: choose at least one harm area of {', '.join(AREAS)}.")
    own = own_golden(own_text, workspace_root)
    not_chosen = [a for a in own if a not in areas]
    if not_chosen:
        raise ConfigError(f"Own golden sets names {not_chosen[0]!r}, which is not among the chosen Areas: add it there.")
    try:
        golden = suite_golden(workspace_root, areas=areas, golden=own)
    except ConfigError as error:
        raise ConfigError(f"Areas: {error} Leave the area out, or give its set under Own golden sets.") from None
    policies = set(list_policies(workspace_root))
    missing = [a for a, path in golden.items() if path is not None and a not in policies]
    if missing:
        raise ConfigError(f"Areas: this workspace has no {missing[0]!r} policy; write one on the Policies page "
                          "or leave the area out.")
    return golden


def area_size(path: Path, workspace_root: Path) -> int:
    """How many items the golden-set file holds (what a suite without an item cap scores)."""
    return len(load_golden_set(path, workspace_root).golden_set)


def cost_note(sizes: Mapping[str, int], limit: int | None, sides: int) -> str:
    """What the suite will send: items per area under the cap, times the sides."""
    per_area = {area: n if limit is None else min(n, limit) for area, n in sizes.items()}
    total = sum(per_area.values())
    listed = ", ".join(f"{area} {n:,}" for area, n in per_area.items())
    return (f"{total:,} items per side ({listed}), {total * sides:,} requests for {sides} side{'s' * (sides != 1)}; "
            "answers already in the cache are not sent again.")


@dataclass(frozen=True)
class SideB:
    """What the page's side-B controls hold (the CLI's ``-b`` flags; the key typed, never shown)."""

    base_url: str = ""
    model: str = ""
    template: str = SAME_AS_A
    answer_mode: str = SAME_AS_A
    api_key: str = ""


def suite_sides(endpoint: Endpoint, template: str, answer_mode: str, b: SideB | None) -> list[SuiteSide]:
    """Side A on the app's server, and side B by ``insight.side_b``'s rule (the CLI's too): each
    B control left empty or "same as A" is A's; the typed key is B's own."""
    sides = [SuiteSide("A", endpoint, template, answer_mode)]
    if b is None:
        return sides
    try:
        url = normalise_base_url(b.base_url) if b.base_url.strip() else None
    except CopeEvalError as error:
        raise ConfigError(f"B server URL: {error}") from None
    return sides + [side_b(sides[0], base_url=url, model=b.model.strip() or None,
                           template=None if b.template == SAME_AS_A else b.template,
                           answer_mode=None if b.answer_mode == SAME_AS_A else b.answer_mode,
                           own_key=b.api_key or None, template_key=os.environ.get, first_model=_first_model)]


def _first_model(url: str, key: str | None) -> str:
    status = probe(url, key)
    if not status.healthy:
        raise ConfigError(f"B server URL: cannot list the models at {url} ({status.error}); check the URL and "
                          "B API key, or name the model under B model.")
    return status.models[0].id


def start_suite(store: Store, manager: RunManager, workspace_root: Path, sides: Sequence[SuiteSide],
                golden: Mapping[str, Path | None], *, threshold: float, limit: int | None) -> list[SuiteRun]:
    """Create the suite's runs (``insight.create_suite``) and start each in a worker of its own."""
    runs = create_suite(store, workspace_root, sides, golden, threshold=threshold, limit=limit)
    endpoints = {side.name: side.endpoint for side in sides}
    for member in runs:
        if member.run_id is not None:
            manager.start(member.run_id, endpoints[member.side])
    return runs


def suite_progress(store: Store, manager: RunManager,
                   runs: Sequence[SuiteRun]) -> list[tuple[SuiteRun, RunView | None, str | None]]:
    """Each area of each side with how its run stands and its golden set's name (None, None: the
    area has no golden set)."""
    sets = store.golden_sets()
    names = dict(zip(sets["hash"], sets["name"])) if not sets.empty else {}
    rows = []
    for member in runs:
        view = None if member.run_id is None else run_view(store, manager, member.run_id)
        rows.append((member, view, None if view is None else names.get(view.run.golden_hash)))
    return rows


def continue_suite(store: Store, manager: RunManager, runs: Sequence[SuiteRun], endpoint: Endpoint | None, *,
                   b_api_key: str | None = None) -> int:
    """Resume every stopped run of the suite (``resume_run``: the app's key goes only to its own
    server; B's runs take B's typed key when there is one); how many were started."""
    started = 0
    for member, view, _ in suite_progress(store, manager, runs):
        if view is None or not view.resumable:
            continue
        run = view.run
        target = Endpoint(run.base_url, run.model, b_api_key) if member.side != "A" and b_api_key else endpoint
        resume_run(store, manager, run.id, target)
        started += 1
    return started


def suite_table(store: Store, runs: Sequence[SuiteRun], *, threshold: float | None) -> CardTable:
    """The card's table of a finished suite; ``threshold`` None: each run's own (0 is a threshold)."""
    return card_table(suite_scores(store, runs), threshold=threshold)


def figures_frame(table: CardTable) -> pd.DataFrame:
    """The card's layout: one row per area, the unweighted mean last; for each side precision,
    recall and F1 with their 95% intervals (``A precision``, ``A precision CI``), and a status saying
    why an area has no figures or over how many areas the mean is."""
    frame = pd.DataFrame({"area": [*table.areas, MEAN_ROW]})
    for side in table.sides:
        rows = table.side(side).reindex(list(table.areas))
        mean = table.mean.loc[side]
        frame[f"{side} status"] = [*rows["status"], f"mean over {int(mean['areas_in_mean'])} areas"]
        for metric in SHOWN:
            values = [*rows[metric], mean[metric]]
            lows, highs = [*rows[f"{metric}_low"], mean[f"{metric}_low"]], [*rows[f"{metric}_high"], mean[f"{metric}_high"]]
            frame[f"{side} {_TITLES[metric]}"] = values
            frame[f"{side} {_TITLES[metric]} CI"] = [_interval(lo, hi) for lo, hi in zip(lows, highs)]
    return frame


def runs_frame(table: CardTable) -> pd.DataFrame:
    """Where each figure comes from: side, area, run, policy version, golden set, threshold, items
    scored and errored."""
    rows = table.rows
    return pd.DataFrame({
        "side": rows["side"], "area": rows["area"], "status": rows["status"], "run": rows["run_id"],
        "policy version": rows["policy_version_id"].map(lambda v: v[:19] if isinstance(v, str) else None),
        "golden set": rows["golden_name"], "threshold": rows["threshold"], "n": rows["n"], "errors": rows["errors"],
    })


def no_set_areas(table: CardTable) -> list[str]:
    """Areas shown without figures because they have no golden set (no sample, none given)."""
    rows = table.rows
    return list(dict.fromkeys(rows.loc[rows["status"] == AREA_NO_GOLDEN, "area"]))


def _interval(low: float, high: float) -> str:
    return "" if low != low or high != high else f"[{low:.3f}, {high:.3f}]"

