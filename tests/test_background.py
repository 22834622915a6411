"""Runs the app starts execute in worker processes: keep going without a caller, cancel, resume,
survive the app, and never run twice."""

import os
import signal
import subprocess
import sys
import time

from cope_eval.app import RunManager, run_view
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer, instant


def slow(path, body):
    return Reply(body=FIXED_CHAT_REPLY, delay_s=0.02) if "chat" in path else instant(path, body)


def scored(server) -> int:
    return sum(path.endswith("/chat/completions") for path, _, _ in server.requests)


def wait_until(condition, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def parent_of(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])


def new_run(store, endpoint, n=300):
    return create_run(store, policy=make_policy(), golden=make_golden(n), endpoint=endpoint, concurrency=2)


def test_a_worker_scores_the_run_and_cancel_stops_it_then_resume_finishes(workspace):
    with StubServer(slow) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = new_run(store, endpoint)
        manager = RunManager(workspace)

        assert manager.start(run.id, endpoint) is True
        assert manager.start(run.id, endpoint) is False, "one worker per run"
        assert run_view(store, manager, run.id).status == "running", "running from the moment it starts"
        wait_until(lambda: store.prediction_counts(run.id)[0] > 0)
        assert store.run(run.id).runner_pid not in (None, os.getpid()), "scored in another process"
        assert parent_of(store.run(run.id).runner_pid) != os.getpid(), "forked by the fork server, imports done"
        manager.cancel(run.id)
        assert manager.wait(run.id, 30) == 130
        view = run_view(store, manager, run.id)
        assert view.status == "cancelled" and 0 < view.done < 300 and view.resumable
        assert manager.error(run.id) is None, "a stop on request is not a failure"

        assert manager.start(run.id, endpoint) is True
        assert manager.wait(run.id, 60) == 0
        view = run_view(store, manager, run.id)
    assert view.status == "completed" and view.done == 300 and manager.error(run.id) is None
    assert view.rate is not None and view.rate > 0, "the worker's progress is read from the store"
    assert scored(server) == 300, "nothing sent twice across cancel and resume"


def test_a_new_app_follows_and_cancels_a_run_an_earlier_app_started(workspace):
    with StubServer(slow) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = new_run(store, endpoint, 2000)
        earlier = RunManager(workspace)
        earlier.start(run.id, endpoint)
        wait_until(lambda: store.run_progress(run.id) is not None)

        restarted = RunManager(workspace)  # knows nothing of the worker
        view = run_view(store, restarted, run.id)
        assert view.status == "running" and view.active and not view.resumable
        assert view.rate is not None and "concurrency 2 (fixed)" in view.summary()
        restarted.cancel(run.id)
        assert earlier.wait(run.id, 30) == 130
        assert run_view(store, restarted, run.id).status == "cancelled"


def test_two_apps_starting_one_run_score_it_once(workspace):
    with StubServer(slow) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = new_run(store, endpoint)
        first, second = RunManager(workspace), RunManager(workspace)
        assert first.start(run.id, endpoint) and second.start(run.id, endpoint)
        codes = sorted([first.wait(run.id, 60), second.wait(run.id, 60)])
        refused = first if first.error(run.id) else second
        assert codes == [0, 2], codes
        assert "is being scored by process" in refused.error(run.id)
        assert store.prediction_counts(run.id)[0] == 300 and scored(server) == 300


def test_a_killed_worker_leaves_the_run_interrupted_and_resume_loses_nothing(workspace):
    with StubServer(slow) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = new_run(store, endpoint)
        manager = RunManager(workspace)
        manager.start(run.id, endpoint)
        wait_until(lambda: store.prediction_counts(run.id)[0] > 0)
        os.kill(store.run(run.id).runner_pid, signal.SIGKILL)
        manager.wait(run.id, 30)
        assert run_view(store, manager, run.id).status == "interrupted"

        manager.start(run.id, endpoint)
        assert manager.wait(run.id, 60) == 0
        assert run_view(store, manager, run.id).status == "completed"
        assert store.prediction_counts(run.id)[0] == 300


def test_a_worker_that_fails_says_why(workspace):
    with StubServer(slow) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = new_run(store, endpoint, 5)
    manager = RunManager(workspace)  # the server is gone: the run's server refuses connections
    manager.start(run.id, endpoint)
    assert manager.wait(run.id, 60) == 2
    assert run.id in manager.error(run.id) and "unreachable" in manager.error(run.id)
    assert manager.log_path(run.id).exists()


def test_the_app_cancels_a_run_a_terminal_is_scoring(workspace):
    with StubServer(slow) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = new_run(store, endpoint, 2000)
        terminal = subprocess.Popen([sys.executable, "-m", "cope_eval", "resume", run.id],
                                    env={**os.environ, "COPE_EVAL_HOME": str(workspace.root)},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: store.prediction_counts(run.id)[0] > 0)
        RunManager(workspace).cancel(run.id)
        _, said = terminal.communicate(timeout=30)
        assert terminal.returncode == 130, said
        assert f"stopped; continue with: python -m cope_eval resume {run.id}" in said
        assert store.run(run.id).status == "cancelled" and store.prediction_counts(run.id)[0] < 2000
