"""Background runs: keep going without a caller, cancel, resume."""

from cope_eval.app import RunManager
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer, instant


def slow(path, body):
    return Reply(body=FIXED_CHAT_REPLY, delay_s=0.01) if "chat" in path else instant(path, body)


def test_background_run_completes_and_can_be_cancelled_and_resumed(workspace):
    with StubServer(slow) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=make_golden(300), endpoint=endpoint, concurrency=2)
        manager = RunManager(workspace.private_dir, workspace.root)

        assert manager.start(run.id, endpoint) is True
        assert manager.start(run.id, endpoint) is False, "one thread per run"
        manager.cancel(run.id)
        cancelled = manager.wait(run.id, 30)
        assert cancelled.run.status == "cancelled" and cancelled.progress.done < 300

        assert manager.start(run.id, endpoint) is True
        finished = manager.wait(run.id, 60)
    assert finished.run.status == "completed" and manager.error(run.id) is None
    assert manager.progress(run.id).done == 300
    assert sum(path.endswith("/chat/completions") for path, _, _ in server.requests) == 300
