"""How a study stands right now, for a progress bar on any Insight tab.

Counts and each variant's status come from the store (so they survive a restart, and show a
study another app's worker scores); why this app's last worker for it failed comes from the
``RunManager``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..insight import study_status
from ..records import Study
from ..store import Store
from ._background import RunManager


@dataclass(frozen=True)
class StudyView:
    """A study's progress over all its variant runs."""

    study: Study
    """The study as stored."""
    status: str
    """``live_study_status``: ``running`` while a process scores it or this app starts its worker."""
    done: int
    """Variant predictions stored (errors included), over all variant runs."""
    total: int
    """Variant predictions the study needs: items x variants."""
    errors: int
    """Stored variant predictions that are errors."""
    active: bool
    """True while a live process scores it (cancel is possible)."""
    failure: str | None
    """Why this app's last worker for it failed, if it did."""

    @property
    def fraction(self) -> float:
        """Share done, in [0, 1]; 1.0 for a study with nothing to score."""
        return min(1.0, self.done / self.total) if self.total else 1.0

    def summary(self) -> str:
        """``7 / 12 scores · 1 error``."""
        return f"{self.done:,} / {self.total:,} scores · {self.errors:,} error{'s' * (self.errors != 1)}"


def study_view(store: Store, manager: RunManager, study_id: str) -> StudyView:
    """The study's status and counts as the store has them, whichever process scores it."""
    study = store.study(study_id)
    counts = [store.prediction_counts(member.run_id) for member in study.runs]
    total = sum(store.run(member.run_id).n_items for member in study.runs)
    status = live_study_status(store, manager, study)
    return StudyView(study, status, sum(c[0] for c in counts), total, sum(c[1] for c in counts),
                     status == "running", manager.error(study_id))


def live_study_status(store: Store, manager: RunManager, study: Study) -> str:
    """``running`` while this app's worker for the study is alive, else ``studies.study_status``
    with each variant's status by the rule the Evaluate page uses (``RunManager.status``)."""
    return "running" if manager.is_active(study.id) else study_status(store, study, run_status=manager.status)
