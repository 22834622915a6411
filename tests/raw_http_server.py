"""A server that writes exact bytes on the wire, for HTTP framing and protocol tests.

tests/stub_server.py always answers with well-formed ``Content-Length`` replies; the cases
here are the legal-but-unusual ones (1xx interim replies, close-delimited bodies, redirects,
a proxy's absolute-form requests) and the hostile ones (a reply that drips one byte a second).
``respond(request, writer)`` writes whatever it likes and returns whether to keep the
connection open for another request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tests.stub_server import LoopServer


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    """As sent: a path (``/v1/models``), or an absolute URL when the client talks to a proxy."""
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes


Responder = Callable[[Request, asyncio.StreamWriter], Awaitable[bool]]


def http_reply(status: int, body: bytes = b"", headers: dict[str, str] | None = None, *, reason: str = "Reason") -> bytes:
    """One complete HTTP/1.1 reply with a Content-Length."""
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def sends(*chunks: bytes, keep_open: bool = True) -> Responder:
    """A responder that writes ``chunks`` for every request."""
    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"".join(chunks))
        await writer.drain()
        return keep_open
    return respond


class RawServer(LoopServer):
    """Listens on 127.0.0.1 in a background thread; ``requests`` records every request read."""

    def __init__(self, respond: Responder):
        super().__init__()
        self.respond = respond
        self.requests: list[Request] = []
        self.connections = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                self.requests.append(request)
                if not await self.respond(request, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    return Request(method, target, headers, body)
