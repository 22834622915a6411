"""cope_eval/scoring/_http_client.py on its own: decoding, redaction, deadlines, proxies, limits, and
the synchronous door for single requests."""

import asyncio
import json
import resource
import threading

import pytest

from cope_eval.scoring import ServerSession, TransportError, _http_client as http_client, fetch
from cope_eval.scoring._http_client import BadReply, decode_json, redact_strings, run_sync
from tests.raw_http_server import RawServer, http_reply, sends

KEY = "sk-LEAK-9f3a7c1e5b-never-store"


@pytest.mark.parametrize("body, reason", [
    (b"<html>proxy error</html>", "is not JSON: b'<html>proxy error</html>'"),
    (b"[" * 100_000 + b"]" * 100_000, "is JSON nested too deeply to read"),
    (b'{"a": "\xff\xfe"}', r"is not valid UTF-8 (byte b'\xff' at 7)"),
    (b"", "is not JSON: b''"),
])
def test_every_undecodable_body_is_one_explained_error(body, reason):
    with pytest.raises(BadReply) as failure:
        decode_json(body)
    assert str(failure.value) == reason


def test_redact_strings_reaches_every_string_and_key_at_any_depth():
    deep = current = []
    for _ in range(5000):  # deeper than Python's recursion limit: the walk is iterative
        current.append([])
        current = current[0]
    current.append(f"x{KEY}y")
    value = {"a": [KEY, {"b": f"<{KEY}>"}], f"k{KEY}": 1, "n": 3, "deep": deep}
    cleaned = redact_strings(value, KEY)
    assert current == ["x[redacted]y"]
    assert cleaned["a"] == ["[redacted]", {"b": "<[redacted]>"}] and cleaned["k[redacted]"] == 1
    assert redact_strings(KEY, KEY) == "[redacted]"


def post_once(server, body=b"{}", *, key=KEY, deadline_s=5.0):
    async def go():
        async with ServerSession(server.base_url, key, connections=1, deadline_s=deadline_s) as session:
            return await session.post("/chat/completions", body)
    return asyncio.run(go())


def test_the_key_is_out_of_the_bytes_before_anything_reads_them():
    escaped = "".join(f"\\u{ord(c):04x}" for c in KEY)
    body = json.dumps({"plain": f"key {KEY}"}).encode()[:-1] + f', "escaped": "{escaped}"}}'.encode()
    with RawServer(sends(http_reply(200, body))) as server:
        reply = post_once(server)
    assert KEY.encode() not in reply.body and b"[redacted]" in reply.body
    assert reply.json() == {"plain": "key [redacted]", "escaped": "[redacted]"}
    assert KEY not in repr(reply)


def test_each_request_carries_its_key_json_type_and_nothing_from_earlier_replies():
    with RawServer(sends(http_reply(200, b"{}", {"Set-Cookie": "session=abc"}))) as server:
        async def go():
            async with ServerSession(server.base_url, KEY, connections=1, deadline_s=5) as session:
                await session.post("/chat/completions", b'{"x":1}')
                await session.get("/models")
        asyncio.run(go())
    first, second = server.requests
    assert (first.method, first.target, first.body) == ("POST", "/v1/chat/completions", b'{"x":1}')
    assert first.headers["authorization"] == f"Bearer {KEY}" and first.headers["content-type"] == "application/json"
    assert (second.method, second.target) == ("GET", "/v1/models") and "cookie" not in second.headers
    assert server.connections == 1, "keep-alive: one connection for both"


def test_no_key_no_authorization_header():
    with RawServer(sends(http_reply(200, b"{}"))) as server:
        post_once(server, key=None)
    assert "authorization" not in server.requests[0].headers


def test_a_refused_connection_is_not_reached_and_a_slow_reply_is():
    with RawServer(sends(http_reply(200, b"{}"))) as server:
        closed = server
    with pytest.raises(TransportError, match="connection failed: ClientConnectorError") as refused:
        post_once(closed)
    assert not refused.value.reached

    async def slow(request, writer):
        await asyncio.sleep(3)
        return False
    with RawServer(slow) as server, pytest.raises(TransportError, match=r"^timed out after 0.5 s$") as late:
        post_once(server, deadline_s=0.5)
    assert late.value.reached


def test_a_body_over_the_limit_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(http_client, "MAX_BODY_BYTES", 1000)
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked = head + b"".join(b"100\r\n" + b"x" * 256 + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"
    for reply in (http_reply(200, b"x" * 2000), chunked):
        with RawServer(sends(reply)) as server, pytest.raises(TransportError, match="too large"):
            post_once(server)


def test_fetch_never_follows_a_redirect():
    with RawServer(sends(http_reply(302, b"", {"Location": f"http://elsewhere.invalid/{KEY}"}))) as server:
        reply = fetch("GET", f"{server.base_url}/models", api_key=KEY, deadline_s=5)
    assert reply.is_redirect and reply.redirect_target() == "http://elsewhere.invalid/[redacted]"
    assert len(server.requests) == 1


def test_run_sync_works_inside_a_running_loop_and_from_threads():
    with RawServer(sends(http_reply(200, b'{"ok": true}'))) as server:
        url = f"{server.base_url}/models"

        async def inside_a_loop():
            return fetch("GET", url, deadline_s=5).json()
        assert asyncio.run(inside_a_loop()) == {"ok": True}

        results = []
        threads = [threading.Thread(target=lambda: results.append(fetch("GET", url, deadline_s=5).json()))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert results == [{"ok": True}] * 4
    assert run_sync(lambda: asyncio.sleep(0, result=7)) == 7


def test_https_targets_go_through_https_proxy_with_connect(monkeypatch):
    """aiohttp tunnels https:// through an http:// proxy with CONNECT (the proxy here refuses it)."""
    for name in ("http_proxy", "https_proxy", "no_proxy", "NO_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with RawServer(sends(http_reply(403, b""), keep_open=False)) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.origin)
        with pytest.raises(TransportError):
            fetch("GET", "https://model.invalid/v1/models", api_key=KEY, deadline_s=5)
    connect, = proxy.requests
    assert (connect.method, connect.target) == ("CONNECT", "model.invalid:443")
    assert "authorization" not in connect.headers, "the key is for the server, not the proxy"


def test_max_concurrency_is_capped_and_follows_ulimit(monkeypatch):
    monkeypatch.setattr(http_client.resource, "getrlimit", lambda which: (resource.RLIM_INFINITY,) * 2)
    assert http_client.max_concurrency() == http_client.MAX_CONCURRENCY
    monkeypatch.setattr(http_client.resource, "getrlimit", lambda which: (100_000, 100_000))
    assert http_client.max_concurrency() == http_client.MAX_CONCURRENCY
    monkeypatch.setattr(http_client.resource, "getrlimit", lambda which: (64, 64))
    assert http_client.max_concurrency() == 1
    http_client.check_concurrency(1)
    with pytest.raises(Exception, match="at most 1, not 2"):
        http_client.check_concurrency(2)


# -- the model list, read through it ----------------------------------------------------------

@pytest.mark.parametrize("body, healthy, detail", [
    (b'{"data": [{"id": "m", "max_model_len": 4096, "root": "/w/m"}, {"id": 3}, {"nope": 1}, {"id": "n"}]}',
     True, ""),
    (b'{"data": "m"}', False, "lists no models"),
    (b'[1, 2]', False, "lists no models"),
    (b"[" * 100_000 + b"]" * 100_000, False, "is JSON nested too deeply to read"),
    (b"<html>" + KEY.encode(), False, "is not JSON: b'<html>[redacted]'"),
])
def test_probe_reads_the_model_list_or_says_why_not(body, healthy, detail):
    from cope_eval.scoring import probe
    from cope_eval.scoring._server_info import ModelInfo
    with RawServer(sends(http_reply(200, body))) as server:
        status = probe(server.base_url, KEY)
    assert status.healthy is healthy
    if healthy:
        assert status.models == (ModelInfo("m", 4096, "/w/m"), ModelInfo("n"))
        assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    else:
        assert detail in status.error and KEY not in status.error
