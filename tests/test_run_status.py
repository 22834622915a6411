"""One definition of a run's status (run_status), used by the runner, the CLI, the Evaluate page's
views and studies; a run a live process is scoring is never executed a second time."""

import os
import subprocess
import sys
import threading
import time

import pytest

from cope_eval.app import RunManager, run_view, study_view
from cope_eval.errors import ConfigError
from cope_eval.insight._studies import Variant, create_study
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store, effective_status
from cope_eval.store._run_status import run_state
from tests.conftest import REPO_ROOT
from tests.factories import make_golden, make_policy
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer, chat_requests, instant


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


@pytest.fixture
def other_process():
    """The pid of a live process that is not this one (a runner somewhere else on the machine)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield child.pid
    child.kill()
    child.wait()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def resume(run_id, workspace):
    env = {**os.environ, "COPE_EVAL_HOME": str(workspace.root)}
    for name in ("COPE_BASE_URL", "COPE_MODEL", "COPE_API_KEY"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "cope_eval", "resume", run_id], capture_output=True, text=True,
                          cwd=REPO_ROOT, env=env, timeout=120)


def test_cli_resume_of_a_run_another_live_process_scores_is_refused_and_sends_nothing(store, workspace,
                                                                                      other_process):
    with StubServer() as server:
        run = create_run(store, policy=make_policy(), golden=make_golden(4), endpoint=Endpoint(server.base_url, "stub"))
        store.mark_run(run.id, "running", pid=other_process)
        result = resume(run.id, workspace)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: Run {run.id} is being scored by process {other_process} on this machine "
                                    "(heartbeat "), result.stderr
    assert "s ago); wait for it or stop it first." in result.stderr and len(result.stderr.splitlines()) == 1
    assert server.requests == [], "not even /models is asked"
    after = store.run(run.id)
    assert (after.status, after.runner_pid) == ("running", other_process) and store.prediction_counts(run.id)[0] == 0


def test_cli_resume_of_a_run_whose_runner_died_finishes_it(store, workspace):
    with StubServer() as server:
        run = create_run(store, policy=make_policy(), golden=make_golden(4), endpoint=Endpoint(server.base_url, "stub"))
        store.mark_run(run.id, "running", pid=dead_pid())
        result = resume(run.id, workspace)
    assert result.returncode == 0, result.stderr
    assert store.run(run.id).status == "completed" and len(chat_requests(server)) == 4


def test_a_live_runner_with_a_stale_heartbeat_is_interrupted_and_resumes(store, workspace, other_process):
    with StubServer() as server:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=make_golden(3), endpoint=endpoint)
        store.mark_run(run.id, "running", pid=other_process)
        store._execute("UPDATE runs SET heartbeat = '2020-01-01T00:00:00+00:00' WHERE id = ?", (run.id,))
        assert effective_status(store.run(run.id)) == "interrupted"
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root)
    assert result.run.status == "completed"


def test_a_second_thread_of_this_process_cannot_execute_a_run_being_scored_here(store, workspace):
    slow = lambda path, body: Reply(body=FIXED_CHAT_REPLY, delay_s=0.02) if "chat" in path else instant(path, body)
    with StubServer(slow) as server:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=make_golden(60), endpoint=endpoint, concurrency=1)
        first = threading.Thread(target=execute_run, args=(store, run.id, endpoint),
                                 kwargs={"workspace_root": workspace.root})
        first.start()
        deadline = time.monotonic() + 30
        while store.prediction_counts(run.id)[0] < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert run_state(store.run(run.id)).scored_by == os.getpid()
        with pytest.raises(ConfigError, match=rf"Run {run.id} is being scored by this process \({os.getpid()}\)"):
            execute_run(store, run.id, endpoint, workspace_root=workspace.root)
        first.join(60)
    assert store.run(run.id).status == "completed" and len(chat_requests(server)) == 60


def test_our_own_runner_gone_reads_the_same_on_the_run_and_the_study_views(store, workspace):
    """A run this process marked running but no longer executes (its thread died) is interrupted
    everywhere: the runs table, a study's progress, and the runner's own check."""
    with StubServer() as server:
        endpoint = Endpoint(server.base_url, "stub")
        base = create_run(store, policy=make_policy(), golden=make_golden(2), endpoint=endpoint)
        execute_run(store, base.id, endpoint, workspace_root=workspace.root)
        study = create_study(store, kind="probes", base_run=store.run(base.id),
                             variants=[Variant("a", "A", "# Criteria\n")], item_ids=["item-00000"])
        variant = study.runs[0].run_id
        store.mark_run(variant, "running", pid=os.getpid())
        manager = RunManager(workspace)

        assert effective_status(store.run(variant)) == "interrupted"
        assert run_view(store, manager, variant).status == "interrupted"
        assert study_view(store, manager, study.id).status == "interrupted"
        result = execute_run(store, variant, endpoint, workspace_root=workspace.root)
    assert result.run.status == "completed" and study_view(store, manager, study.id).status == "completed"


def test_a_runner_that_starts_while_this_one_prepares_wins_and_this_one_sends_nothing(store, workspace,
                                                                                     other_process, monkeypatch):
    """The claim re-checks inside one write transaction: another process that started the run
    while this one was asking the server about the model keeps it."""
    from cope_eval.scoring import _runner as runner

    with StubServer() as server:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=make_golden(3), endpoint=endpoint)
        real_describe = runner.describe_model

        def describe_while_another_starts(*args):
            store.mark_run(run.id, "running", pid=other_process)
            return real_describe(*args)

        monkeypatch.setattr(runner, "describe_model", describe_while_another_starts)
        with pytest.raises(ConfigError, match=f"being scored by process {other_process}"):
            execute_run(store, run.id, endpoint, workspace_root=workspace.root)
    assert chat_requests(server) == [] and store.run(run.id).runner_pid == other_process
