"""Start a study from a page: check the server, create the study, score it in the background."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ConfigError
from ..insight import endpoint_mismatch
from ..records import Endpoint, Run, Study
from ..store import Store
from ._background import RunManager


def start_study(store: Store, manager: RunManager, scored_by: Run, endpoint: Endpoint | None,
                create: Callable[..., Study], *args, **options) -> Study:
    """``create(store, *args, **options)`` (one of ``insight``'s ``create_*`` functions), then score
    the new study's variants in the background. Variants must go to the server and model that
    scored ``scored_by`` (the base run; for an attribution the newer run), or their scores would
    not compare: a mismatch is refused before anything is created."""
    problem = endpoint_mismatch(scored_by, endpoint)
    if problem:
        raise ConfigError(problem)
    study = create(store, *args, **options)
    manager.start_study(study.id, endpoint)
    return study
