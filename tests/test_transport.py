"""Retries, backoff, timeouts and error shapes of the bulk transport, against a stub server."""

import asyncio
import json

import pytest

from cope_eval.scoring import RetryPolicy, ServerSession
from cope_eval.scoring._transport import (
    RequestFailed, backoff_delay, is_retryable, parse_retry_after, send_with_retries
)
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer

FAST = RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=0.05, timeout_s=1.0)


def send(server, retry=FAST, body=b'{"x":1}'):
    return asyncio.run(_send_to(server.base_url, retry, body, "/chat/completions"))


async def _send_to(base_url, retry=FAST, body=b"{}", path="/x"):
    async with ServerSession(base_url, None, connections=1, deadline_s=retry.timeout_s) as session:
        return await send_with_retries(session, path, body, retry)


def scripted(*replies):
    """Answer with ``replies`` in order, then the fixed reply forever."""
    queue = list(replies)
    return lambda path, body: queue.pop(0) if queue else Reply(body=FIXED_CHAT_REPLY)


@pytest.mark.parametrize("fault", [
    Reply(status=500, body=b'{"error":{"message":"boom"}}'), Reply(status=502), Reply(status=503),
    Reply(drop=True), Reply(body=FIXED_CHAT_REPLY, truncate_to=20),
])
def test_transient_faults_are_retried_until_success(fault):
    with StubServer(scripted(fault, fault)) as server:
        reply, tries = send(server)
    assert tries == 3 and server.count == 3
    assert reply["choices"][0]["message"]["content"] == "1"


def test_slow_reply_times_out_and_is_retried():
    with StubServer(scripted(Reply(body=FIXED_CHAT_REPLY, delay_s=1.5))) as server:
        reply, tries = send(server)
    assert tries == 2 and reply["choices"]


def test_client_errors_are_not_retried():
    with StubServer(scripted(Reply(status=400, body=b'{"error":{"message":"smollm2 is not a multimodal model"}}'))) as server:
        with pytest.raises(RequestFailed, match="HTTP 400: smollm2 is not a multimodal model") as failure:
            send(server)
    assert server.count == 1 and failure.value.tries == 1 and not failure.value.unreachable


def test_persistent_5xx_gives_up_with_the_count():
    with StubServer(lambda p, b: Reply(status=503, body=b"overloaded")) as server:
        with pytest.raises(RequestFailed, match=r"HTTP 503: overloaded \(gave up after 4 tries\)"):
            send(server)
    assert server.count == 4


def test_ok_status_with_a_body_that_is_not_json_is_an_error():
    with StubServer(lambda p, b: Reply(body=b"<html>proxy</html>")) as server:
        with pytest.raises(RequestFailed, match="not JSON"):
            send(server)


def test_refused_connection_is_marked_unreachable():
    with StubServer() as server:
        base_url = server.base_url
    with pytest.raises(RequestFailed, match="connection failed") as failure:
        asyncio.run(_send_to(base_url))
    assert failure.value.unreachable and failure.value.tries == FAST.attempts


def test_retry_after_is_honoured_as_a_floor():
    policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02)
    assert all(backoff_delay(1, policy, retry_after=2.0) == 2.0 for _ in range(20))
    assert all(0 <= backoff_delay(3, policy) <= 0.02 for _ in range(50))


def test_backoff_grows_exponentially_with_full_jitter():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=100.0)
    samples = [backoff_delay(5, policy) for _ in range(2000)]
    assert max(samples) <= 16.0 and max(samples) > 12.0 and min(samples) < 4.0


@pytest.mark.parametrize("header, seconds", [("3", 3.0), ("0", 0.0), ("-5", 0.0), ("soon", None), (None, None)])
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds


def test_retry_after_header_delays_the_next_try():
    with StubServer(scripted(Reply(status=503, headers={"Retry-After": "1"}))) as server:
        import time
        started = time.perf_counter()
        send(server, RetryPolicy(attempts=2, base_delay_s=0.0, max_delay_s=0.0, timeout_s=5))
        assert time.perf_counter() - started >= 0.95


@pytest.mark.parametrize("status, retry", [(400, False), (401, False), (404, False), (408, True), (429, True),
                                           (500, True), (529, True)])
def test_which_statuses_are_retried(status, retry):
    assert is_retryable(status) is retry


def test_request_is_sent_byte_for_byte_with_key_only_to_its_server():
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "é ✓"}]}, ensure_ascii=False).encode()
    with StubServer() as server:
        async def go():
            async with ServerSession(server.base_url, "sk-test", connections=1, deadline_s=5) as session:
                await session.post("/chat/completions", body)
        asyncio.run(go())
    path, headers, sent = server.requests[0]
    assert path == "/v1/chat/completions" and sent == body
    assert headers["authorization"] == "Bearer sk-test" and headers["content-type"] == "application/json"
