"""The Evaluate page's run actions: start, follow, cancel/resume, and the runs table."""

import subprocess
import sys
from dataclasses import replace

import pytest

from cope_eval.app import RunManager, resume_run, run_statuses, run_view, runs_overview, start_runs
from cope_eval.app._run_setup import RunView, format_seconds, runs_table
from cope_eval.errors import ConfigError
from cope_eval.records import Endpoint, Run
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import StubServer


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


@pytest.fixture
def manager(workspace):
    return RunManager(workspace)


def test_start_runs_one_per_version_and_follow_them(store, manager, workspace):
    golden = make_golden(12)
    store.put_golden_set(golden)
    versions = [make_policy(), make_policy("# Criteria\n- Other.\n")]
    with StubServer() as server:
        endpoint = Endpoint(server.base_url, "stub")
        runs = start_runs(store, manager, versions=versions, golden_hash=golden.hash, endpoint=endpoint,
                          template="cope-b", answer_mode="logprobs", concurrency=3)
        for run in runs:
            manager.wait(run.id, 30)
    assert [r.policy_version_id for r in runs] == [v.id for v in versions]
    view = run_view(store, manager, runs[0].id)
    assert (view.status, view.done, view.errors, view.fraction, view.active) == ("completed", 12, 0, 1.0, False)
    assert view.summary().startswith("12 / 12 items · 0 errors · ") and "items/s" in view.summary()
    assert "ETA" not in view.summary() and view.summary().endswith("concurrency 3 (fixed)")
    overview = runs_overview(store, manager)
    assert overview["status"].tolist() == ["completed", "completed"] and overview["policy"].tolist() == ["violence"] * 2


def test_an_empty_concurrency_starts_adaptive_runs_that_say_where_they_settled(store, manager):
    golden = make_golden(40)
    store.put_golden_set(golden)
    with StubServer() as server:
        [run] = start_runs(store, manager, versions=[make_policy()], golden_hash=golden.hash,
                           endpoint=Endpoint(server.base_url, "stub"), template="cope-b", answer_mode="logprobs",
                           concurrency=None)
        manager.wait(run.id, 30)
    stored = store.run(run.id)
    assert stored.adaptive and stored.settled_concurrency is not None and stored.settled_concurrency >= 1
    view = run_view(store, manager, run.id)
    assert view.summary().endswith(f"concurrency auto, settled at {stored.settled_concurrency}")


def test_the_concurrency_line_says_fixed_live_settled_or_not_yet():
    fixed = _run("run-1", "sha256:" + "1" * 64)
    auto = replace(fixed, adaptive=True, concurrency=512)

    def view(run, active=False, in_flight=()):
        return RunView(run, "running", 0, 0, None, None, active, None, in_flight)

    assert view(fixed).concurrency() == "concurrency 4 (fixed)"
    assert view(auto, active=True, in_flight=(48, 16)).concurrency() == "concurrency auto: 48 + 16 now"
    assert view(replace(auto, settled_concurrency=40)).concurrency() == "concurrency auto, settled at 40"
    assert view(auto).concurrency() == "concurrency auto (at most 512)"


def test_start_runs_needs_a_version(store, manager):
    with pytest.raises(ConfigError, match="at least one policy version"):
        start_runs(store, manager, versions=[], golden_hash="sha256:x", endpoint=Endpoint("http://h/v1", "m"),
                   template="cope-b", answer_mode="logprobs", concurrency=1)


def test_a_dead_runner_is_interrupted_and_resumes_on_its_own_server_without_the_session_key(store, manager):
    golden = make_golden(5)
    with StubServer() as server:
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=Endpoint(server.base_url, "stub"))
        store.mark_run(run.id, "running", pid=2**22 + 12345)
        assert run_view(store, manager, run.id).status == "interrupted"
        assert run_view(store, manager, run.id).resumable

        resume_run(store, manager, run.id, Endpoint("http://other:8000/v1", "other", api_key="secret"))
        manager.wait(run.id, 30)
    assert run_view(store, manager, run.id).status == "completed"
    assert server.requests and all("secret" not in str(headers) for _, headers, _ in server.requests)


def test_the_session_key_goes_along_to_the_same_server(store, manager):
    with StubServer() as server:
        run = create_run(store, policy=make_policy(), golden=make_golden(2), endpoint=Endpoint(server.base_url, "stub"))
        resume_run(store, manager, run.id, Endpoint(server.base_url, "stub", api_key="secret"))
        manager.wait(run.id, 30)
    chat = [h for path, h, _ in server.requests if path.endswith("/chat/completions")]
    assert chat and all({k.lower(): v for k, v in h.items()}["authorization"] == "Bearer secret" for h in chat)


def test_a_completed_run_cannot_be_resumed(store, manager):
    with StubServer() as server:
        run = create_run(store, policy=make_policy(), golden=make_golden(2), endpoint=Endpoint(server.base_url, "stub"))
        store.mark_run(run.id, "completed")
        with pytest.raises(ConfigError, match="only a stopped run"):
            resume_run(store, manager, run.id, None)


def test_our_own_thread_gone_without_a_final_status_is_interrupted(store, manager):
    run = create_run(store, policy=make_policy(), golden=make_golden(2), endpoint=Endpoint("http://h/v1", "m"))
    store.mark_run(run.id, "running", pid=__import__("os").getpid())
    assert run_view(store, manager, run.id).status == "interrupted"


def _run(run_id: str, version_id: str) -> Run:
    return Run(run_id, version_id, "sha256:" + "9" * 64, "http://h/v1", "m", "cope-b", "logprobs", 0.5, 4,
               "completed", 10, created="2026-01-01T00:00:00")


def test_runs_table_newest_first_with_counts():
    runs = [_run("run-1", "sha256:" + "1" * 64), replace(_run("run-2", "sha256:" + "2" * 64), checkpoint="ckpt/a")]
    table = runs_table(runs, statuses={"run-2": "running"}, counts={"run-2": (4, 1, 0)},
                       golden_names={}, policies={"sha256:" + "2" * 64: "hate"})
    assert table["run"].tolist() == ["run-2", "run-1"]
    assert table.iloc[0][["status", "policy", "done", "errors"]].tolist() == ["running", "hate", 4, 1]
    assert table.iloc[1]["status"] == "completed"
    # every row says who answered: the server and the checkpoint it reported, or that it reported none
    assert table.iloc[0][["model", "server", "checkpoint"]].tolist() == ["m", "http://h/v1", "ckpt/a"]
    assert table.iloc[1]["checkpoint"] == "not reported"


@pytest.mark.parametrize("seconds,text", [(None, "—"), (float("inf"), "—"), (4.4, "4 s"), (185, "3 min 5 s"),
                                          (7800, "2 h 10 min")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_runs_table_names_versions_by_label_and_hash():
    vid = "sha256:" + "2" * 64
    table = runs_table([_run("run-2", vid)], statuses={}, counts={}, golden_names={}, policies={vid: "hate"},
                       versions={vid: "v2 · 22222222"})
    assert table.iloc[0][["policy", "version"]].tolist() == ["hate", "v2 · 22222222"]
    unknown = runs_table([_run("run-1", vid)], statuses={}, counts={}, golden_names={}, policies={})
    assert unknown.iloc[0]["version"] == "22222222", "a version the workspace no longer holds: its hash"


def test_run_statuses_agree_with_the_overviews(store, manager):
    assert run_statuses(store, manager) == {}
    golden = make_golden(4)
    store.put_golden_set(golden)
    run = create_run(store, policy=make_policy(), golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
    scorer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a live worker's pid
    try:
        store.mark_run(run.id, "running", pid=scorer.pid)
        assert run_statuses(store, manager) == {run.id: "running"}
        assert runs_overview(store, manager)["status"].tolist() == ["running"]
    finally:
        scorer.kill()
        scorer.wait()
    assert run_statuses(store, manager) == {run.id: "interrupted"}, "its worker is gone: interrupted"
    assert runs_overview(store, manager)["status"].tolist() == ["interrupted"]
    later = create_run(store, policy=make_policy(), golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
    assert list(run_statuses(store, manager)) == runs_overview(store, manager)["run"].tolist() == [later.id, run.id]
