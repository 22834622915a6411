"""A TCP proxy in front of a real server that can be 'killed' and 'restarted' on the same port."""

from __future__ import annotations

import asyncio
import threading


class FaultProxy:
    """Forwards 127.0.0.1:<port> to ``target``. ``kill()`` closes the listener and every open
    connection (as a crashed server would); ``restart()`` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0
        self.paths: list[str] = []
        """Path of every HTTP request forwarded, read from the request framing: only this proxy's traffic."""
        self.heads: list[bytes] = []
        """Request line and headers of every HTTP request forwarded, as sent."""
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def calls(self, path_suffix: str = "/chat/completions") -> int:
        return sum(path.endswith(path_suffix) for path in self.paths)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        self.restart()
        return self

    def __exit__(self, *exc) -> None:
        self.kill()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def restart(self) -> None:
        self._call(self._listen())

    def kill(self) -> None:
        self._call(self._close())

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, client_reader, client_writer) -> None:
        self.connections += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update({client_writer, upstream_writer})
        await asyncio.gather(self._forward_requests(client_reader, upstream_writer),
                             _pipe(upstream_reader, client_writer), return_exceptions=True)
        for writer in (client_writer, upstream_writer):
            self._writers.discard(writer)
            writer.transport.abort()


    async def _forward_requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Forward HTTP/1.1 requests one by one (Content-Length bodies), counting them."""
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            self.paths.append(head.split(b" ", 2)[1].decode("latin-1"))
            self.heads.append(head)
            writer.write(head + body)
            await writer.drain()
        writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.transport.abort()
