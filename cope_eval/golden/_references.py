"""Media references: read the bytes an image or a video reference names, safely.

A golden item's image or video is a *reference*, one of:

- a path relative to the workspace root (``golden_sets/images/meme-01.png``); it must stay
  inside the workspace after symlinks are resolved;
- a base64 data URL (``data:image/png;base64,...``); the type it claims is never trusted;
- an ``http(s)://`` URL, fetched only when the caller passes ``allow_urls=True``, and then only
  from a public address: loopback, private, link-local (the cloud-metadata service at
  169.254.169.254) and other non-global addresses are refused, checked on the address each
  connection actually reaches (so neither a redirect nor a DNS answer that changes between the
  check and the fetch gets around it). ``allow_private_urls=True``, or ``COPE_ALLOW_PRIVATE_URLS=1``
  in the environment, lifts that for media on an intranet host.

Whatever the source, at most ``max_bytes`` are read (a file's size and a data URL's length are
checked before reading or decoding it). What the bytes are is for the caller to check
(``_images`` with Pillow, ``_videos`` with PyAV). Every message names the medium ("image file not
found in the workspace", "video URL answered HTTP 404").
"""

from __future__ import annotations

import base64
import binascii
import http.client
import ipaddress
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath

from ..config import private_urls_allowed

URL_TIMEOUT_S = 10.0
"""Timeout for fetching one http(s) image or video when URLs are allowed."""

_EXAMPLE_TYPE = {"image": "image/png", "video": "video/mp4"}
"""The media type shown in the example of a data URL, per medium."""


class Rejected(Exception):
    """The reference cannot be used; the message says why, in the user's words."""


class _NotPublic(OSError):
    """Internal: a connection reached an address that is not public; nothing was sent."""

    def __init__(self, address):
        super().__init__(f"refused to connect to non-public address {address}")
        self.address = address


def reference_kind(ref: str) -> str:
    """Classify a reference: ``"data"``, ``"url"`` (http/https) or ``"path"``."""
    head = ref[:8].lower()
    if head.startswith("data:"):
        return "data"
    if head.startswith(("http://", "https://")):
        return "url"
    return "path"


def describe_reference(ref: str, what: str) -> str:
    """A reference as a reviewer can find it in a table or CSV: the path or URL, or for a data URL
    its media type and size (never the inline bytes)."""
    if ref.startswith("data:"):
        return f"{ref.split(',', 1)[0]},… (inline {what}, {len(ref):,} characters)"
    return ref


def encode_data_url(mime: str, data: bytes) -> str:
    """``data:<mime>;base64,<data>`` for bytes already checked."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def read_reference(ref: str, workspace: Path, *, what: str, allow_urls: bool, allow_private_urls: bool | None,
                   max_bytes: int) -> bytes:
    """The bytes ``ref`` names (at most ``max_bytes``), or ``Rejected`` saying why not.

    ``what`` ("image" or "video") names the medium in every message. An http(s) URL is refused
    unless ``allow_urls``; ``allow_private_urls`` (default: ``COPE_ALLOW_PRIVATE_URLS=1`` in the
    environment) lets it reach loopback, private and link-local addresses.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise Rejected(f"empty {what} reference")
    kind = reference_kind(ref)
    if kind == "data":
        return _read_data_url(ref, what, max_bytes)
    if kind == "url":
        if not allow_urls:
            raise Rejected(f"{what} URLs are only fetched when fetching {what} URLs is turned on")
        private = private_urls_allowed() if allow_private_urls is None else allow_private_urls
        return _fetch(ref, what, max_bytes, allow_private=private)
    return _read_path(ref, what, workspace, max_bytes)


def too_big(what: str, size: int, limit: int) -> str:
    return f"{what} is {size:,} bytes, over the limit of {limit:,} bytes"


def short(ref: str, limit: int = 60) -> str:
    """``ref`` cut to ``limit`` characters, for a headline."""
    return ref if len(ref) <= limit else ref[: limit - 1] + "…"


def _read_path(ref: str, what: str, workspace: Path, max_bytes: int) -> bytes:
    if "\x00" in ref:
        raise Rejected(f"{what} path contains a NUL character")
    if ":" in ref.split("/", 1)[0] and "://" in ref:
        raise Rejected(f"only data: and http(s):// {what} URLs are supported, or a path inside the workspace")
    rel = Path(ref)
    if rel.is_absolute() or PurePosixPath(ref.replace("\\", "/")).is_absolute():
        raise Rejected(f"absolute {what} paths are not allowed; give a path relative to the workspace")
    root = Path(workspace).resolve()
    try:
        full = (root / rel).resolve()
    except (OSError, RuntimeError) as ex:  # RuntimeError: symlink loop on older Pythons
        raise Rejected(f"cannot resolve {what} path ({ex})") from None
    if not full.is_relative_to(root):
        raise Rejected(f"{what} path points outside the workspace")
    try:
        if not full.exists():
            raise Rejected(f"{what} file not found in the workspace")
        if not full.is_file():
            raise Rejected(f"{what} path is not a regular file")
        size = full.stat().st_size
        if size > max_bytes:
            raise Rejected(too_big(what, size, max_bytes))
        with open(full, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as ex:
        raise Rejected(f"{what} file is unreadable ({ex.strerror or ex})") from None
    if len(data) > max_bytes:
        raise Rejected(too_big(what, len(data), max_bytes))
    return data


def _read_data_url(ref: str, what: str, max_bytes: int) -> bytes:
    header, sep, payload = ref.partition(",")
    if not sep:
        raise Rejected("data URL has no ',' before its data")
    params = header[5:].split(";")
    if "base64" not in (p.strip().lower() for p in params[1:]):
        raise Rejected(f"data URL must be base64-encoded (data:{_EXAMPLE_TYPE.get(what, what)};base64,...)")
    payload = "".join(payload.split())
    if len(payload) * 3 // 4 > max_bytes + 2:
        raise Rejected(too_big(what, len(payload) * 3 // 4, max_bytes))
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise Rejected("data URL holds invalid base64") from None


def _fetch(url: str, what: str, max_bytes: int, *, allow_private: bool) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "cope-eval"})
    if allow_private:
        opener = urllib.request.build_opener()  # as any client would: proxies from the environment
    else:
        _refuse_non_public_host(url, what)  # a clear answer before any connection is made
        opener = _PUBLIC_ONLY
    try:
        with opener.open(request, timeout=URL_TIMEOUT_S) as response:
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as ex:
        raise Rejected(f"{what} URL answered HTTP {ex.code}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as ex:
        reason = getattr(ex, "reason", ex)
        if isinstance(reason, _NotPublic):  # a redirect, or a DNS answer that changed
            raise Rejected(_not_public(what, reason.address)) from None
        raise Rejected(f"{what} URL could not be fetched ({reason})") from None
    if len(data) > max_bytes:
        raise Rejected(too_big(what, len(data), max_bytes))
    return data


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses; False for loopback, private, link-local
    (169.254.169.254, the cloud-metadata service), shared, reserved, multicast and unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_global and not address.is_multicast


def _refuse_non_public_host(url: str, what: str) -> None:
    parts = urllib.parse.urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError as ex:
        raise Rejected(f"{what} URL could not be fetched ({ex})") from None
    if not host:
        raise Rejected(f"{what} URL has no host")
    try:
        found = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as ex:
        raise Rejected(f"{what} URL could not be fetched ({ex})") from None
    for *_, sockaddr in found:
        address = _address(sockaddr[0])
        if not is_public_address(address):
            raise Rejected(_not_public(what, address))


def _address(text: str):
    return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)


def _public_connection(address, *args, **kwargs) -> socket.socket:
    """``socket.create_connection`` that hangs up, before sending a byte, on a non-public peer."""
    sock = socket.create_connection(address, *args, **kwargs)
    peer = _address(sock.getpeername()[0])
    if not is_public_address(peer):
        sock.close()
        raise _NotPublic(peer)
    return sock


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)


def _public_only_opener() -> urllib.request.OpenerDirector:
    """http(s) only (a redirect to ftp:// or file:// is an unknown scheme), no proxy (the
    address checked must be the one reached), every connection through ``_public_connection``."""
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler({}), urllib.request.UnknownHandler(), _PublicHTTPHandler(),
                    _PublicHTTPSHandler(), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPRedirectHandler(), urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


_PUBLIC_ONLY = _public_only_opener()


def _not_public(what: str, address) -> str:
    return (f"{what} URL points to a non-public address ({address}: loopback, private, link-local or "
            "cloud-metadata); not fetched. Set COPE_ALLOW_PRIVATE_URLS=1 to allow it")
