"""The app's own process SIGKILLed in the middle of a run started from the Evaluate page.

A new app on the same workspace must show that run as interrupted with the count it had stored,
and Resume must finish it with exactly one prediction per item and one model call per item that
was not yet scored. The model server is a stub answering each scoring request after a delay, so
the run takes seconds and the kill lands mid-run; its request log is the count of model calls.
"""

import time

import pandas as pd
import pytest

from cope_eval.golden import golden_set_hash
from cope_eval.policies import save_version
from cope_eval.records import GoldenSet
from cope_eval.store import Store
from tests.browser import WAIT, app_process, goto, idle
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer, chat_requests, instant

pytestmark = pytest.mark.browser

N = 24
DELAY_S = 0.25
"""Seconds per reply; at concurrency 2 the run takes about 3 s."""
POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person.\n"


def _seed(workspace) -> str:
    save_version(workspace, "violence", POLICY, note="v1")
    items = pd.DataFrame({"id": [f"p{i:02d}" for i in range(N)], "text": [f"post number {i}" for i in range(N)],
                          "label": [i % 2 for i in range(N)], "image": [None] * N, "category": [None] * N})
    golden = GoldenSet("posts", golden_set_hash(items), items)
    with Store(workspace / ".cope_eval") as store:
        store.put_golden_set(golden)
    return golden.hash


def _wait_for(condition, what: str, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _chat_calls(server) -> int:
    return len(chat_requests(server))


def test_app_killed_mid_run_restarts_interrupted_and_resume_sends_only_the_rest(page, tmp_path):
    workspace = tmp_path / "ws"
    _seed(workspace)
    private = workspace / ".cope_eval"
    slow = lambda p, b: Reply(body=FIXED_CHAT_REPLY, delay_s=DELAY_S) if "chat" in p else instant(p, b)
    with StubServer(slow) as server:
        env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": server.base_url, "COPE_MODEL": "stub"}
        with app_process(env) as first:
            page.goto(first.url)
            page.get_by_text("Healthy").wait_for(timeout=WAIT)
            goto(page, "Evaluate")
            concurrency = page.get_by_role("spinbutton", name="Concurrency", exact=True)
            concurrency.fill("2")
            concurrency.press("Enter")
            idle(page)
            page.get_by_role("button", name="Start").click()
            with Store(private) as store:
                run_id = _wait_for(lambda: [r.id for r in store.runs()], "the run to be created")[0]
                _wait_for(lambda: store.prediction_counts(run_id)[0] >= 4, "4 stored predictions")
                first.kill()
                stored = store.prediction_counts(run_id)[0]
                run = store.run(run_id)
                assert store.integrity_ok()
        assert 4 <= stored < N, "killed mid-run"
        assert run.status == "running" and run.runner_pid == first.process.pid, "no chance to record anything"

        with app_process(env) as second:
            page.goto(second.url)
            page.get_by_text("Healthy").wait_for(timeout=WAIT)
            goto(page, "Evaluate")
            page.get_by_text(f"interrupted · {stored} / {N} items · 0 errors").wait_for(timeout=WAIT)
            calls_before = _chat_calls(server)  # the dead app's last requests have all arrived by now
            page.get_by_role("button", name="Resume").click()
            page.get_by_text(f"completed · {N} / {N} items · 0 errors").wait_for(timeout=WAIT)
            calls = _chat_calls(server) - calls_before

    with Store(private) as store:
        predictions = store.predictions(run_id)
        assert store.run(run_id).status == "completed" and store.integrity_ok()
    assert len(predictions) == N and predictions["item_id"].is_unique, "exactly one prediction per item"
    assert predictions["error"].isna().all()
    assert calls == N - stored, "one model call per item not yet scored, none for the stored ones"
    assert page.dialogs == []
