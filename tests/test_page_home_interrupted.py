"""The Workspace page lists the runs a restart left interrupted and resumes them all at once."""

from types import SimpleNamespace

from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _state
from tests.apptest import messages, open_page, table, until
from tests.factories import POLICY_TEXT, make_golden
from tests.stub_server import StubServer, chat_requests

GONE = 999_999_999
"""A runner pid no process has: its run shows as interrupted, as after a restart."""


def _runs(workspace, server_url: str, *, missing_copy: bool = False) -> dict[str, str]:
    """Runs of 8 items: two interrupted (3 and 5 stored), one completed, one cancelled; with
    ``missing_copy`` a third interrupted one, newest, whose golden set's stored copy is gone."""
    version = save_version(workspace.root, "violence", POLICY_TEXT)
    golden = make_golden(8, name="violence")
    other = make_golden(8, name="other", texts=[f"another post {i}" for i in range(8)])
    endpoint = Endpoint(server_url, "stub")
    ids = {}
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
        store.put_golden_set(other)
        for name, stored, status in (("done", 8, "completed"), ("stopped", 2, "cancelled"),
                                     ("first", 3, "running"), ("second", 5, "running")):
            run = create_run(store, policy=version, golden=golden, endpoint=endpoint, concurrency=2)
            store.add_predictions(run.id, [(i, 0.9, 1, "", None, 1.0, 0) for i in golden.items["id"][:stored]])
            store.mark_run(run.id, status, pid=GONE) if status == "running" else store.mark_run(run.id, status)
            ids[name] = run.id
        if missing_copy:
            run = create_run(store, policy=version, golden=other, endpoint=endpoint, concurrency=2)
            store.mark_run(run.id, "running", pid=GONE)
            ids["lost"] = run.id
            next(store.golden_dir.glob(other.hash.split(":", 1)[-1] + ".parquet")).unlink()
    return ids


def _server(stub):
    return SimpleNamespace(base_url=stub.base_url, model="stub", is_local=False)


def test_resume_all_lists_only_interrupted_runs_and_scores_each_item_once(workspace, monkeypatch):
    with StubServer() as stub:
        ids = _runs(workspace, stub.base_url)
        at = open_page("home", monkeypatch, server=_server(stub))
        assert not at.exception
        listed = table(at, "stopped")
        assert listed["run"].tolist() == [ids["second"], ids["first"]], "cancelled and completed runs stay out"
        assert listed["stored"].tolist() == ["5 / 8", "3 / 8"]
        assert listed["policy version"].str.startswith("violence").all()

        at.button(key=_state.HOME_RESUME_ALL).click().run()
        assert not at.exception
        assert messages(at, "success") == ["Resumed 2 of 2 runs."] and messages(at, "error") == []
        with Store(workspace.private_dir) as store:
            at = until(at, lambda at: all(store.run(ids[k]).status == "completed" for k in ("first", "second")),
                       timeout_s=60)
            counts = {k: store.prediction_counts(ids[k]) for k in ids}
            assert store.run(ids["stopped"]).status == "cancelled", "a cancelled run is not resumed"
        assert "stopped" not in [d.value.columns[-1] for d in at.dataframe], "nothing is interrupted any more"
        assert {k: c[:2] for k, c in counts.items()} == {k: (8 if k != "stopped" else 2, 0) for k in ids}
        cached = counts["first"][2] + counts["second"][2]
        assert len(chat_requests(stub)) + cached == (8 - 3) + (8 - 5), "only the items not yet stored are sent"

        at.button(key=_state.HOME_FOLLOW).click().run()
        assert not at.exception
        assert at.session_state[_state.EVAL_FOLLOW] == ids["second"], "the newest resumed run is followed"


def test_a_run_that_cannot_be_resumed_is_one_error_and_the_others_still_resume(workspace, monkeypatch):
    with StubServer() as stub:
        ids = _runs(workspace, stub.base_url, missing_copy=True)
        at = open_page("home", monkeypatch, server=_server(stub))
        assert table(at, "stopped")["run"].tolist() == [ids["lost"], ids["second"], ids["first"]]

        at.button(key=_state.HOME_RESUME_ALL).click().run()
        assert not at.exception
        assert messages(at, "success") == ["Resumed 2 of 3 runs."]
        [error] = messages(at, "error")
        assert error.startswith(f"Run {ids['lost']} was not resumed: The stored copy of golden set 'other' is missing")
        with Store(workspace.private_dir) as store:
            until(at, lambda at: all(store.run(ids[k]).status == "completed" for k in ("first", "second")),
                  timeout_s=60)
            assert store.prediction_counts(ids["lost"])[0] == 0
