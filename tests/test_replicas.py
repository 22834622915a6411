"""A run spread over replicas keeps going when one fails: nothing lost, nothing twice."""

import pytest

from cope_eval.records import Endpoint
from cope_eval.scoring import RetryPolicy, create_run, execute_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer, chat_requests, instant

FAST = RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.02, timeout_s=5.0)


def chat_calls(server):
    return len(chat_requests(server))


def dies_after(n):
    seen = {"chat": 0}

    def behaviour(path, body):
        if "chat" not in path:
            return instant(path, body)
        seen["chat"] += 1
        return Reply(drop=True) if seen["chat"] > n else Reply(body=FIXED_CHAT_REPLY, delay_s=0.002)
    return behaviour


def test_items_of_a_replica_that_dies_are_finished_by_the_other(workspace):
    golden = make_golden(80)
    with StubServer(dies_after(15)) as primary, StubServer() as spare, Store(workspace.private_dir) as store:
        endpoint = Endpoint(primary.base_url, "stub", "key-a")
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint, concurrency=3)
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST,
                             replicas=[(Endpoint(spare.base_url, "stub", "key-b"), 2)])
        predictions = store.predictions(run.id)
    assert result.run.status == "completed"
    assert len(predictions) == 80 and predictions["item_id"].is_unique and predictions["error"].isna().all()
    assert min(chat_calls(primary), 15) + chat_calls(spare) >= 80 and chat_calls(spare) > 0
    assert spare.max_in_flight <= 2 and primary.max_in_flight <= 3
    assert {h["authorization"] for p, h, _ in spare.requests if "chat" in p} == {"Bearer key-b"}, \
        "each replica gets its own key only"


def test_replicas_must_serve_the_run_model(workspace):
    with StubServer() as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=make_golden(2), endpoint=endpoint)
        with pytest.raises(Exception, match="serves 'other'"):
            execute_run(store, run.id, endpoint, workspace_root=workspace.root,
                        replicas=[(Endpoint(server.base_url, "other"), 1)])


@pytest.mark.model
def test_real_vllm_finishes_the_run_when_a_dead_replica_is_listed_first(workspace, model_server):
    golden = make_golden(8)
    with StubServer(lambda p, b: Reply(drop=True)) as dead, Store(workspace.private_dir) as store:
        endpoint = Endpoint(dead.base_url, model_server.model)
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint, concurrency=2,
                         answer_mode="constrained")
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST,
                             replicas=[(Endpoint(model_server.base_url, model_server.model), 2)])
        predictions = store.predictions(run.id)
    assert result.run.status == "completed"
    assert len(predictions) == 8 and predictions["item_id"].is_unique
    assert predictions["error"].isna().all() and predictions["score"].between(0, 1).all()
