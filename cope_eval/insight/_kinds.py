"""The one scaffold every kind of study fills in.

Probes, clause ablation and change attribution differ only in their item selections, in how they
derive variants from the base run, and in how they read the scores; each supplies just that as a
``StudyKind``. ``StudyKind.create`` does the rest of creating a study (check the selection, pick
the items, register the variant runs) and ``StudyKind.report`` the rest of reporting one (check
it is complete, load the base and variant results once), the way inspect_ai's string-matching
scorers each supply only their comparison to one helper.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..records import Run, Study
from ..store import Store, effective_status, run_results
from ._studies import Variant, create_study, select_items, study_status


@dataclass(frozen=True)
class Design:
    """What a kind derives from its base run before anything is stored."""

    variants: Sequence[Variant]
    """The policy texts to score, one run each."""
    params: dict = field(default_factory=dict)
    """What the kind keeps on the study beside the selection (clause ids, run A...)."""
    item_ids: Sequence[str] | None = None
    """Items the kind picked itself, for a selection only it knows how to make (attribution's
    ``moved`` needs run A's scores); None: ``select_items`` picks them from the base run."""


@dataclass(frozen=True, eq=False)
class StudyData:
    """A completed study's scores as every report reads them, loaded once."""

    study: Study
    """The study as stored."""
    base_run: Run
    """The run whose policy the variants derive from."""
    base_text: str
    """The base run's policy text."""
    base_all: pd.DataFrame
    """The base run's results over all its items (``results.run_results``)."""
    base: pd.DataFrame
    """The base run's results on the study's items, in the variants' item order."""
    variants: dict[str, pd.DataFrame]
    """Each variant's results, by role."""


@dataclass(frozen=True)
class StudyKind:
    """What one kind of study supplies; ``create`` and ``report`` are the same for every kind."""

    name: str
    """Stored as ``Study.kind``: ``probes``, ``ablation`` or ``attribution``."""
    noun: str
    """How messages name one study of the kind: ``a probe``, ``an ablation``..."""
    selections: tuple[str, ...]
    """The item selections it offers (``--items`` on the command line)."""
    design: Callable[..., Design]
    """``design(store, base_run, *, items, limit, **options)``: check that the kind applies to the
    base run and derive its variants; raises ConfigError for what the user must change."""
    analyse: Callable[[Store, StudyData], Any]
    """The kind's report from the loaded scores."""

    def create(self, store: Store, base_run: Run, *, items: str = "all", limit: int | None = None,
               seed: int = 0, author: str = "", **options) -> Study:
        """Register one run per variant over the selected items of ``base_run``; nothing is stored
        when a check fails. ``options`` go to the kind's ``design``."""
        if items not in self.selections:
            raise ConfigError(f"Unknown item selection {items!r} for {self.noun}; "
                              f"choose one of {', '.join(self.selections)}.")
        design = self.design(store, base_run, items=items, limit=limit, **options)
        item_ids = design.item_ids
        if item_ids is None:
            item_ids = select_items(run_results(store, base_run.id), items, threshold=base_run.threshold,
                                    limit=limit, seed=seed)
        params = {"selection": items, "limit": limit}
        if "sample" in self.selections:  # the seed decides nothing for a kind that never samples
            params["seed"] = seed
        return create_study(store, kind=self.name, base_run=base_run, variants=design.variants,
                            item_ids=item_ids, params={**params, **design.params}, author=author)

    def report(self, store: Store, study_id: str):
        """The report of a completed study of this kind."""
        return self.analyse(store, load_study(store, completed_study(store, study_id, self.name)))


def completed_study(store: Store, study_id: str, kind: str) -> Study:
    """The study, when it is of ``kind`` and every variant is scored (ready for its report)."""
    study = store.study(study_id)
    if study.kind != kind:
        raise ConfigError(f"Study {study_id} is of kind {study.kind!r}, not {kind!r}.")
    status = study_status(store, study)
    if status != "completed":
        raise ConfigError(f"Study {study_id} is {status}; its report is ready when every variant is scored.")
    return study


def load_study(store: Store, study: Study) -> StudyData:
    """The base run's and every variant's results (see ``StudyData``)."""
    base_run = store.run(study.base_run_id)
    variants = {member.role: run_results(store, member.run_id) for member in study.runs}
    base_all = run_results(store, base_run.id)
    ids = variants[study.runs[0].role]["item_id"].to_numpy()  # every variant scores the same items
    base = base_all.set_index("item_id").loc[ids].reset_index()
    return StudyData(study, base_run, store.policy_version(base_run.policy_version_id).text, base_all, base,
                     variants)


def require_completed(run: Run, action: str) -> None:
    """Raise ConfigError unless ``run`` is completed: ``action`` says what the user may do instead."""
    status = effective_status(run)
    if status != "completed":
        raise ConfigError(f"Run {run.id} is {status}; {action}.")
