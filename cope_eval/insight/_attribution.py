"""Change attribution: which edit between two policy versions moved which items.

Runs A (old text) and B (new text) scored the same golden set with the same model, template
and answer mode. The diff A → B is cut into hunks (``policy_hunks``); each variant is B with
one hunk put back as it was in A, scored over the chosen items in one study (kind
``attribution``, base run B). A hunk's effect on an item is ΔP = P_B − P_(B with the hunk
reverted): how far that edit alone, with every other edit in place, moved the item.

Hunks can interact (one edit matters only because of another), so the effects of all hunks
need not add up to the item's whole move P_B − P_A; the report gives the residual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..policies import Hunk, diff_hunks, revert_hunk
from ..records import Run, Study
from ..store import Store, effective_status, run_results
from ._kinds import Design, StudyData, StudyKind, require_completed
from ._studies import Variant

ROLE_PREFIX = "revert:"
MIN_MOVE = 0.01
"""Items that moved less than this from A to B have no explained share (it would divide by ~0)."""
HUNK_COLUMNS = ("item_id", "label", "score_a", "score_b", "score_reverted", "delta_p", "total_move")
INTERACTION_NOTE = ("Each hunk is reverted alone, with every other edit in place; when hunks interact, "
                    "their effects need not add up to an item's whole move from A to B (see residual).")


@dataclass(frozen=True, eq=False)
class HunkEffect:
    """What one hunk of the edit did to the rescored items."""

    hunk: Hunk
    """The hunk, with its old and new lines."""
    run_id: str
    """The variant run that scored B with this hunk reverted."""
    items: pd.DataFrame
    """Every rescored item, largest |ΔP| first: item_id, label, score_a, score_b,
    score_reverted, delta_p (P_B − P_reverted; missing where the variant errored), total_move
    (P_B − P_A)."""
    errors: int
    """Rescored items that errored with the hunk reverted."""

    def top(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` items this hunk moved most (errored items left out)."""
        return self.items[self.items["delta_p"].notna()].head(n).reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class AttributionReport:
    """Per hunk of the edit A → B, the items it moved; per item, how much the hunks explain."""

    study_id: str
    run_a_id: str
    run_b_id: str
    effects: tuple[HunkEffect, ...]
    """One per hunk, in the order of B's text."""
    explained: pd.DataFrame
    """One row per rescored item, largest whole move first: item_id, label, score_a, score_b,
    total_move, one ΔP column per hunk id, explained (their sum; missing when a variant errored
    on the item), residual (total_move − explained) and share (explained / total_move; missing
    when |total_move| < MIN_MOVE)."""
    rescored: int
    """Items each variant scored."""
    scored: int
    """Items run B scored."""
    note: str
    """How to read ``explained``, and which items were rescored."""

    def effect(self, hunk_id: str) -> HunkEffect:
        return next(e for e in self.effects if e.hunk.id == hunk_id)

    def to_dict(self) -> dict:
        return {
            "study": self.study_id, "run_a": self.run_a_id, "run_b": self.run_b_id,
            "items_rescored": self.rescored, "items_scored": self.scored, "note": self.note,
            "hunks": [{
                "id": e.hunk.id, "kind": e.hunk.kind, "where": e.hunk.where, "old_lines": list(e.hunk.old_lines),
                "new_lines": list(e.hunk.new_lines), "run": e.run_id, "errors": e.errors,
                "items": _records(e.items),
            } for e in self.effects],
            "explained": _records(self.explained),
        }


def pair_problem(run_a: Run, run_b: Run) -> str | None:
    """Why runs A and B cannot be attributed (their scores would not compare), or None."""
    for field, what in (("golden_hash", "golden set"), ("base_url", "server"), ("model", "model"),
                        ("template", "template"), ("answer_mode", "answer mode")):
        if getattr(run_a, field) != getattr(run_b, field):
            return f"Runs {run_a.id} and {run_b.id} used different {what}s; attribute runs that differ only in policy."
    if run_a.policy_version_id == run_b.policy_version_id:
        return f"Runs {run_a.id} and {run_b.id} scored the same policy text; there is no edit to attribute."
    return None


def attribution_candidates(store: Store, run_b: Run) -> list[Run]:
    """Completed runs that can be A for ``run_b``: same policy, another version, nothing else
    different. The run of B's parent version comes first, then the newest."""
    policy = store.policy_version(run_b.policy_version_id)
    runs = [r for r in reversed(store.runs(variants=False)) if r.id != run_b.id
            and effective_status(r) == "completed" and pair_problem(r, run_b) is None
            and store.policy_version(r.policy_version_id).policy == policy.policy]
    return sorted(runs, key=lambda r: r.policy_version_id != policy.parent)


def moved_items(results_a: pd.DataFrame, results_b: pd.DataFrame, limit: int | None = None) -> list[str]:
    """Ids of the ``limit`` items (all when None) whose score moved most from A to B, among
    items both runs scored, in B's order."""
    if limit is not None and limit < 1:
        raise ConfigError(f"The number of items must be at least 1, not {limit}.")
    a = results_a[results_a["error"].isna()].set_index("item_id")["score"]
    b = results_b[results_b["error"].isna() & results_b["score"].notna()]
    move = (b["score"].to_numpy() - a.reindex(b["item_id"]).to_numpy())
    both = ~np.isnan(move)
    if not both.any():
        raise ConfigError("Runs A and B have no scored item in common.")
    ids, move = b["item_id"].to_numpy()[both], np.abs(move[both])
    keep = np.sort(np.argsort(-move, kind="stable")[:limit]) if limit is not None else np.arange(len(ids))
    return ids[keep].tolist()


def hunk_variants(old_text: str, new_text: str, hunks: Sequence[Hunk]) -> list[Variant]:
    """One variant per hunk: the new text with that hunk reverted."""
    return [Variant(ROLE_PREFIX + h.id, f"{h.id} reverted ({h.kind}, {h.where})", revert_hunk(old_text, new_text, h))
            for h in hunks]


def create_attribution(store: Store, run_a: Run, run_b: Run, *, items: str = "all", limit: int | None = None,
                       author: str = "") -> Study:
    """Register an attribution study of the edit from run A's policy to run B's."""
    return ATTRIBUTION.create(store, run_b, items=items, limit=limit, author=author, run_a=run_a)


def attribution_report(store: Store, study_id: str) -> AttributionReport:
    """The report of a completed attribution study."""
    return ATTRIBUTION.report(store, study_id)


def _design(store: Store, run_b: Run, *, items: str, limit: int | None, run_a: Run) -> Design:
    problem = pair_problem(run_a, run_b)
    if problem:
        raise ConfigError(problem)
    for run in (run_a, run_b):
        require_completed(run, "attribute two completed runs")
    old, new = (store.policy_version(r.policy_version_id).text for r in (run_a, run_b))
    hunks = diff_hunks(old, new)
    if not hunks:
        raise ConfigError(f"The policies of {run_a.id} and {run_b.id} have the same lines; nothing to attribute.")
    item_ids = None
    if items == "moved":  # the one selection that needs run A's scores: this kind picks those items itself
        item_ids = moved_items(run_results(store, run_a.id), run_results(store, run_b.id), limit)
    return Design(hunk_variants(old, new, hunks), {"run_a": run_a.id, "hunks": len(hunks)}, item_ids)


def _report(store: Store, data: StudyData) -> AttributionReport:
    study, run_b = data.study, data.base_run
    run_a = store.run(study.params["run_a"])
    hunks = {h.id: h for h in diff_hunks(store.policy_version(run_a.policy_version_id).text, data.base_text)}
    b = data.base
    moves = pd.DataFrame({"item_id": b["item_id"], "label": b["label"],
                          "score_a": _scores(run_results(store, run_a.id), b["item_id"]), "score_b": b["score"]})
    moves["total_move"] = moves["score_b"] - moves["score_a"]
    effects = []
    for member in study.runs:
        variant = data.variants[member.role]
        reverted = _scores(variant, b["item_id"])
        items = moves.assign(score_reverted=reverted, delta_p=moves["score_b"] - reverted)[list(HUNK_COLUMNS)]
        effects.append(HunkEffect(hunks[member.role.removeprefix(ROLE_PREFIX)], member.run_id,
                                  _largest_first(items, "delta_p"), int(variant["error"].notna().sum())))
    scored = int(data.base_all["error"].isna().sum())
    note = INTERACTION_NOTE if len(b) >= scored else (
        f"Only {len(b)} of the {scored} items run B scored were rescored ({study.params.get('selection')}). "
        + INTERACTION_NOTE)
    return AttributionReport(study.id, run_a.id, run_b.id, tuple(effects), _explained(moves, effects),
                             len(b), scored, note)


ATTRIBUTION = StudyKind("attribution", "an attribution", ("all", "moved", "near"), _design, _report)
"""Change attribution (base run B): one variant per hunk of the edit A → B reverted, over every
item B scored, the ``limit`` whose P("1") moved most from A to B, or the ``limit`` nearest B's
threshold."""


def _explained(moves: pd.DataFrame, effects: list[HunkEffect]) -> pd.DataFrame:
    """Per item: each hunk's ΔP, their sum, the residual and the share of the whole move."""
    out = moves.copy()
    for effect in effects:
        out[effect.hunk.id] = effect.items.set_index("item_id")["delta_p"].reindex(out["item_id"]).to_numpy()
    hunk_ids = [e.hunk.id for e in effects]
    out["explained"] = out[hunk_ids].sum(axis=1, min_count=len(hunk_ids))
    out["residual"] = out["total_move"] - out["explained"]
    moved = out["total_move"].abs() >= MIN_MOVE
    out["share"] = (out["explained"] / out["total_move"].where(moved)).where(moved)
    return _largest_first(out, "total_move")


def _scores(results: pd.DataFrame, item_ids: pd.Series) -> np.ndarray:
    """A run's scores of ``item_ids`` in that order; NaN where it errored."""
    frame = results.set_index("item_id").reindex(item_ids)
    return frame["score"].where(frame["error"].isna()).to_numpy()


def _largest_first(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows by decreasing |column|, missing values last, ties in their order."""
    order = np.argsort(-frame[column].abs().fillna(-1).to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts, missing values as None (JSON null)."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
