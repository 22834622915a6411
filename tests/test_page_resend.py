"""A resend of a run's errors stores as many predictions as it forgot: the pages' caches are keyed by
the run's predictions version (raised by every write), not by the count, so every page shows the
new scores, not the errors it read before."""

from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _state
from tests.apptest import open_page, table
from tests.factories import POLICY_TEXT, make_golden

N = 10
FAILED = 4


def _run_with_errors(workspace):
    golden = make_golden(N)
    version = save_version(workspace.root, "violence", POLICY_TEXT, note="v1")
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
        run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
        rows = [(item, None, None, "", "HTTP 500", 1.0, 0) if k < FAILED else (item, 0.9, None, "", None, 1.0, 0)
                for k, item in enumerate(golden.items["id"])]
        store.add_predictions(run.id, rows)
        store.mark_run(run.id, "completed")
    return run, golden


def _resend(workspace, run, golden) -> None:
    """What ``resume --retry-errors`` does: forget the failed items, then store their answers."""
    with Store(workspace.private_dir) as store:
        assert store.delete_errors(run.id) == FAILED
        store.add_predictions(run.id, [(item, 0.9, None, "", None, 1.0, 0) for item in golden.items["id"][:FAILED]])
        assert store.prediction_counts(run.id)[0] == N, "the same count as before the resend"


def test_compare_shows_the_resent_scores_not_the_errors_it_read_before(workspace, monkeypatch):
    run, golden = _run_with_errors(workspace)
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([run.id]).run()
    assert table(at, "errors")["errors"].tolist() == [FAILED]

    _resend(workspace, run, golden)
    at.run()

    assert not at.exception
    assert table(at, "errors")["errors"].tolist() == [0]


def test_the_predictions_browser_shows_the_resent_scores(workspace, monkeypatch):
    run, golden = _run_with_errors(workspace)
    at = open_page("evaluate", monkeypatch)  # on the newest run: this one
    assert (table(at, "outcome")["outcome"] == "error").sum() == FAILED

    _resend(workspace, run, golden)
    at.run()

    assert not at.exception
    assert (table(at, "outcome")["outcome"] == "error").sum() == 0
