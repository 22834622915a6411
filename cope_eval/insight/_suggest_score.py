"""A suggested edit scored on dev, compared with the run it came from, and kept as a draft.

Scoring: the suggested text becomes a study (kind ``suggestion``) of the base run with one
variant, scored over the base run's **dev items only** (a set without a split: every item) with
its model, template, answer mode and threshold. So the suggested text is a policy version kept
in the store only (as every study variant, ``_studies``): no file is written under
``policies/``, the run is hidden from run lists as a study variant, it resumes (``cope-eval
resume study-...``, the app's background worker) and hits the cache like any run. The test
split is never scored, so no figure of it can leak into the comparison.

The comparison is ``metrics.compare_runs`` (B = suggested, A = base, on the dev items; paired
bootstrap intervals) and ``metrics.flips`` (the items it fixes and breaks).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ConfigError, CopeEvalError
from ..golden import has_split, split_results
from ..metrics import RunComparison, compare_runs, flips
from ..policies import Draft, canonical_text, diff_texts, get_version, read_draft, save_draft
from ..records import Endpoint, Study
from ..store import Store, run_results
from ._kinds import require_completed
from ._studies import StudyProgress, Variant, create_study, endpoint_mismatch, execute_study, study_status
from ._suggest import Suggestion

SUGGESTION_KIND = "suggestion"
"""``Study.kind`` of a suggestion's scoring."""
METRICS = ("precision", "recall", "f1")
TABLE_COLUMNS = ["suggestion", "status", "model", "added", "removed", "scored", "items",
                 *(f"Δ {m}{end}" for m in METRICS for end in ("", " low", " high")), "fixed", "broken", "errors",
                 "problems"]


@dataclass(frozen=True, eq=False)
class SuggestionScore:
    """A suggestion scored on the base run's dev items, against the base run."""

    suggestion_id: str
    study_id: str
    """The study that scored it (kind ``suggestion``)."""
    run_id: str
    """The run of the suggested text."""
    base_run_id: str
    split: str
    """``dev``: the only split ever scored."""
    note: str
    """Which items ``dev`` is, in words."""
    comparison: RunComparison
    """Suggested (B) minus base (A) on the dev items both scored; ``deltas`` hold the intervals."""
    changed: pd.DataFrame
    """The items whose decision changes for the better or worse (``metrics.flips`` rows with
    outcome ``fixed`` or ``broken``), largest score change first."""

    @property
    def fixed(self) -> int:
        return self.comparison.fixed

    @property
    def broken(self) -> int:
        return self.comparison.broken

    def to_dict(self) -> dict:
        c = self.comparison
        return {"suggestion": self.suggestion_id, "study": self.study_id, "run": self.run_id,
                "base_run": self.base_run_id, "split": self.split, "note": self.note, "items": c.n,
                "errors": {"base": c.errors_a, "suggested": c.errors_b},
                "base": c.metrics_a.to_dict(), "suggested": c.metrics_b.to_dict(),
                "delta": {m: {"estimate": i.estimate, "low": i.low, "high": i.high} for m, i in c.deltas.items()},
                "confidence": c.confidence, "fixed": c.fixed, "broken": c.broken,
                "changed": self.changed[["item_id", "label", "score_a", "score_b", "outcome"]]
                .rename(columns={"score_a": "score_base", "score_b": "score_suggested"}).to_dict(orient="records")}


def create_suggestion_study(store: Store, suggestion: Suggestion, *, author: str = "") -> Study:
    """The study scoring ``suggestion`` on its run's dev items (the one already made, if any).

    Refused (ConfigError) for a suggestion without text or identical to the current text, and for
    a base run that is not completed (its dev figures would be partial)."""
    if not suggestion.ok:
        raise ConfigError(f"Suggestion {suggestion.id} holds no policy text to score: "
                          f"{'; '.join(suggestion.problems)}.")
    if suggestion.unchanged:
        raise ConfigError(f"Suggestion {suggestion.id} is the current policy text unchanged: nothing to score.")
    base = store.run(suggestion.run_id)
    require_completed(base, "score suggestions once it is completed")
    existing = suggestion_study(store, suggestion.id)
    if existing is not None:
        return existing
    dev = split_results(run_results(store, base.id), "dev")
    variant = Variant("suggested", f"suggestion {suggestion.id}", suggestion.text)
    return create_study(store, kind=SUGGESTION_KIND, base_run=base, variants=[variant], item_ids=dev["item_id"],
                        params={"suggestion": suggestion.id, "split": "dev", "chat_model": suggestion.model,
                                "chat_server": suggestion.base_url}, author=author)


def suggestion_study(store: Store, suggestion_id: str) -> Study | None:
    """The study that scores a suggestion, or None when it was not asked for yet."""
    found = [s for s in store.studies(SUGGESTION_KIND) if s.params.get("suggestion") == suggestion_id]
    return found[-1] if found else None


def score_suggestion(store: Store, suggestion: Suggestion, endpoint: Endpoint, workspace_root: Path, *,
                     progress: Callable[[StudyProgress], None] | None = None,
                     cancel: threading.Event | None = None) -> SuggestionScore:
    """Score the suggested text on the base run's dev items (``create_suggestion_study``, then
    ``execute_study``) and compare it with the base run there (``suggestion_score``).

    ``endpoint`` must be the base run's scoring server and model (with its key): a suggestion's
    scores compare only with scores from the same model. Raises ConfigError when scoring stopped
    before every item was stored (resume with ``cope-eval resume <study id>``)."""
    problem = endpoint_mismatch(store.run(suggestion.run_id), endpoint)
    if problem:
        raise ConfigError(problem)
    study = create_suggestion_study(store, suggestion)
    execute_study(store, study.id, endpoint, workspace_root=workspace_root, progress=progress, cancel=cancel)
    return suggestion_score(store, suggestion.id)


def suggestion_score(store: Store, suggestion_id: str, *, n_resamples: int = 1000,
                     confidence: float = 0.95) -> SuggestionScore:
    """The comparison of a scored suggestion with its base run on dev (its study must be completed)."""
    study = suggestion_study(store, suggestion_id)
    if study is None:
        raise ConfigError(f"Suggestion {suggestion_id} has not been scored; score it first.")
    status = study_status(store, study)
    if status != "completed":
        raise ConfigError(f"The scoring of suggestion {suggestion_id} is {status}; continue it with: "
                          f"cope-eval resume {study.id}")
    base = store.run(study.base_run_id)
    run_id = study.runs[0].run_id
    suggested = run_results(store, run_id)
    base_all = run_results(store, base.id)
    base_dev = base_all.set_index("item_id").loc[suggested["item_id"]].reset_index()
    comparison = compare_runs(base_dev, suggested, threshold=base.threshold, n_resamples=n_resamples,
                              confidence=confidence)
    moved = flips(base_dev, suggested, threshold=base.threshold)
    changed = moved[moved["outcome"].isin(["fixed", "broken"])].reset_index(drop=True)
    note = (f"dev: {len(suggested):,} of {len(base_all):,} items" if has_split(base_all)
            else f"dev: the golden set has no split, so all {len(base_all):,} items")
    return SuggestionScore(suggestion_id, study.id, run_id, base.id, "dev", note, comparison, changed)


def compare_suggestions(store: Store, suggestions: Sequence[Suggestion]) -> pd.DataFrame:
    """One row per suggestion (``TABLE_COLUMNS``): its status, lines added and removed, and when
    its scoring is complete, Δprecision/Δrecall/ΔF1 on dev with intervals and fixed/broken items.
    Unscored, failed or unchanged suggestions have no deltas (missing, never 0)."""
    rows = []
    for s in suggestions:
        diff = diff_texts(s.base_text, s.text) if s.ok else None
        row = {"suggestion": s.id, "status": s.status, "model": s.answered_by or s.model,
               "added": diff.added + diff.changed if diff else None,
               "removed": diff.removed + diff.changed if diff else None,
               "scored": False, "problems": "; ".join(s.problems)}
        study = suggestion_study(store, s.id)
        if study is not None and study_status(store, study) == "completed":
            score = suggestion_score(store, s.id)
            c = score.comparison
            row.update(scored=True, items=c.n, fixed=c.fixed, broken=c.broken, errors=c.errors_b)
            for m in METRICS:
                interval = c.deltas[m]
                row.update({f"Δ {m}": interval.estimate, f"Δ {m} low": interval.low, f"Δ {m} high": interval.high})
        rows.append(row)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def save_suggestion_as_draft(workspace: Path, suggestion: Suggestion, *, replace: bool = False) -> Draft:
    """Keep the suggested text as the draft of its policy (``policies.save_draft``), never a version.

    A policy has one draft. When it already has one with another text (an analyst's unsaved
    edit, or an earlier suggestion), it is not replaced unless ``replace``: ConfigError says so
    and nothing is written. The draft's parent is the run's version when that version is saved
    under ``policies/`` (a run of a file scored with ``cope-eval run --policy`` is not: no parent)."""
    if not suggestion.ok:
        raise ConfigError(f"Suggestion {suggestion.id} holds no policy text: {'; '.join(suggestion.problems)}.")
    if suggestion.unchanged:
        raise ConfigError(f"Suggestion {suggestion.id} is the current policy text unchanged: no draft to keep.")
    current = read_draft(workspace, suggestion.policy)
    if current is not None and canonical_text(current.text) == canonical_text(suggestion.text):
        return current
    if current is not None and not replace:
        raise ConfigError(f"Policy {suggestion.policy!r} already has an unsaved draft (kept {current.saved_at}); "
                          "it was not replaced. Save or discard it on the Policies page first",
                          options=("replace_draft",))
    try:
        parent = get_version(workspace, suggestion.policy, suggestion.base_version_id).id
    except CopeEvalError:
        parent = None
    draft = save_draft(workspace, suggestion.policy, suggestion.text, parent=parent)
    if draft is None:  # the text equals the parent's: cannot happen for a changed suggestion
        raise ConfigError(f"Suggestion {suggestion.id} is the text of version {parent}: no draft to keep.")
    return draft
