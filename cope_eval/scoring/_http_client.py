"""How cope-eval talks HTTP to model servers: aiohttp, one session per server.

Every request to a model server goes through here (scoring, the model list, ``/tokenize``, the
local server's health, single checks), so these rules hold for all of them:

- **The key goes to its server only.** A session is built for one base URL and sends its key
  as ``Authorization: Bearer``; redirects are never followed (a 3xx comes back as the reply, and
  callers treat it as an error naming the target), so no key follows one to another origin.
- **A total deadline per request**, from connecting to the last byte: a server that drips one
  byte a second cannot hang a run, a page or a health check.
- **Proxies from the environment** (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``), as the openai
  client honours them. aiohttp's ``trust_env=True`` looks them up again for every request, in a
  worker thread, and reads ``~/.netrc`` each time: measured here it cut the client from ~3,900
  to ~1,300 requests per CPU second, and a ``.netrc`` entry for the server's host would clash
  with our Authorization header. So each session resolves the proxy once, with the very function
  ``trust_env`` uses (aiohttp's ``get_env_proxy_for_url``), and passes it to every request.
  aiohttp only speaks to ``http://`` proxies (``https://`` targets go through them with CONNECT);
  an ``https://`` proxy URL is ignored with a warning, as aiohttp does.
- **Replies are read whole, at most MAX_BODY_BYTES, and the key is taken out of the bytes before
  anything parses, quotes or cuts them** (a server may echo the key it was sent). ``Reply.json``
  also redacts decoded strings when the body has JSON escapes (``\\u0073k-...`` hides the key
  from a byte search), and explains any body it cannot decode in one line.

Interim 1xx replies (``103 Early Hints``) and close-delimited bodies are aiohttp's business; it
handles both. ``fetch`` is the synchronous door for single requests, on an event loop of its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import resource
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from multidict import CIMultiDictProxy
from yarl import URL

from ..errors import REDACTED, ConfigError, redact

MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_CONCURRENCY = 1024
"""Most requests in flight at once from one process, over all its servers."""
FD_HEADROOM = 128
"""Open files kept back from the connections: the store, the golden set, images, the server log."""

T = TypeVar("T")


class TransportError(Exception):
    """No reply: the connection failed or broke, the framing was bad, or the deadline passed.

    ``reached``: the server accepted the connection and then ran out of time (a slow server,
    not an absent one). The message is written for the analyst and carries no key."""

    def __init__(self, message: str, *, reached: bool = False):
        super().__init__(message)
        self.reached = reached


class BadReply(ValueError):
    """A reply body that cannot be decoded as JSON; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A final (non-1xx) reply, body read whole and the key already taken out of it."""

    status: int
    body: bytes
    headers: CIMultiDictProxy[str]
    _secret: str | None = field(default=None, repr=False, compare=False)

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400

    def redirect_target(self) -> str:
        """Where a 3xx pointed (for the error message), key removed."""
        location = self.headers.get("Location")
        return redact(location, self._secret) if location else "nowhere (no Location header)"

    def json(self):
        """The decoded body. Raises BadReply saying why it is not usable JSON."""
        value = decode_json(self.body)
        if self._secret and b"\\" in self.body:  # only JSON escapes can hide the key from the byte search
            value = redact_strings(value, self._secret)
        return value


def decode_json(body: bytes):
    """json.loads, with every way it can fail (not JSON, not UTF-8, nested too deep) as one BadReply."""
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise BadReply(f"is not valid UTF-8 (byte {body[exc.start:exc.start + 1]!r} at {exc.start:,})") from None
    except RecursionError:
        raise BadReply("is JSON nested too deeply to read") from None
    except ValueError:
        raise BadReply(f"is not JSON: {body[:120]!r}") from None


def redact_bytes(body: bytes, secret: str | None) -> bytes:
    """``body`` with every copy of ``secret`` replaced by [redacted]."""
    if not secret:
        return body
    needle = secret.encode()
    return body.replace(needle, REDACTED.encode()) if needle in body else body


def redact_strings(value, secret: str):
    """A decoded JSON value with the key taken out of every string in it, keys included.

    Iterative, so a reply nested as deep as the decoder allowed cannot overflow the stack here."""
    if isinstance(value, str):
        return redact(value, secret)
    stack = [value] if isinstance(value, (dict, list)) else []
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if any(secret in key for key in node):
                renamed = {redact(key, secret): item for key, item in node.items()}
                node.clear()
                node.update(renamed)
            entries = node.items()
        else:
            entries = enumerate(node)
        for key, item in list(entries):
            if isinstance(item, str):
                if secret in item:
                    node[key] = item.replace(secret, REDACTED)
            elif isinstance(item, (dict, list)):
                stack.append(item)
    return value


class ServerSession:
    """Requests to one server: its base URL, its key, at most ``connections`` open at once.

    Create and use it inside one event loop; ``async with`` closes it."""

    def __init__(self, base_url: str, api_key: str | None, *, connections: int, deadline_s: float):
        self.base_url = base_url.rstrip("/")
        self.deadline_s = deadline_s
        self._secret = api_key or None
        self._proxy, self._proxy_auth = _env_proxy(URL(self.base_url))
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections, limit_per_host=connections),
            headers=headers, timeout=aiohttp.ClientTimeout(total=deadline_s),
            cookie_jar=aiohttp.DummyCookieJar(),  # a server's cookies are not ours to send back
        )
        self._urls: dict[str, URL] = {}

    async def __aenter__(self) -> "ServerSession":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        await self._session.close()

    async def post(self, path: str, body: bytes) -> Reply:
        """POST a JSON body to base URL + ``path``. Raises TransportError."""
        return await self.request("POST", path, body)

    async def get(self, path: str) -> Reply:
        return await self.request("GET", path)

    async def request(self, method: str, path: str, body: bytes | None = None) -> Reply:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self.base_url + path)
        headers = _JSON if body is not None else None
        try:
            async with self._session.request(method, url, data=body, headers=headers, allow_redirects=False,
                                             proxy=self._proxy, proxy_auth=self._proxy_auth) as response:
                content = await _read_body(response)
                status, reply_headers = response.status, response.headers
        except aiohttp.ConnectionTimeoutError:
            raise TransportError(f"connection failed: no connection within {self.deadline_s:g} s") from None
        except TimeoutError:
            raise TransportError(f"timed out after {self.deadline_s:g} s", reached=True) from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise TransportError(redact(f"connection failed: {detail}", self._secret)) from None
        return Reply(status, redact_bytes(content, self._secret), reply_headers, self._secret)


_JSON = {"Content-Type": "application/json"}


async def _read_body(response: aiohttp.ClientResponse) -> bytes:
    length = response.content_length
    if length is not None:
        if length > MAX_BODY_BYTES:
            raise ValueError(f"reply body of {length:,} bytes is too large")
        return await response.read()
    parts, total = [], 0  # chunked or close-delimited: count as it comes
    async for chunk in response.content.iter_any():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise ValueError("reply body is too large")
        parts.append(chunk)
    return b"".join(parts)


def _env_proxy(url: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    try:
        return get_env_proxy_for_url(url)
    except LookupError:
        return None, None


# -- single requests, from synchronous code -----------------------------------------------------

def fetch(method: str, url: str, *, api_key: str | None = None, json_body: dict | None = None,
          deadline_s: float) -> Reply:
    """One request to ``url``, waited for. Raises TransportError; a 3xx is returned, not followed."""
    body = None if json_body is None else json.dumps(json_body).encode()

    async def once() -> Reply:
        async with ServerSession(url, api_key, connections=1, deadline_s=deadline_s) as session:
            return await session.request(method, "", body)
    return run_sync(once)


def run_sync(start: Callable[[], Awaitable[T]]) -> T:
    """Run ``start()`` to completion on an event loop of its own.

    From plain synchronous code (the CLI, a Streamlit script thread, a worker thread) that is a
    fresh loop in this thread; from inside a running loop it is a fresh loop in a helper thread,
    as a loop cannot be nested."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(start())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(start())).result()


# -- how many at once ---------------------------------------------------------------------------

def max_concurrency() -> int:
    """Most connections a run may hold open: MAX_CONCURRENCY, or fewer when the process may open
    fewer files (each connection is one; ``ulimit -n``), keeping FD_HEADROOM for everything else."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONCURRENCY
    return max(1, min(MAX_CONCURRENCY, soft - FD_HEADROOM))


def check_concurrency(*per_server: int) -> None:
    """Raise ConfigError unless that many requests in flight to each server fit in one process."""
    limit = max_concurrency()
    for concurrency in per_server:
        if concurrency < 1:
            raise ConfigError(f"Concurrency must be at least 1, not {concurrency:,}.")
        if concurrency > limit:
            raise ConfigError(f"Concurrency must be at most {limit:,}, not {concurrency:,}: each request in flight "
                              f"holds an open connection{_why(limit)}.")
    total = sum(per_server)
    if total > limit:
        each = (f"{per_server[0]:,} on each of {len(per_server)} servers" if len(set(per_server)) == 1
                else f"{' + '.join(f'{c:,}' for c in per_server)} over {len(per_server)} servers")
        raise ConfigError(f"Concurrency {each} needs {total:,} connections; at most {limit:,} can be open "
                          f"at once{_why(limit)}.")


def _why(limit: int) -> str:
    if limit == MAX_CONCURRENCY:
        return ""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return f", and `ulimit -n` allows this process {soft:,} open files"
