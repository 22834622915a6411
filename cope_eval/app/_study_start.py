"""Start a study from a page: check the server, create the study, score it in the background."""

from __future__ import annotations

from ..errors import ConfigError
from ..insight import StudyKind, endpoint_mismatch
from ..records import Endpoint, Run, Study
from ..store import Store
from ._background import RunManager


def start_study(store: Store, manager: RunManager, endpoint: Endpoint | None, kind: StudyKind, base_run: Run,
                **options) -> Study:
    """``kind.create(store, base_run, **options)``, then score the new study's variants in the
    background. Variants must go to the server and model that scored ``base_run`` (for an
    attribution, the newer run B), or their scores would not compare: a mismatch is refused
    before anything is created."""
    problem = endpoint_mismatch(base_run, endpoint)
    if problem:
        raise ConfigError(problem)
    study = kind.create(store, base_run, **options)
    manager.start_study(study.id, endpoint)
    return study
