"""The workspace's SQLite store: the one package that owns SQL, its numbered migrations, a run's
status (stored, corrected for a dead owner process) and a run's results as one frame."""

from ._golden_copies import ItemLookup
from ._results import (
    check_split, has_split, run_results, run_scores, score_columns, split_results, with_predicted_labels
)
from ._reveals import Reveals, recorded_reveals, reveal_test
from ._run_status import RunState, effective_status, refuse_if_being_scored, run_state, scoring_here
from ._store import Store
from ._time import utc_now

__all__ = [
    "ItemLookup",
    "Reveals",
    "RunState",
    "Store",
    "check_split",
    "effective_status",
    "has_split",
    "recorded_reveals",
    "refuse_if_being_scored",
    "reveal_test",
    "run_results",
    "run_scores",
    "score_columns",
    "run_state",
    "scoring_here",
    "split_results",
    "utc_now",
    "with_predicted_labels",
]
