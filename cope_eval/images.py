"""Image references: check them, load their bytes, turn them into data URLs.

A golden item's image is a *reference*, one of:

- a path relative to the workspace root (``golden_sets/images/meme-01.png``); it must stay
  inside the workspace after symlinks are resolved;
- a base64 data URL (``data:image/png;base64,...``);
- an ``http(s)://`` URL, fetched only when the caller passes ``allow_urls=True``.

Whatever the source, the bytes must be at most ``MAX_IMAGE_BYTES`` long and decode with Pillow
as PNG, JPEG, GIF or WebP of at most ``MAX_IMAGE_PIXELS`` pixels (Pillow's decompression-bomb
guard is kept on as well). The MIME type always comes from the decoded bytes, never from a file
extension or the type a data URL claims.
"""

from __future__ import annotations

import base64
import binascii
import io
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from .errors import RowProblem, ValidationError

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
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> str | None:
    """Return why ``ref`` is not a usable image, or None when it is.

    With ``allow_urls=False`` an http(s) URL is accepted as a reference without fetching it.
    """
    if image_kind(ref) == "url" and not allow_urls:
        return None
    try:
        _load(ref, workspace, allow_urls=allow_urls, max_bytes=max_bytes, max_pixels=max_pixels)
    except _Rejected as ex:
        return str(ex)
    return None


def load_image_bytes(
    ref: str,
    workspace: Path,
    *,
    allow_urls: bool = False,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> tuple[str, bytes]:
    """Load and check an image; return ``(mime, bytes)``.

    Raises ``ValidationError`` (one problem, column ``image``) when the reference is unusable,
    including an http(s) URL while ``allow_urls`` is False.
    """
    try:
        return _load(ref, workspace, allow_urls=allow_urls, max_bytes=max_bytes, max_pixels=max_pixels)
    except _Rejected as ex:
        problem = RowProblem(file=_short(ref), row=None, column="image", value=ref, problem=str(ex))
        raise ValidationError([problem], headline=f"Image {_short(ref)!r}: {ex}") from None


def to_data_url(
    ref: str,
    workspace: Path,
    *,
    allow_urls: bool = False,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> str:
    """Load ``ref`` (checked as in ``load_image_bytes``) and return it as a base64 data URL."""
    mime, data = load_image_bytes(
        ref, workspace, allow_urls=allow_urls, max_bytes=max_bytes, max_pixels=max_pixels
    )
    return encode_data_url(mime, data)


def encode_data_url(mime: str, data: bytes) -> str:
    """``data:<mime>;base64,<data>`` for bytes already checked."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _load(ref: str, workspace: Path, *, allow_urls: bool, max_bytes: int, max_pixels: int):
    if not isinstance(ref, str) or not ref.strip():
        raise _Rejected("empty image reference")
    kind = image_kind(ref)
    if kind == "data":
        data = _read_data_url(ref, max_bytes)
    elif kind == "url":
        if not allow_urls:
            raise _Rejected("image URLs are only fetched when URL fetching is allowed (allow_urls=True)")
        data = _fetch(ref, max_bytes)
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


def _fetch(url: str, max_bytes: int) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "cope-eval"})
    try:
        with urllib.request.urlopen(request, timeout=URL_TIMEOUT_S) as response:
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as ex:
        raise _Rejected(f"image URL answered HTTP {ex.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as ex:
        reason = getattr(ex, "reason", ex)
        raise _Rejected(f"image URL could not be fetched ({reason})") from None
    if len(data) > max_bytes:
        raise _Rejected(_too_big(len(data), max_bytes))
    return data


def _decode(data: bytes, max_pixels: int) -> str:
    if not data:
        raise _Rejected("image is empty (0 bytes)")
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
