"""A tiny OpenAI-shaped HTTP/1.1 server for fault injection, request-shape checks and benchmarks.

Not a model: it answers what ``behaviour`` says. The end-to-end path is proven against the
real vLLM elsewhere; this server exists to make failures happen on purpose.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 529: "Overloaded"}


@dataclass
class Reply:
    """What the stub sends back for one request."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    """Sleep before answering (to trip client timeouts)."""
    drop: bool = False
    """Close the connection without answering."""
    truncate_to: int | None = None
    """Send only this many bytes of the body, then close."""


def chat_reply(token: str = "1", top: dict[str, float] | None = None, model: str = "stub") -> bytes:
    """A vLLM-shaped chat completion with one generated token and its top logprobs."""
    top = top if top is not None else {"1": -0.1, "0": -2.4}
    entry = {
        "token": token, "logprob": top.get(token, -9.0),
        "top_logprobs": [{"token": t, "logprob": lp} for t, lp in top.items()],
    }
    return json.dumps({
        "id": "chatcmpl-stub", "object": "chat.completion", "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": token},
                     "logprobs": {"content": [entry]}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 1, "total_tokens": 101},
    }).encode()


FIXED_CHAT_REPLY = chat_reply()


def instant(path: str, body: bytes) -> Reply:
    if path.endswith("/models"):
        return Reply(body=json.dumps({"object": "list", "data": [{"id": "stub", "max_model_len": 4096}]}).encode())
    return Reply(body=FIXED_CHAT_REPLY)


def chat_requests(server: "StubServer") -> list[bytes]:
    """Bodies of the scoring requests (``/chat/completions``) the server received, in order."""
    return [body for path, _, body in server.requests if path.endswith("/chat/completions")]


class LoopServer:
    """An asyncio server on 127.0.0.1 in a background thread, for ``with``; subclasses give ``_handle``."""

    def __init__(self):
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class StubServer(LoopServer):
    """Runs on 127.0.0.1 in a background thread; records every request it receives."""

    def __init__(self, behaviour: Callable[[str, bytes], Reply] = instant, *, record: bool = True):
        super().__init__()
        self.behaviour = behaviour
        self.record = record
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.count = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                path, headers, body = request
                self.count += 1
                if self.record:
                    self.requests.append((path, headers, body))
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    reply = self.behaviour(path, body)
                    if reply.delay_s:
                        await asyncio.sleep(reply.delay_s)
                finally:
                    self.in_flight -= 1
                if reply.drop:
                    break
                payload = reply.body if reply.truncate_to is None else reply.body[: reply.truncate_to]
                head = [f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}",
                        "content-type: application/json", f"content-length: {len(reply.body)}"]
                head += [f"{k}: {v}" for k, v in reply.headers.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
                await writer.drain()
                if reply.truncate_to is not None:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    return path, headers, body
