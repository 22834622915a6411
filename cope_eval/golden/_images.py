"""Image references: check them, load their bytes, turn them into data URLs.

A golden item's image is a *reference*: a path inside the workspace, a base64 data URL, or an
``http(s)://`` URL fetched only when allowed and only from a public address (unless
``allow_private_urls``); ``_references`` reads the bytes safely for images and videos alike.

Whatever the source, the bytes must be at most ``MAX_IMAGE_BYTES`` long and decode with Pillow
as PNG, JPEG, GIF or WebP of at most ``MAX_IMAGE_PIXELS`` pixels (Pillow's decompression-bomb
guard is kept on as well). The MIME type always comes from the decoded bytes, never from a file
extension or the type a data URL claims.
"""

from __future__ import annotations

import io
from pathlib import Path

from ..errors import RowProblem, ValidationError
from ._references import Rejected
from ._references import describe_reference, read_reference, reference_kind, short
from ._references import encode_data_url  # noqa: F401 - part of the images API (_thumbnails, the package)

MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""Largest accepted image, in bytes (10 MiB), whatever its source."""

MAX_IMAGE_PIXELS = 40_000_000
"""Largest accepted image, in pixels (width x height); guards against decompression bombs."""

IMAGE_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
"""Pillow formats accepted, with the MIME type each is sent as."""


def image_reference(image: str) -> str:
    """An image as a reviewer can find it in a table or CSV: the path or URL, or for a data URL
    its media type and size (never the inline bytes)."""
    return describe_reference(image, "image")


def image_kind(ref: str) -> str:
    """Classify a reference: ``"data"``, ``"url"`` (http/https) or ``"path"``."""
    return reference_kind(ref)


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
    except Rejected as ex:
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
    except Rejected as ex:
        problem = RowProblem(file=short(ref), row=None, column="image", value=ref, problem=str(ex))
        raise ValidationError([problem], headline=f"Image {short(ref)!r}: {ex}") from None


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


def _load(ref: str, workspace: Path, *, allow_urls: bool, allow_private_urls: bool | None, max_bytes: int,
          max_pixels: int):
    data = read_reference(ref, workspace, what="image", allow_urls=allow_urls, allow_private_urls=allow_private_urls,
                          max_bytes=max_bytes)
    return _decode(data, max_pixels), data


def _decode(data: bytes, max_pixels: int) -> str:
    if not data:
        raise Rejected("image is empty (0 bytes)")
    from PIL import Image, UnidentifiedImageError  # here, not at the top: only images need Pillow (fast CLI)

    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_MIME)) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise Rejected(
                    f"image is {width}x{height} pixels, over the limit of {max_pixels:,} pixels"
                )
            fmt = img.format
            img.load()
    except Rejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Rejected(f"image is over the limit of {max_pixels:,} pixels") from None
    except UnidentifiedImageError:
        raise Rejected("not an image Pillow can read (PNG, JPEG, GIF or WebP expected)") from None
    except Exception as ex:  # noqa: BLE001 - Pillow's decoders raise many types on bad bytes
        raise Rejected(f"corrupt image ({type(ex).__name__}: {ex})") from None
    return IMAGE_MIME[fmt]
