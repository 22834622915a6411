"""Small PNG thumbnails of golden-item images, as data URLs a table can show.

Only images already in hand are drawn: workspace paths and data URLs, checked by
``images.load_image_bytes`` and re-encoded as PNG (so nothing the file claims to be, an SVG
with scripts say, reaches the browser). http(s) URLs are never fetched for a preview: showing
them would let a hostile row make the analyst's browser call any server.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..errors import ValidationError
from ._images import encode_data_url, image_kind, load_image_bytes

THUMBNAIL_PX = 96
"""Longest side of a thumbnail, in pixels."""


def thumbnail(ref, workspace: Path, *, size: int = THUMBNAIL_PX) -> str | None:
    """A PNG data URL at most ``size`` pixels on its longest side; None when there is no image,
    it is an http(s) URL, or it cannot be used (the golden-set checks report why)."""
    if not isinstance(ref, str) or not ref.strip() or image_kind(ref) == "url":
        return None
    try:
        _, data = load_image_bytes(ref, workspace)
    except ValidationError:
        return None
    return _png_thumbnail(data, size)


def with_thumbnails(frame: pd.DataFrame, workspace: Path, *, column: str = "image",
                    into: str = "thumbnail", size: int = THUMBNAIL_PX) -> pd.DataFrame:
    """``frame`` with a ``into`` column of thumbnails placed first. Call it on one page of rows:
    every image is opened."""
    cache: dict[str, str | None] = {}
    shots = []
    for ref in frame[column] if column in frame.columns else [None] * len(frame):
        key = ref if isinstance(ref, str) else ""
        if key not in cache:
            cache[key] = thumbnail(ref, workspace, size=size)
        shots.append(cache[key])
    out = frame.copy()
    out.insert(0, into, pd.Series(shots, index=frame.index, dtype=object))
    return out


def uploaded_image_data_url(data: bytes, workspace: Path) -> str:
    """An uploaded image as a data URL, checked like a golden item's image (size, pixels, format;
    the type comes from the decoded bytes). Raises ``ValidationError`` when it is unusable."""
    mime, checked = load_image_bytes(encode_data_url("application/octet-stream", data), workspace)
    return encode_data_url(mime, checked)


def _png_thumbnail(data: bytes, size: int) -> str | None:
    from PIL import Image  # here, not at the top: only images need Pillow (a fast CLI)

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((size, size))
            buffer = io.BytesIO()
            image.convert("RGBA").save(buffer, format="PNG", optimize=True)
    except Exception:  # noqa: BLE001 - already checked; a decoder failing here means "no preview"
        return None
    return encode_data_url("image/png", buffer.getvalue())
