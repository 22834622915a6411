"""Faults survived: a real vLLM behind a proxy that dies, a runner process killed mid-run,
a store killed during writes, and every malformed reply shape."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from urllib.parse import urlsplit

import pytest

from cope_eval.records import Endpoint
from cope_eval.scoring import RetryPolicy, create_run, effective_status, execute_run
from cope_eval.store import Store
from tests.conftest import REPO_ROOT
from tests.factories import make_golden, make_policy
from tests.fault_proxy import FaultProxy
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer, chat_reply, instant

FAST = RetryPolicy(attempts=2, base_delay_s=0.05, max_delay_s=0.1, timeout_s=30.0)


@pytest.mark.model
def test_vllm_killed_mid_run_then_back_resumes_with_one_call_per_missing_item(workspace, model_server):
    target = urlsplit(model_server.base_url)
    golden = make_golden(16)
    with FaultProxy(target.hostname, target.port) as proxy, Store(workspace.private_dir) as store:
        endpoint = Endpoint(proxy.base_url, model_server.model)
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint, concurrency=2,
                         answer_mode="constrained")
        killed = []

        def kill_after_five(progress):
            if progress.done >= 5 and not killed:
                killed.append(progress.done)
                proxy.kill()

        first = execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST, progress=kill_after_five)
        stored = len(store.predictions(run.id))
        assert first.run.status == "interrupted" and 5 <= stored < 16
        assert store.predictions(run.id)["error"].isna().all()

        proxy.restart()
        before = proxy.calls()
        second = execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST)
        calls = proxy.calls() - before
        predictions = store.predictions(run.id)
    assert second.run.status == "completed"
    assert calls == 16 - stored, "exactly one model call per item not yet scored"
    assert len(predictions) == 16 and predictions["item_id"].is_unique and predictions["error"].isna().all()


RUNNER_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from cope_eval.records import Endpoint
    from cope_eval.scoring import execute_run
    from cope_eval.store import Store
    with Store(Path({private!r})) as store:
        execute_run(store, {run_id!r}, Endpoint({url!r}, "stub"), workspace_root=Path({ws!r}))
""")


def test_runner_process_killed_mid_run_shows_interrupted_and_resumes(workspace):
    slow = lambda p, b: Reply(body=FIXED_CHAT_REPLY, delay_s=0.01) if "chat" in p else instant(p, b)
    with StubServer(slow) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=make_golden(400), endpoint=endpoint, concurrency=2)
        script = RUNNER_SCRIPT.format(root=str(REPO_ROOT), private=str(workspace.private_dir), run_id=run.id,
                                      url=server.base_url, ws=str(workspace.root))
        child = subprocess.Popen([sys.executable, "-c", script])
        deadline = time.monotonic() + 60
        while store.prediction_counts(run.id)[0] < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        after_kill = store.prediction_counts(run.id)[0]
        assert 50 <= after_kill < 400
        assert store.run(run.id).status == "running" and effective_status(store.run(run.id)) == "interrupted"
        assert store.integrity_ok()

        calls_before = sum("chat" in p for p, _, _ in server.requests)
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root)
        calls = sum("chat" in p for p, _, _ in server.requests) - calls_before
        predictions = store.predictions(run.id)
    assert result.run.status == "completed" and len(predictions) == 400 and predictions["item_id"].is_unique
    # Items in flight when the process died were sent but never stored: they are sent again.
    assert 400 - after_kill <= calls <= 400 - after_kill + 2 * 2


WRITER_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from cope_eval.store import Store
    store = Store(Path({private!r}))
    i = 0
    while True:
        store.add_predictions({run_id!r}, [(f"w-{{i}}-{{j}}", 0.5, 1, "1", None, 1.0, 0) for j in range(200)])
        i += 1
""")


def test_store_survives_a_kill_during_writes(workspace):
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=make_policy(), golden=make_golden(1), endpoint=Endpoint("http://h/v1", "m"))
    script = WRITER_SCRIPT.format(root=str(REPO_ROOT), private=str(workspace.private_dir), run_id=run.id)
    for round_ in range(3):
        with Store(workspace.private_dir) as store:
            before = store.prediction_counts(run.id)[0]
            child = subprocess.Popen([sys.executable, "-c", script.replace("w-{i}", f"w{round_}-{{i}}")])
            deadline = time.monotonic() + 60
            while store.prediction_counts(run.id)[0] == before and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.1)  # mid-stream of commits
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
    with Store(workspace.private_dir) as store:
        assert store.integrity_ok()
        stored = store.prediction_counts(run.id)[0]
    assert stored > 0 and stored % 200 == 0, "batches are all-or-nothing"


MALFORMED = {
    "HTTP 500": Reply(status=500, body=b"{}"),
    "truncated JSON": Reply(body=FIXED_CHAT_REPLY[:40]),
    "wrong shape": Reply(body=b'{"result": "1"}'),
    "empty choices": Reply(body=b'{"choices": []}'),
    "missing logprobs": Reply(body=b'{"choices": [{"message": {"content": "1"}}]}'),
    "neither token": Reply(body=chat_reply("The", {"The": -0.5, "A": -1.0})),
    "slow beyond timeout": Reply(body=FIXED_CHAT_REPLY, delay_s=1.0),
    "JSON nested too deeply": Reply(body=b'{"choices": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "error body nested too deeply": Reply(status=400, body=b"[" * 100_000 + b"]" * 100_000),
    "not UTF-8": Reply(body=b'{"choices": [{"message": {"content": "\xff\xfe"}}]}'),
    "a redirect": Reply(status=307, headers={"Location": "http://127.0.0.1:9/v1/chat/completions"}),
}


@pytest.mark.parametrize("fault", sorted(MALFORMED))
def test_every_bad_reply_is_a_counted_error_never_a_zero(workspace, fault):
    reply = MALFORMED[fault]
    with StubServer(lambda p, b: reply if "chat" in p else instant(p, b)) as server, \
            Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=make_golden(3), endpoint=endpoint)
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root,
                             retry=RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.01, timeout_s=0.3))
        predictions = store.predictions(run.id)
    assert result.progress.errors == 3 and predictions["score"].isna().all()
    assert predictions["error"].str.len().gt(0).all()
