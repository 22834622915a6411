"""The workspace's SQLite store: the one module that owns SQL, its numbered migrations, a run's
status (stored, corrected for a dead owner process) and a run's results as one frame."""

from ._results import run_results, with_predicted_labels
from ._run_status import RunState, effective_status, refuse_if_being_scored, run_state, scoring_here
from ._store import Store, utc_now

__all__ = [
    "RunState",
    "Store",
    "effective_status",
    "refuse_if_being_scored",
    "run_results",
    "run_state",
    "scoring_here",
    "utc_now",
    "with_predicted_labels",
]
