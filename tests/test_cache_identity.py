"""The cache knows which server answered: its endpoint, the model name and the checkpoint the
server reports (vLLM's ``root``). Two servers never share answers; a run never mixes weights."""

import json
import math
import sqlite3
import threading

import pytest

from cope_eval.errors import ConfigError
from cope_eval.records import Endpoint
from cope_eval.scoring import RetryPolicy, create_run, execute_run, import_batch
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import Reply, StubServer, chat_reply, chat_requests
from tests.test_batch import batch_bytes

FAST = RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.02, timeout_s=5.0)
GOLDEN = make_golden(6)


class Serving:
    """A stub vLLM serving model "stub" from checkpoint ``root`` (None: it does not say), whose
    every answer is P("1") = ``p1``. Both can change while it runs (a redeploy)."""

    def __init__(self, root: str | None, p1: float, *, delay_s: float = 0.0):
        self.root, self.p1, self.delay_s = root, p1, delay_s

    def __call__(self, path: str, body: bytes) -> Reply:
        if path.endswith("/models"):
            model = {"id": "stub", "max_model_len": 4096, **({"root": self.root} if self.root else {})}
            return Reply(body=json.dumps({"object": "list", "data": [model]}).encode())
        top = {"1": math.log(self.p1), "0": math.log(1 - self.p1)}
        return Reply(body=chat_reply("1", top), delay_s=self.delay_s)


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def run_on(store, workspace, server, *, replicas=(), **options):
    endpoint = Endpoint(server.base_url, "stub")
    run = create_run(store, policy=make_policy(), golden=GOLDEN, endpoint=endpoint)
    return execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST,
                       replicas=[(Endpoint(r.base_url, "stub"), 2) for r in replicas], **options)


def scores(store, result):
    return sorted(store.predictions(result.run.id)["score"].round(6))


def cancelled_after_three(store, workspace, endpoint):
    """A 100-item run on ``endpoint``, cancelled once 3 items are stored."""
    cancel = threading.Event()
    run = create_run(store, policy=make_policy(), golden=make_golden(100), endpoint=endpoint, concurrency=1)
    execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST, cancel=cancel,
                progress=lambda p: cancel.set() if p.done >= 3 else None)
    return run


def test_a_second_server_with_other_weights_under_the_same_name_answers_every_item(store, workspace):
    with StubServer(Serving("org/ckpt-a", 0.9)) as a, StubServer(Serving("org/ckpt-b", 0.2)) as b:
        first = run_on(store, workspace, a)
        second = run_on(store, workspace, b)
    assert len(chat_requests(a)) == 6 and len(chat_requests(b)) == 6, "b is asked every item, none from a's cache"
    assert second.progress.cached == 0 and scores(store, second) == [0.2] * 6 and scores(store, first) == [0.9] * 6
    assert (first.run.checkpoint, second.run.checkpoint) == ("org/ckpt-a", "org/ckpt-b")


def test_an_unchanged_rerun_on_the_same_server_makes_no_call(store, workspace):
    with StubServer(Serving("org/ckpt-a", 0.9)) as a:
        run_on(store, workspace, a)
        again = run_on(store, workspace, a)
    assert len(chat_requests(a)) == 6 and again.progress.cached == 6 and again.requests == 0
    assert scores(store, again) == [0.9] * 6 and again.run.checkpoint == "org/ckpt-a"


def test_the_same_url_redeployed_with_other_weights_misses_the_cache(store, workspace):
    serving = Serving("org/ckpt-a", 0.9)
    with StubServer(serving) as server:
        run_on(store, workspace, server)
        serving.root, serving.p1 = "org/ckpt-b", 0.2
        after = run_on(store, workspace, server)
    assert len(chat_requests(server)) == 12 and scores(store, after) == [0.2] * 6
    assert after.run.checkpoint == "org/ckpt-b"


def test_a_server_that_does_not_say_its_checkpoint_is_known_by_endpoint_and_model(store, workspace):
    with StubServer(Serving(None, 0.9)) as a, StubServer(Serving(None, 0.2)) as b:
        run_on(store, workspace, a)
        other = run_on(store, workspace, b)
        again = run_on(store, workspace, a)
    assert len(chat_requests(b)) == 6 and scores(store, other) == [0.2] * 6, "another endpoint never shares"
    assert len(chat_requests(a)) == 6 and again.progress.cached == 6 and again.run.checkpoint is None


def test_replicas_answer_under_the_run_endpoint_identity(store, workspace):
    with StubServer(Serving("org/ckpt-a", 0.9)) as main, StubServer(Serving("org/ckpt-a", 0.9)) as replica:
        first = run_on(store, workspace, main, replicas=[replica])
        sent = len(chat_requests(main)) + len(chat_requests(replica))
        with_replica = run_on(store, workspace, main, replicas=[replica])
        alone = run_on(store, workspace, main)
    assert sent == 6 and first.run.status == "completed"
    assert len(chat_requests(main)) + len(chat_requests(replica)) == 6, "every later run is answered by the cache"
    assert with_replica.progress.cached == 6 and alone.progress.cached == 6


def test_a_replica_serving_other_weights_is_refused_before_anything_is_sent(store, workspace):
    with StubServer(Serving("org/ckpt-a", 0.9)) as main, StubServer(Serving("org/ckpt-b", 0.9)) as replica:
        with pytest.raises(ConfigError, match=f"Replica {replica.base_url} serves checkpoint 'org/ckpt-b' of 'stub', "
                                              f"but {main.base_url} serves 'org/ckpt-a'"):
            run_on(store, workspace, main, replicas=[replica])
    assert chat_requests(main) == [] and chat_requests(replica) == []
    assert [r.status for r in store.runs()] == ["pending"]


def test_resuming_after_a_redeploy_with_other_weights_is_refused_naming_both(store, workspace):
    serving = Serving("org/ckpt-a", 0.9, delay_s=0.01)
    with StubServer(serving) as server:
        endpoint = Endpoint(server.base_url, "stub")
        run = cancelled_after_three(store, workspace, endpoint)
        assert store.run(run.id).status == "cancelled"
        sent = len(chat_requests(server))

        serving.root = "org/ckpt-b"
        with pytest.raises(ConfigError, match=f"Run {run.id} was scored by checkpoint 'org/ckpt-a', but "
                                              f"{server.base_url} now serves 'org/ckpt-b' as 'stub'; one run must "
                                              "not mix weights"):
            execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST)
        serving.root = None
        with pytest.raises(ConfigError, match="does not say which checkpoint it serves now"):
            execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST)
        assert len(chat_requests(server)) == sent and store.run(run.id).status == "cancelled"

        serving.root = "org/ckpt-a"  # the old weights are back: the run continues
        finished = execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST)
    assert finished.run.status == "completed" and finished.run.checkpoint == "org/ckpt-a"


def test_a_run_without_a_recorded_checkpoint_takes_the_one_reported_later(store, workspace):
    serving = Serving(None, 0.9, delay_s=0.01)
    with StubServer(serving) as server:
        endpoint = Endpoint(server.base_url, "stub")
        run = cancelled_after_three(store, workspace, endpoint)
        assert (store.run(run.id).status, store.run(run.id).checkpoint) == ("cancelled", None)
        serving.root = "org/ckpt-a"
        finished = execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST)
    assert finished.run.status == "completed" and finished.run.checkpoint == "org/ckpt-a"


def test_the_cache_remembers_which_run_stored_each_answer(store, workspace):
    with StubServer(Serving("org/ckpt-a", 0.9)) as a:
        first = run_on(store, workspace, a)
        run_on(store, workspace, a)
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("SELECT run_id, COUNT(*) FROM cache GROUP BY run_id").fetchall() == [(first.run.id, 6)]


def test_batch_answers_are_cached_under_the_run_identity_only(store, workspace):
    """A batch imported into a run that never learnt its checkpoint claims none, so a server that
    reports one is asked every item; a server that reports none (like the run's) is not."""
    with StubServer(Serving("org/ckpt-a", 0.2)) as vllm, StubServer(Serving(None, 0.2)) as silent:
        for server, expect_sent in ((vllm, 6), (silent, 0)):
            endpoint = Endpoint(server.base_url, "stub")
            batch_run = create_run(store, policy=make_policy(), golden=GOLDEN, endpoint=endpoint)
            data, _ = batch_bytes(store, batch_run.id, workspace_root=workspace.root)
            lines = [json.loads(line) for line in data.splitlines()]
            results = b"".join(json.dumps({"id": "x", "custom_id": line["custom_id"], "error": None, "response": {
                "status_code": 200, "body": json.loads(chat_reply("1", {"1": math.log(0.7), "0": math.log(0.3)}))}})
                .encode() + b"\n" for line in lines)
            assert import_batch(store, batch_run.id, results).scored == 6
            live = run_on(store, workspace, server)
            assert len(chat_requests(server)) == expect_sent
            assert scores(store, live) == ([0.2] * 6 if expect_sent else [0.7] * 6)
