"""The app's own process SIGKILLed in the middle of a run started from the Evaluate page.

The run scores in a worker process of its own, so it keeps going. A new app on the same
workspace must show it running, with the progress its worker stores; its Cancel must stop the
worker; and Resume must finish the run with exactly one prediction per item and one model call
per item that was not yet scored. The model server is a stub answering each scoring request
after a delay, so the run takes seconds and the kill lands mid-run; its request log is the count
of model calls.
"""

import re
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

N = 80
DELAY_S = 0.5
"""Seconds per reply; at concurrency 2 the run takes about 20 s: the new app comes up well before its end."""
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


def test_a_run_outlives_the_app_that_started_it_and_a_new_app_follows_cancels_and_resumes_it(page, tmp_path):
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
                at_kill = store.prediction_counts(run_id)[0]
                _wait_for(lambda: store.prediction_counts(run_id)[0] > at_kill + 2, "scoring to go on after the kill")
                assert store.run(run_id).runner_pid != first.process.pid, "scored by a worker, not the app"

        with app_process(env) as second:
            page.goto(second.url)
            page.get_by_text("Healthy").wait_for(timeout=WAIT)
            goto(page, "Evaluate")
            page.get_by_text(re.compile(rf"running · \d+ / {N} items · 0 errors · [\d.]+ items/s")).wait_for(timeout=WAIT)
            page.get_by_role("button", name="Cancel").click()
            with Store(private) as store:
                _wait_for(lambda: store.run(run_id).status == "cancelled", "the worker to stop")
                stored = store.prediction_counts(run_id)[0]
            page.get_by_text(f"cancelled · {stored} / {N} items · 0 errors").wait_for(timeout=WAIT)
            assert stored < N, "cancelled mid-run"
            calls_before = _chat_calls(server)
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
