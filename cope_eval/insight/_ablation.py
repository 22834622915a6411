"""Clause ablation: remove one clause of a run's policy at a time and see what it decides.

One study (kind ``ablation``) holds one variant per clause: the base policy without that
clause (``policy_clauses.without``), scored over all the base run's scored items or only those
nearest its threshold, where removing a clause can flip a decision. Everything is "what
removing the clause does": metric deltas and ΔP are (without the clause) − (base).

When only some items were rescored, a clause's metrics are over every item of the base run,
with the rescored items' new scores put in place of their base scores: the others are assumed
unchanged, and the report says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..metrics import ThresholdMetrics, flips, metrics_at_threshold
from ..policies import Clause, pick_clauses, split_clauses, without
from ..records import Run, Study
from ..store import Store
from ._kinds import Design, StudyData, StudyKind, require_completed
from ._studies import Variant

ROLE_PREFIX = "without:"
DELTAS = ("precision", "recall", "f1")


@dataclass(frozen=True, eq=False)
class ClauseEffect:
    """What removing one clause did."""

    clause: Clause
    """The clause removed."""
    run_id: str
    """The variant run that scored the policy without it."""
    metrics: ThresholdMetrics
    """Metrics over every item of the base run without the clause (rescored items substituted)."""
    delta: dict[str, float]
    """precision, recall and f1 without the clause minus the base run's."""
    decided: pd.DataFrame
    """Items whose decision at the base threshold flips without the clause, largest |ΔP| first:
    item_id, label, score_base, score_without, delta_p (without − base), pred_base,
    pred_without, outcome (``fixed``: right only without the clause; ``broken``: right only
    with it)."""
    errors: int
    """Rescored items that errored without the clause: left out of its metrics and flips."""

    @property
    def fixed(self) -> int:
        return int((self.decided["outcome"] == "fixed").sum())

    @property
    def broken(self) -> int:
        return int((self.decided["outcome"] == "broken").sum())


@dataclass(frozen=True, eq=False)
class AblationReport:
    """Per clause, the change in metrics and the items it decides."""

    study_id: str
    base_run_id: str
    threshold: float
    """The base run's threshold: decisions and metrics are taken there."""
    base: ThresholdMetrics
    """The base run's own metrics."""
    effects: tuple[ClauseEffect, ...]
    """One per clause removed, in policy order."""
    rescored: int
    """Items each variant scored."""
    scored: int
    """Items the base run scored (errors excluded)."""
    note: str
    """What the metrics assume, when not every scored item was rescored; else ""."""

    @property
    def deciding(self) -> list[str]:
        """Ids of the clauses whose removal flips at least one item."""
        return [e.clause.id for e in self.effects if len(e.decided)]

    def effect(self, clause_id: str) -> ClauseEffect:
        return next(e for e in self.effects if e.clause.id == clause_id)

    def table(self) -> pd.DataFrame:
        """One row per clause: its id, section, text, metrics without it, deltas, flips."""
        return pd.DataFrame([{
            "clause": e.clause.id, "section": e.clause.section, "text": e.clause.summary,
            **{m: getattr(e.metrics, m) for m in DELTAS}, **{f"Δ {m}": e.delta[m] for m in DELTAS},
            "fixed": e.fixed, "broken": e.broken, "errors": e.errors,
        } for e in self.effects], columns=["clause", "section", "text", *DELTAS, *(f"Δ {m}" for m in DELTAS),
                                           "fixed", "broken", "errors"])

    def to_dict(self) -> dict:
        return {
            "study": self.study_id, "base_run": self.base_run_id, "threshold": self.threshold,
            "items_rescored": self.rescored, "items_scored": self.scored, "note": self.note,
            "base": self.base.to_dict(),
            "clauses": [{
                "id": e.clause.id, "section": e.clause.section, "kind": e.clause.kind, "text": e.clause.text,
                "lines": [e.clause.first_line, e.clause.last_line], "run": e.run_id,
                "metrics": e.metrics.to_dict(), "delta": e.delta, "fixed": e.fixed, "broken": e.broken,
                "errors": e.errors, "decided": e.decided.to_dict(orient="records"),
            } for e in self.effects],
        }


def ablation_variants(text: str, clauses: Sequence[Clause]) -> list[Variant]:
    """One variant per clause: ``text`` without it."""
    return [Variant(ROLE_PREFIX + c.id, f"without {c.id}: {c.summary}", without(text, c)) for c in clauses]


def create_ablation(store: Store, base_run: Run, *, clause_ids: Sequence[str] | None = None, items: str = "all",
                    limit: int | None = None, author: str = "") -> Study:
    """Register an ablation of a completed run: one variant per clause (all, or ``clause_ids``)
    over its scored items (``all``) or the ``limit`` nearest its threshold (``near``)."""
    return ABLATION.create(store, base_run, items=items, limit=limit, author=author, clause_ids=clause_ids)


def ablation_report(store: Store, study_id: str) -> AblationReport:
    """The report of a completed ablation study."""
    return ABLATION.report(store, study_id)


def _design(store: Store, base_run: Run, *, items: str, limit: int | None,
            clause_ids: Sequence[str] | None = None) -> Design:
    require_completed(base_run, "ablate a completed run")
    text = store.policy_version(base_run.policy_version_id).text
    clauses = pick_clauses(split_clauses(text), clause_ids)
    return Design(ablation_variants(text, clauses), {"clauses": [c.id for c in clauses]})


def _report(store: Store, data: StudyData) -> AblationReport:
    threshold = data.base_run.threshold
    full, on_items = data.base_all, data.base
    clauses = {c.id: c for c in split_clauses(data.base_text)}
    base_metrics = metrics_at_threshold(full, threshold=threshold)
    effects = []
    for member in data.study.runs:
        variant = data.variants[member.role]
        metrics = metrics_at_threshold(substitute_scores(full, variant), threshold=threshold)
        effects.append(ClauseEffect(
            clause=clauses[member.role.removeprefix(ROLE_PREFIX)], run_id=member.run_id, metrics=metrics,
            delta={m: getattr(metrics, m) - getattr(base_metrics, m) for m in DELTAS},
            decided=_decided(on_items, variant, threshold), errors=int(variant["error"].notna().sum())))
    scored = int((full["error"].isna() & full["score"].notna()).sum())
    rescored = len(on_items)
    note = "" if rescored >= scored else (
        f"Only the {rescored} of {scored} items nearest the threshold were rescored; the metrics assume "
        "the other items' scores are unchanged without each clause.")
    return AblationReport(data.study.id, data.base_run.id, threshold, base_metrics, tuple(effects), rescored,
                          scored, note)


ABLATION = StudyKind("ablation", "an ablation", ("all", "near"), _design, _report)
"""Clause ablation: one variant per clause removed, over every scored item of the base run or
the ``limit`` nearest its threshold."""


def substitute_scores(full: pd.DataFrame, rescored: pd.DataFrame) -> pd.DataFrame:
    """``full`` (a run's results) with the score and error of every item in ``rescored`` replaced
    by the rescored ones; the other items keep theirs."""
    by_id = rescored.set_index("item_id")
    at = by_id.index.get_indexer(full["item_id"])
    hit = at >= 0
    out = full.copy()
    out["error"] = out["error"].astype(object)
    out.loc[hit, "score"] = by_id["score"].to_numpy()[at[hit]]
    out.loc[hit, "error"] = by_id["error"].astype(object).to_numpy()[at[hit]]
    return out


def _decided(base: pd.DataFrame, variant: pd.DataFrame, threshold: float) -> pd.DataFrame:
    changed = flips(base, variant, threshold=threshold)
    changed = changed[changed["outcome"].isin(["fixed", "broken"])]
    return pd.DataFrame({
        "item_id": changed["item_id"], "label": changed["label"], "score_base": changed["score_a"],
        "score_without": changed["score_b"], "delta_p": changed["score_change"], "pred_base": changed["pred_a"],
        "pred_without": changed["pred_b"], "outcome": changed["outcome"].astype(str),
    }).reset_index(drop=True)

