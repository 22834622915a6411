"""HTTP as servers really speak it, exact bytes on the wire, through the public library calls
(a run, the model listing, the token count, a single check): interim 1xx replies, close-delimited
bodies, redirects, a key echoed back, a reply that drips, a proxy, and too much concurrency."""

import asyncio
import json
import math
import re
import threading
import time

import pytest

from cope_eval.app import _adhoc as adhoc
from cope_eval.errors import ConfigError, ServerError
from cope_eval.records import Endpoint
from cope_eval.scoring import (
    RetryPolicy, _http_client as http_client, check_one, create_run, execute_run, probe
)
from cope_eval.scoring._server_info import describe_model
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.raw_http_server import RawServer, http_reply
from tests.stub_server import chat_reply

FAST = RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.02, timeout_s=5.0)
MODELS = json.dumps({"object": "list", "data": [{"id": "stub"}]}).encode()
KEY = "sk-LEAK-9f3a7c1e5b-never-store"


def item_number(body: bytes) -> int:
    return int(re.search(rb"post number (\d+)", body).group(1))


def item_score(i: int) -> float:
    return (i + 1) / 100


def item_reply(body: bytes) -> bytes:
    """A chat completion whose P("1") belongs to this item only: post number i -> (i + 1) / 100."""
    p = item_score(item_number(body))
    return chat_reply(top={"1": math.log(p), "0": math.log(1 - p)})


def serving(chat):
    """A responder: the model list, and ``chat(request)`` (bytes, keep the connection?) for the rest."""
    async def respond(request, writer):
        if request.target.endswith("/models"):
            writer.write(http_reply(200, MODELS))
            keep = True
        else:
            data, keep = chat(request)
            writer.write(data)
        await writer.drain()
        return keep
    return respond


def run_items(workspace, base_url, n, *, key=None, concurrency=2, retry=FAST):
    with Store(workspace.private_dir) as store:
        endpoint = Endpoint(base_url, "stub", key)
        run = create_run(store, policy=make_policy(), golden=make_golden(n), endpoint=endpoint, concurrency=concurrency)
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=retry)
        return result, store.predictions(run.id)


def own_scores(predictions):
    return {item_id: score for item_id, score in zip(predictions["item_id"], predictions["score"])}


def expected_scores(n):
    return {f"item-{i:05d}": pytest.approx(item_score(i)) for i in range(n)}


@pytest.mark.parametrize("interim", [
    b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n",
])
def test_interim_1xx_replies_are_skipped_and_each_item_gets_its_own_score(workspace, interim):
    """Reading a 1xx as the answer failed the item and left its real reply on the connection,
    where the NEXT item read it: a wrong score, stored, in a run marked completed."""
    with RawServer(serving(lambda r: (interim + http_reply(200, item_reply(r.body)), True))) as server:
        result, predictions = run_items(workspace, server.base_url, 8)
    assert result.run.status == "completed" and result.progress.errors == 0
    assert own_scores(predictions) == expected_scores(8)


def test_a_close_delimited_reply_is_read_to_the_end(workspace):
    """No Content-Length, ``Connection: close``: the body runs until the server closes."""
    def chat(request):
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
        return head + item_reply(request.body), False
    with RawServer(serving(chat)) as server:
        result, predictions = run_items(workspace, server.base_url, 6)
    assert result.run.status == "completed" and result.progress.errors == 0
    assert own_scores(predictions) == expected_scores(6)
    assert server.connections >= 6, "one connection per reply, as the server asked"


@pytest.fixture
def elsewhere():
    """Another origin, recording what reaches it (it would answer anything, healthily)."""
    async def respond(request, writer):
        body = MODELS if request.target.endswith("/models") else json.dumps({"count": 7}).encode()
        writer.write(http_reply(200, body))
        await writer.drain()
        return True
    with RawServer(respond) as server:
        yield server


def redirecting_to(other, status):
    async def respond(request, writer):
        path = request.target.split("?")[0]
        writer.write(http_reply(status, b"", {"Location": f"{other.origin}{path}"}))
        await writer.drain()
        return True
    return respond


def test_scoring_never_follows_a_redirect_and_says_where_it_pointed(workspace, elsewhere):
    with RawServer(redirecting_to(elsewhere, 307)) as server:
        result, predictions = run_items(workspace, server.base_url, 3, key=KEY)
        chat_calls = sum(r.target.endswith("/chat/completions") for r in server.requests)
    target = f"{elsewhere.origin}/v1/chat/completions"
    assert result.progress.errors == 3 and predictions["score"].isna().all()
    assert set(predictions["error"]) == {
        f"HTTP 307: redirected to {target}; cope-eval does not follow redirects for scoring"}
    assert chat_calls == 3, "a redirect is final, not retried"
    assert elsewhere.requests == [], "nothing, and so no key, reaches the other origin"


def test_model_listing_and_token_count_never_follow_a_redirect_with_the_key(elsewhere):
    """urllib followed a 302 from /tokenize to another origin, Authorization header and all."""
    with RawServer(redirecting_to(elsewhere, 302)) as server:
        endpoint = Endpoint(server.base_url, "stub", KEY)
        status = probe(server.base_url, KEY)
        counted = adhoc.policy_tokens(endpoint, "Threats of violence.")
        with pytest.raises(ServerError, match=f"redirected to {elsewhere.origin}/v1/chat/completions"):
            check_one(endpoint, policy="P", text="x")
        asked = sorted({r.target for r in server.requests})
    assert not status.healthy and f"redirected to {elsewhere.origin}/v1/models" in status.error
    assert counted.tokens is None
    assert asked == ["/tokenize", "/v1/chat/completions", "/v1/models"]
    assert elsewhere.requests == [], "the key never arrives at another origin"


def echoes_the_key(request):
    """Each item's reply quotes the key somewhere else: in the answer text, in a long error text
    (across character 300, where error texts are cut), in a reply shape quoted in an error
    (across character 160), in a body that is not JSON, and JSON-escaped (hidden from a byte
    search) in a quoted reply shape and in the answer text."""
    i = item_number(request.body)
    if i == 0:
        reply = json.loads(chat_reply())
        reply["choices"][0]["message"]["content"] = f"1 (you sent {KEY})"
        return http_reply(200, json.dumps(reply).encode()), True
    if i == 1:
        message = "x" * 290 + KEY
        return http_reply(400, json.dumps({"error": {"message": message}}).encode()), True
    if i == 2:
        return http_reply(200, json.dumps({"result": "y" * 130 + KEY}).encode()), True
    if i == 3:
        return http_reply(200, b"<html>" + b"z" * 100 + KEY.encode() + b"</html>"), True
    escaped = "".join(f"\\u{ord(c):04x}" for c in KEY)
    if i == 4:
        return http_reply(200, ('{"result": "' + "w" * 130 + escaped + '"}').encode()), True
    reply = chat_reply().replace(b'"content": "1"', b'"content": "1 ' + escaped.encode() + b'"')
    assert escaped.encode() in reply
    return http_reply(200, reply), True


def test_a_key_the_server_echoes_is_in_nothing_stored(workspace):
    """Redaction after truncation left the first characters of a key cut across the limit, and
    the answer text was never redacted at all."""
    with RawServer(serving(echoes_the_key)) as server:
        result, predictions = run_items(workspace, server.base_url, 6, key=KEY)
    assert result.progress.errors == 4 and predictions["score"].notna().sum() == 2
    shown = predictions.astype(str).to_string()
    assert "[redacted]" in shown
    for piece in (KEY, KEY[:8], KEY[-8:]):
        assert piece not in shown
        for path in workspace.root.rglob("*"):
            if path.is_file():
                assert piece.encode() not in path.read_bytes(), (piece, path)


def drips(head: bytes):
    """Sends ``head`` and then one byte a second, forever."""
    async def respond(request, writer):
        writer.write(head)
        while True:
            await writer.drain()
            await asyncio.sleep(1.0)
            writer.write(b" ")
    return respond


def finishes_within(seconds, call):
    """call()'s result, or a failure (not a hung test) when it is still running after ``seconds``."""
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(value=call()), daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds} s"
    return outcome["value"], time.monotonic() - started


def test_a_model_list_that_drips_gives_up_at_the_deadline():
    """A server sending one byte a second never trips a per-read timeout: only a total deadline ends it."""
    with RawServer(drips(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{")) as server:
        status, took = finishes_within(8, lambda: probe(server.base_url, timeout_s=1.5))
        info, took_too = finishes_within(8, lambda: describe_model(server.base_url, "stub", deadline_s=1.5))
    assert not status.healthy and "1.5 s" in status.error and took < 4
    assert info is None and took_too < 4


def test_a_single_check_that_drips_gives_up_at_the_deadline(monkeypatch):
    monkeypatch.setattr("cope_eval.scoring._check.CHECK_RETRY", RetryPolicy(attempts=1, timeout_s=1.5))
    with RawServer(drips(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{")) as server:
        def check():
            with pytest.raises(ServerError) as failure:
                check_one(Endpoint(server.base_url, "stub"), policy="P", text="x")
            return str(failure.value)
        message, took = finishes_within(8, check)
    assert "timed out after 1.5 s" in message and took < 4


def test_a_scoring_reply_that_drips_times_out_and_is_a_counted_error(workspace):
    dripping = drips(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")

    async def respond(request, writer):
        if request.target.endswith("/models"):
            writer.write(http_reply(200, MODELS))
            return True
        return await dripping(request, writer)
    # 1.5 s: longer than the gap between two bytes, so only a total deadline ends the reply
    retry = RetryPolicy(attempts=1, timeout_s=1.5)
    with RawServer(respond) as server:
        (result, predictions), took = finishes_within(10, lambda: run_items(workspace, server.base_url, 2, retry=retry))
    assert result.progress.errors == 2 and took < 6
    assert set(predictions["error"]) == {"timed out after 1.5 s (gave up after 1 tries)"}


@pytest.fixture
def proxy(monkeypatch):
    """A plain HTTP proxy that answers itself (so reaching the server proves the proxy was used),
    set as HTTP_PROXY; it records the absolute-form targets it was asked for."""
    for name in ("http_proxy", "https_proxy", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)

    def chat(request):
        return http_reply(200, item_reply(request.body)), True
    with RawServer(serving(chat)) as server:
        monkeypatch.setenv("HTTP_PROXY", server.origin)
        yield server


UNREACHABLE = "http://model.invalid:8000/v1"
"""``.invalid`` never resolves (RFC 6761): only a proxy can reach it."""


def test_http_proxy_from_the_environment_carries_the_whole_run(workspace, proxy):
    result, predictions = run_items(workspace, UNREACHABLE, 4, key=KEY)
    assert result.run.status == "completed" and own_scores(predictions) == expected_scores(4)
    targets = [r.target for r in proxy.requests]
    assert f"{UNREACHABLE}/models" in targets
    assert targets.count(f"{UNREACHABLE}/chat/completions") == 4
    assert {r.headers.get("authorization") for r in proxy.requests} == {f"Bearer {KEY}"}


def test_no_proxy_bypasses_the_proxy(proxy, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "model.invalid")
    status = probe(UNREACHABLE)
    assert not status.healthy and status.error.startswith(f"Cannot reach {UNREACHABLE}")
    assert proxy.requests == []


def test_concurrency_beyond_what_the_process_can_open_is_refused_with_the_limit(workspace):
    """--concurrency 100000 ran out of file descriptors, reported as 'server unreachable'."""
    limit = http_client.max_concurrency()
    assert 1 <= limit <= http_client.MAX_CONCURRENCY
    with Store(workspace.private_dir) as store:
        args = dict(policy=make_policy(), golden=make_golden(2), endpoint=Endpoint("http://127.0.0.1:9/v1", "stub"))
        with pytest.raises(ConfigError, match=f"Concurrency must be at most {limit:,}, not 100,000: each request "
                                              "in flight holds an open connection"):
            create_run(store, concurrency=100_000, **args)
        with pytest.raises(ConfigError, match="Concurrency must be at least 1, not 0"):
            create_run(store, concurrency=0, **args)
        assert create_run(store, concurrency=limit, **args).concurrency == limit


def test_the_limit_follows_the_open_files_limit(monkeypatch):
    monkeypatch.setattr(http_client.resource, "getrlimit", lambda which: (300, 4096))
    assert http_client.max_concurrency() == 300 - http_client.FD_HEADROOM
    with pytest.raises(ConfigError, match=r"Concurrency must be at most 172, not 200: .*`ulimit -n` allows this "
                                          r"process 300 open files\."):
        http_client.check_concurrency(200)


def test_replicas_count_towards_the_limit(workspace):
    limit = http_client.max_concurrency()
    with Store(workspace.private_dir) as store:
        endpoint = Endpoint("http://127.0.0.1:9/v1", "stub")
        run = create_run(store, policy=make_policy(), golden=make_golden(2), endpoint=endpoint, concurrency=limit)
        with pytest.raises(ConfigError, match=f"Concurrency {limit:,} on each of 2 servers needs {2 * limit:,} "
                                              f"connections; at most {limit:,} can be open at once"):
            execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST,
                        replicas=[(Endpoint("http://127.0.0.1:10/v1", "stub"), limit)])
        assert store.predictions(run.id).empty
