"""Which runs a page opens on when another page just chose one (the current selection)."""

from __future__ import annotations

from collections.abc import Mapping

from ._run_picker import RunInfo, default_pair


def pair_ending_with(runs: Mapping[str, RunInfo], run_id: str | None) -> list[str]:
    """Compare's runs with ``run_id`` as B. A is the newest other run on the same golden set (runs
    on other items do not compare), one of another policy version first, so B - A reads as what an
    edit did; ``[run_id]`` alone when no other run shares its items. ``runs`` is newest first
    (``scored_runs``); when it does not offer ``run_id``, the newest pair (``default_pair``)."""
    if run_id not in runs:
        return default_pair(runs)
    b = runs[run_id].run
    same_items = [info.run for rid, info in runs.items() if rid != run_id and info.run.golden_hash == b.golden_hash]
    other_version = [r for r in same_items if r.policy_version_id != b.policy_version_id]
    a = (other_version or same_items or [None])[0]
    return [run_id] if a is None else [a.id, run_id]
