"""Image references: check them, load their bytes, turn them into data URLs.

A golden item's image is a *reference*, one of:

- a path relative to the workspace root (``golden_sets/images/meme-01.png``); it must stay
  inside the workspace after symlinks are resolved;
- a base64 data URL (``data:image/png;base64,...``);
- an ``http(s)://`` URL, fetched only when the caller passes ``allow_urls=True``, and then only
  from a public address: loopback, private, link-local (the cloud-metadata service at
  169.254.169.254) and other non-global addresses are refused, checked on the address each
  connection actually reaches (so neither a redirect nor a DNS answer that changes between the
  check and the fetch gets around it). ``allow_private_urls=True``, or ``COPE_ALLOW_PRIVATE_URLS=1``
  in the environment, lifts that for images on an intranet host.

Whatever the source, the bytes must be at most ``MAX_IMAGE_BYTES`` long and decode with Pillow
as PNG, JPEG, GIF or WebP of at most ``MAX_IMAGE_PIXELS`` pixels (Pillow's decompression-bomb
guard is kept on as well). The MIME type always comes from the decoded bytes, never from a file
extension or the type a data URL claims.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import io
import ipaddress
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath

from ..config import private_urls_allowed
from ..errors import RowProblem, ValidationError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""Largest accepted image, in bytes (10 MiB), whatever its source."""

MAX_IMAGE_PIXELS = 40_000_000
"""Largest accepted image, in pixels (width x height); guards against decompression bombs."""

IMAGE_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
"""Pillow formats accepted, with the MIME type each is sent as."""

URL_TIMEOUT_S = 10.0
"""Timeout for fetching one http(s) image when URLs are allowed."""


class _Rejected(Exception):
    """Internal: the reference cannot be used; the message says why."""


class _NotPublic(OSError):
    """Internal: a connection reached an address that is not public; nothing was sent."""

    def __init__(self, address):
        super().__init__(f"refused to connect to non-public address {address}")
        self.address = address


def image_reference(image: str) -> str:
    """An image as a reviewer can find it in a table or CSV: the path or URL, or for a data URL
    its media type and size (never the inline bytes)."""
    if image.startswith("data:"):
        return f"{image.split(',', 1)[0]},… (inline image, {len(image):,} characters)"
    return image


def image_kind(ref: str) -> str:
    """Classify a reference: ``"data"``, ``"url"`` (http/https) or ``"path"``."""
    head = ref[:8].lower()
    if head.startswith("data:"):
        return "data"
    if head.startswith(("http://", "https://")):
        return "url"
    return "path"


def check_image(
    ref: str,
    workspace: Path,
    *,
    allow_urls: bool = False,
    allow_private_urls: bool | None = None,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> str | None:
    """Return why ``ref`` is not a usable image, or None when it is.

    With ``allow_urls=False`` an http(s) URL is accepted as a reference without fetching it.
    ``allow_private_urls`` (default: ``COPE_ALLOW_PRIVATE_URLS=1`` in the environment) lets
    fetched URLs reach loopback, private and link-local addresses.
    """
    if image_kind(ref) == "url" and not allow_urls:
        return None
    try:
        _load(ref, workspace, allow_urls=allow_urls, allow_private_urls=allow_private_urls, max_bytes=max_bytes,
              max_pixels=max_pixels)
    except _Rejected as ex:
        return str(ex)
    return None


def load_image_bytes(
    ref: str,
    workspace: Path,
    *,
    allow_urls: bool = False,
    allow_private_urls: bool | None = None,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> tuple[str, bytes]:
    """Load and check an image; return ``(mime, bytes)``.

    Raises ``ValidationError`` (one problem, column ``image``) when the reference is unusable,
    including an http(s) URL while ``allow_urls`` is False.
    """
    try:
        return _load(ref, workspace, allow_urls=allow_urls, allow_private_urls=allow_private_urls,
                     max_bytes=max_bytes, max_pixels=max_pixels)
    except _Rejected as ex:
        problem = RowProblem(file=_short(ref), row=None, column="image", value=ref, problem=str(ex))
        raise ValidationError([problem], headline=f"Image {_short(ref)!r}: {ex}") from None


def to_data_url(
    ref: str,
    workspace: Path,
    *,
    allow_urls: bool = False,
    allow_private_urls: bool | None = None,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> str:
    """Load ``ref`` (checked as in ``load_image_bytes``) and return it as a base64 data URL."""
    mime, data = load_image_bytes(
        ref, workspace, allow_urls=allow_urls, allow_private_urls=allow_private_urls, max_bytes=max_bytes,
        max_pixels=max_pixels,
    )
    return encode_data_url(mime, data)


def encode_data_url(mime: str, data: bytes) -> str:
    """``data:<mime>;base64,<data>`` for bytes already checked."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _load(ref: str, workspace: Path, *, allow_urls: bool, allow_private_urls: bool | None, max_bytes: int,
          max_pixels: int):
    if not isinstance(ref, str) or not ref.strip():
        raise _Rejected("empty image reference")
    kind = image_kind(ref)
    if kind == "data":
        data = _read_data_url(ref, max_bytes)
    elif kind == "url":
        if not allow_urls:
            raise _Rejected("image URLs are only fetched when fetching image URLs is turned on")
        private = private_urls_allowed() if allow_private_urls is None else allow_private_urls
        data = _fetch(ref, max_bytes, allow_private=private)
    else:
        data = _read_path(ref, workspace, max_bytes)
    return _decode(data, max_pixels), data


def _read_path(ref: str, workspace: Path, max_bytes: int) -> bytes:
    if "\x00" in ref:
        raise _Rejected("image path contains a NUL character")
    if ":" in ref.split("/", 1)[0] and "://" in ref:
        raise _Rejected("only data: and http(s):// image URLs are supported, or a path inside the workspace")
    rel = Path(ref)
    if rel.is_absolute() or PurePosixPath(ref.replace("\\", "/")).is_absolute():
        raise _Rejected("absolute image paths are not allowed; give a path relative to the workspace")
    root = Path(workspace).resolve()
    try:
        full = (root / rel).resolve()
    except (OSError, RuntimeError) as ex:  # RuntimeError: symlink loop on older Pythons
        raise _Rejected(f"cannot resolve image path ({ex})") from None
    if not full.is_relative_to(root):
        raise _Rejected("image path points outside the workspace")
    try:
        if not full.exists():
            raise _Rejected("image file not found in the workspace")
        if not full.is_file():
            raise _Rejected("image path is not a regular file")
        size = full.stat().st_size
        if size > max_bytes:
            raise _Rejected(_too_big(size, max_bytes))
        with open(full, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as ex:
        raise _Rejected(f"image file is unreadable ({ex.strerror or ex})") from None
    if len(data) > max_bytes:
        raise _Rejected(_too_big(len(data), max_bytes))
    return data


def _read_data_url(ref: str, max_bytes: int) -> bytes:
    header, sep, payload = ref.partition(",")
    if not sep:
        raise _Rejected("data URL has no ',' before its data")
    params = header[5:].split(";")
    if "base64" not in (p.strip().lower() for p in params[1:]):
        raise _Rejected("data URL must be base64-encoded (data:image/png;base64,...)")
    payload = "".join(payload.split())
    if len(payload) * 3 // 4 > max_bytes + 2:
        raise _Rejected(_too_big(len(payload) * 3 // 4, max_bytes))
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _Rejected("data URL holds invalid base64") from None


def _fetch(url: str, max_bytes: int, *, allow_private: bool) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "cope-eval"})
    if allow_private:
        opener = urllib.request.build_opener()  # as any client would: proxies from the environment
    else:
        _refuse_non_public_host(url)  # a clear answer before any connection is made
        opener = _PUBLIC_ONLY
    try:
        with opener.open(request, timeout=URL_TIMEOUT_S) as response:
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as ex:
        raise _Rejected(f"image URL answered HTTP {ex.code}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as ex:
        reason = getattr(ex, "reason", ex)
        if isinstance(reason, _NotPublic):  # a redirect, or a DNS answer that changed
            raise _Rejected(_not_public(reason.address)) from None
        raise _Rejected(f"image URL could not be fetched ({reason})") from None
    if len(data) > max_bytes:
        raise _Rejected(_too_big(len(data), max_bytes))
    return data


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses; False for loopback, private, link-local
    (169.254.169.254, the cloud-metadata service), shared, reserved, multicast and unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_global and not address.is_multicast


def _refuse_non_public_host(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError as ex:
        raise _Rejected(f"image URL could not be fetched ({ex})") from None
    if not host:
        raise _Rejected("image URL has no host")
    try:
        found = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as ex:
        raise _Rejected(f"image URL could not be fetched ({ex})") from None
    for *_, sockaddr in found:
        address = _address(sockaddr[0])
        if not is_public_address(address):
            raise _Rejected(_not_public(address))


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


def _not_public(address) -> str:
    return (f"image URL points to a non-public address ({address}: loopback, private, link-local or "
            "cloud-metadata); not fetched. Set COPE_ALLOW_PRIVATE_URLS=1 to allow it")


def _decode(data: bytes, max_pixels: int) -> str:
    if not data:
        raise _Rejected("image is empty (0 bytes)")
    from PIL import Image, UnidentifiedImageError  # here, not at the top: only images need Pillow (fast CLI)

    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_MIME)) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise _Rejected(
                    f"image is {width}x{height} pixels, over the limit of {max_pixels:,} pixels"
                )
            fmt = img.format
            img.load()
    except _Rejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _Rejected(f"image is over the limit of {max_pixels:,} pixels") from None
    except UnidentifiedImageError:
        raise _Rejected("not an image Pillow can read (PNG, JPEG, GIF or WebP expected)") from None
    except Exception as ex:  # noqa: BLE001 - Pillow's decoders raise many types on bad bytes
        raise _Rejected(f"corrupt image ({type(ex).__name__}: {ex})") from None
    return IMAGE_MIME[fmt]


def _too_big(size: int, limit: int) -> str:
    return f"image is {size:,} bytes, over the limit of {limit:,} bytes"


def _short(ref: str, limit: int = 60) -> str:
    return ref if len(ref) <= limit else ref[: limit - 1] + "…"
