"""Runs end to end against the stub server: storage, cache, cancel/resume, faults, budget."""

import io
import json
import math
import sqlite3
import subprocess
import sys
import threading

import pandas as pd
import pytest
from PIL import Image

from cope_eval.errors import ConfigError
from cope_eval.records import Endpoint
from cope_eval.scoring import RetryPolicy, create_run, effective_status, execute_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer, chat_reply, chat_requests, instant

FAST = RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.02, timeout_s=2.0)


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def scoring_calls(server):
    return len(chat_requests(server))


def start(store, server, golden, **options):
    endpoint = Endpoint(server.base_url, "stub")
    run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint, **options)
    return run, endpoint


def execute(store, run, endpoint, workspace, **options):
    return execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST, **options)


def test_every_item_gets_exactly_one_stored_prediction(store, workspace):
    golden = make_golden(40)
    with StubServer() as server:
        run, endpoint = start(store, server, golden, concurrency=4)
        result = execute(store, run, endpoint, workspace)
    predictions = store.predictions(run.id)
    assert result.run.status == "completed" and result.run.finished
    assert sorted(predictions["item_id"]) == sorted(golden.items["id"])
    assert predictions["error"].isna().all() and predictions["score"].between(0, 1).all()
    assert scoring_calls(server) == 40 and result.progress.sent == 40


def test_rerunning_an_unchanged_policy_costs_zero_model_calls(store, workspace):
    golden = make_golden(30)
    with StubServer() as server:
        first, endpoint = start(store, server, golden)
        execute(store, first, endpoint, workspace)
        calls = scoring_calls(server)
        again, _ = start(store, server, golden)
        result = execute(store, again, endpoint, workspace)
        assert scoring_calls(server) == calls
        fresh, _ = start(store, server, golden)
        execute(store, fresh, endpoint, workspace, use_cache=False)
        assert scoring_calls(server) == calls + 30
    assert result.progress.cached == 30 and result.requests == 0
    assert store.predictions(again.id)["cached"].sum() == 30
    assert store.predictions(again.id).set_index("item_id")["score"].equals(
        store.predictions(first.id).set_index("item_id")["score"])


def test_changed_policy_text_misses_the_cache(store, workspace):
    golden = make_golden(5)
    with StubServer() as server:
        endpoint = Endpoint(server.base_url, "stub")
        for text in ("policy one", "policy two"):
            run = create_run(store, policy=make_policy(text), golden=golden, endpoint=endpoint)
            execute(store, run, endpoint, workspace)
    assert scoring_calls(server) == 10


def test_cancel_then_resume_sends_only_the_missing_items(store, workspace):
    golden = make_golden(200)
    cancel = threading.Event()
    slow = lambda path, body: Reply(body=FIXED_CHAT_REPLY, delay_s=0.005) if "chat" in path else instant(path, body)
    with StubServer(slow) as server:
        run, endpoint = start(store, server, golden, concurrency=4)
        first = execute(store, run, endpoint, workspace, cancel=cancel,
                        progress=lambda p: cancel.set() if p.done >= 20 else None)
        stored_after_cancel = len(store.predictions(run.id))
        assert first.run.status == "cancelled" and 20 <= stored_after_cancel < 200
        calls_before = scoring_calls(server)
        second = execute(store, run, endpoint, workspace, use_cache=False)
    assert second.run.status == "completed"
    assert scoring_calls(server) - calls_before == 200 - stored_after_cancel
    assert len(store.predictions(run.id)) == 200 and store.predictions(run.id)["item_id"].is_unique


def test_server_down_interrupts_the_run_and_resume_finishes_it(store, workspace):
    golden = make_golden(60)
    state = {"down_after": 25, "seen": 0}

    def flaky(path, body):
        if "chat" not in path:
            return instant(path, body)
        state["seen"] += 1
        return Reply(drop=True) if state["seen"] > state["down_after"] else Reply(body=FIXED_CHAT_REPLY)

    with StubServer(flaky) as server:
        run, endpoint = start(store, server, golden, concurrency=2)
        first = execute(store, run, endpoint, workspace)
        stored = store.predictions(run.id)
        assert first.run.status == "interrupted" and "unreachable" in first.run.error
        assert stored["error"].isna().all(), "a dead server must not leave a wall of errors"
        state["down_after"] = 10**9
        calls_before = scoring_calls(server)
        second = execute(store, run, endpoint, workspace)
    assert second.run.status == "completed" and second.run.error is None
    assert scoring_calls(server) - calls_before == 60 - len(stored)
    assert store.predictions(run.id)["item_id"].is_unique


def test_non_classification_answers_are_counted_errors_never_zero(store, workspace):
    golden = make_golden(6)
    prose = chat_reply("The", {"The": -1.0, "A": -2.0})
    with StubServer(lambda p, b: Reply(body=prose) if "chat" in p else instant(p, b)) as server:
        run, endpoint = start(store, server, golden)
        result = execute(store, run, endpoint, workspace)
    predictions = store.predictions(run.id)
    assert result.progress.errors == 6 and predictions["score"].isna().all()
    assert predictions["error"].str.contains('neither "0" nor "1"').all()
    assert result.run.status == "completed"


def test_a_broken_image_is_an_error_for_that_item_only(store, workspace):
    good = workspace.root / "ok.png"
    Image.new("RGB", (8, 8), "red").save(good)
    (workspace.root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    golden = make_golden(texts=["", "caption", "text only"], images=["ok.png", "broken.png", None])
    with StubServer() as server:
        run, endpoint = start(store, server, golden)
        execute(store, run, endpoint, workspace)
    predictions = store.predictions(run.id).set_index("item_id")
    assert predictions["error"].notna().tolist() == [False, True, False]
    sent = [json.loads(b) for p, _, b in server.requests if p.endswith("/chat/completions")]
    image_part = sent[0]["messages"][0]["content"][1]["image_url"]["url"]
    assert image_part.startswith("data:image/png;base64,")
    Image.open(io.BytesIO(__import__("base64").b64decode(image_part.split(",", 1)[1]))).verify()


def test_concurrency_bounds_requests_in_flight(store, workspace):
    golden = make_golden(40)
    slow = lambda path, body: Reply(body=FIXED_CHAT_REPLY, delay_s=0.02) if "chat" in path else instant(path, body)
    with StubServer(slow) as server:
        run, endpoint = start(store, server, golden, concurrency=5)
        execute(store, run, endpoint, workspace)
    assert server.max_in_flight == 5


def test_prompts_that_cannot_fit_the_context_are_refused_before_sending(store, workspace):
    golden = make_golden(texts=["short", "x" * 5000])

    def small_context(path, body):
        if path.endswith("/models"):
            return Reply(body=json.dumps({"data": [{"id": "stub", "max_model_len": 1000}]}).encode())
        if path == "/tokenize":
            return Reply(body=json.dumps({"count": len(body) // 4}).encode())
        return Reply(body=FIXED_CHAT_REPLY)

    with StubServer(small_context) as server:
        run, endpoint = start(store, server, golden)
        result = execute(store, run, endpoint, workspace)
    predictions = store.predictions(run.id).set_index("item_id")
    assert predictions.loc["item-00001", "error"].startswith("prompt too long")
    assert pd.isna(predictions.loc["item-00000", "error"])
    assert scoring_calls(server) == 1
    assert any("do not fit" in w for w in result.budget_warnings)


def test_a_run_continues_only_against_its_own_server_and_model(store, workspace):
    with StubServer() as server:
        run, _ = start(store, server, make_golden(2))
        with pytest.raises(ConfigError, match="cannot be continued against"):
            execute_run(store, run.id, Endpoint(server.base_url, "other-model"), workspace_root=workspace.root)


def test_a_running_run_whose_process_died_shows_as_interrupted(store, workspace):
    with StubServer() as server:
        run, _ = start(store, server, make_golden(2))
    store.mark_run(run.id, "running", pid=2**22 + 12345)
    assert effective_status(store.run(run.id)) == "interrupted"
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        store.mark_run(run.id, "running", pid=alive.pid)
        assert effective_status(store.run(run.id)) == "running"
    finally:
        alive.kill()
        alive.wait()


def test_invalid_run_options_are_config_errors(store, workspace):
    golden, endpoint = make_golden(2), Endpoint("http://127.0.0.1:9/v1", "m")
    for options, message in [({"template": "nope"}, "Unknown template"), ({"answer_mode": "x"}, "answer mode"),
                             ({"concurrency": 0}, "at least 1"), ({"threshold": 2.0}, "from 0 to 1")]:
        with pytest.raises(ConfigError, match=message):
            create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint, **options)


def test_errors_are_never_cached_so_a_rerun_sends_them_again(store, workspace):
    golden = make_golden(4)
    answers = iter([chat_reply("The", {"The": -1.0})] + [FIXED_CHAT_REPLY] * 10)
    with StubServer(lambda p, b: Reply(body=next(answers)) if "chat" in p else instant(p, b)) as server:
        first, endpoint = start(store, server, golden, concurrency=1)
        assert execute(store, first, endpoint, workspace).progress.errors == 1
        again, _ = start(store, server, golden)
        result = execute(store, again, endpoint, workspace)
    assert scoring_calls(server) == 5 and result.progress.cached == 3 and result.progress.errors == 0


def test_a_failed_store_write_stops_the_run_without_losing_an_answer(store, workspace, monkeypatch):
    """A write that fails (a lock held past SQLite's timeout) keeps its rows for the next write and
    stops the run as interrupted; the resume sends only the items never answered."""
    n = 200
    writes = []
    real_add = store.add_predictions

    def add_predictions(run_id, rows, cache_rows=()):
        writes.append(len(rows))
        if len(writes) == 2:
            raise sqlite3.OperationalError("database is locked")
        real_add(run_id, rows, cache_rows)

    monkeypatch.setattr(store, "add_predictions", add_predictions)
    slow = lambda path, body: Reply(body=FIXED_CHAT_REPLY, delay_s=0.02) if "chat" in path else instant(path, body)
    with StubServer(slow) as server:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=make_golden(n), endpoint=endpoint, concurrency=4)
        stopped = execute_run(store, run.id, endpoint, workspace_root=workspace.root, use_cache=False)
        assert (stopped.run.status, stopped.run.error) == ("interrupted", "store write failed: database is locked")
        answered = scoring_calls(server)
        assert store.prediction_counts(run.id)[0] == answered < n, "every answer received is stored"

        finished = execute_run(store, run.id, endpoint, workspace_root=workspace.root, use_cache=False)
    assert finished.run.status == "completed" and store.prediction_counts(run.id) == (n, 0, 0)
    assert scoring_calls(server) == n, "no item was asked twice: no answer was lost"


HOSTILE_TOP = {  # item text -> the top logprobs its reply carries
    "nan": {"1": float("nan"), "0": -1.0},
    "inf": {"1": float("inf"), "0": -1.0},
    "-inf": {"1": -0.1, "0": float("-inf")},
    "overflow": {"1": 1000.0, "0": -1.0},
    "huge int": {"1": -0.1, "0": "HUGE"},
    "good": {"1": math.log(0.8), "0": math.log(0.2)},
    "underflow": {"1": -800.0, "0": -801.0},
}


def hostile(path, body):
    if "chat" not in path:
        return instant(path, body)
    text = json.loads(body)["messages"][0]["content"].rsplit("\n", 1)[-1]
    reply = chat_reply("1", HOSTILE_TOP[text])  # json.dumps writes NaN, Infinity and -Infinity as they come
    return Reply(body=reply.replace(b'"HUGE"', b"1" + b"0" * 400))


def test_hostile_logprobs_are_one_counted_error_each_and_every_good_answer_is_stored(store, workspace):
    golden = make_golden(texts=list(HOSTILE_TOP))
    with StubServer(hostile) as server:
        run, endpoint = start(store, server, golden)
        result = execute(store, run, endpoint, workspace)
    texts = dict(zip(golden.items["id"], golden.items["text"]))
    stored = store.predictions(run.id).set_index("item_id").rename(index=texts)
    assert result.run.status == "completed" and result.progress.errors == 5 and len(stored) == 7
    assert stored.loc["good", "score"] == pytest.approx(0.8)
    assert stored.loc["underflow", "score"] == pytest.approx(1 / (1 + math.exp(-1))), "tiny but legal: no underflow"
    assert stored.loc["nan", "error"] == "logprob of '1' is nan, not a finite number"
    assert stored.loc["inf", "error"] == "logprob of '1' is inf, not a finite number"
    assert stored.loc["-inf", "error"] == "logprob of '0' is -inf, not a finite number"
    assert stored.loc["overflow", "error"] == "logprob of '1' is 1000, above 0: not a log-probability"
    assert stored.loc["huge int", "error"].startswith("logprob of '0' is out of range: 1000")
    assert stored.loc[["nan", "inf", "-inf", "overflow", "huge int"], "score"].isna().all()
    assert scoring_calls(server) == 7


def test_a_score_that_is_not_a_probability_never_reaches_the_store(store, workspace):
    """Belt and braces: whatever produced it, an answer whose score is not a finite number in
    [0, 1] becomes that item's error; the rest of the batch is stored."""
    from cope_eval.scoring._runner import _Recorder
    from cope_eval.scoring._answers import Answer
    from cope_eval.scoring._transport import Outcome

    run = create_run(store, policy=make_policy(), golden=make_golden(5), endpoint=Endpoint("http://h/v1", "stub"))
    recorder = _Recorder(store, run, True, None)
    for i, score in enumerate([float("nan"), float("inf"), -0.5, 1.5, 0.25]):
        recorder.accept(Outcome(f"item-{i:05d}", f"sha256:{i}", Answer(score, None, ""), None, 1.0))
    recorder.flush()
    stored = store.predictions(run.id).set_index("item_id")
    assert stored["error"].notna().tolist() == [True, True, True, True, False]
    assert stored.loc["item-00000", "error"] == "score nan is not a probability in [0, 1]"
    assert stored.loc["item-00004", "score"] == 0.25 and recorder.errors == 4
    assert list(store.cached([f"sha256:{i}" for i in range(5)])) == ["sha256:4"]


def test_an_adaptive_run_backs_off_a_full_server_and_records_where_it_settled(store, workspace):
    """The default: from 16 in flight, a server that refuses more than 6 with 429 brings the
    limit down; the run records that it adapted and the level it settled on."""
    golden, refused, seen = make_golden(300), [], []

    def six_slots(path, body):
        if "chat" not in path:
            return instant(path, body)
        if server.in_flight > 6:
            refused.append(path)  # at once: the stub's in_flight then counts only the 6 at work
            return Reply(status=429, body=b'{"error": "busy"}')
        return Reply(body=FIXED_CHAT_REPLY, delay_s=0.01)

    with StubServer(six_slots) as server:
        run, endpoint = start(store, server, golden)
        assert (run.adaptive, run.concurrency) == (True, 512)
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root, progress=seen.append,
                             retry=RetryPolicy(attempts=8, base_delay_s=0.01, max_delay_s=0.05, timeout_s=2.0))
    stored = store.run(run.id)
    assert stored.status == "completed" and stored.adaptive
    assert 1 <= stored.settled_concurrency < 16 and result.run.settled_concurrency == stored.settled_concurrency
    assert refused and all(len(p.concurrency) == 1 for p in seen) and min(p.concurrency[0] for p in seen) < 16
    assert len(refused) < len(golden) / 3  # the 512 workers ready take jobs only within the limit


def test_a_fixed_run_records_no_settled_level_and_zero_is_refused_not_replaced(store, workspace):
    with StubServer() as server:
        run, endpoint = start(store, server, make_golden(5), concurrency=3)
        with pytest.raises(ConfigError, match="at least 1"):
            execute(store, run, endpoint, workspace, concurrency=0)
        seen = []
        execute(store, run, endpoint, workspace, progress=seen.append)
    stored = store.run(run.id)
    assert (stored.adaptive, stored.settled_concurrency, stored.concurrency) == (False, None, 3)
    assert seen and all(p.concurrency == () for p in seen)
