"""Small PNG thumbnails of golden-item images and videos, as data URLs a table can show.

Only media already in hand are drawn: workspace paths and data URLs, checked by
``load_image_bytes`` (images, re-encoded as PNG, so nothing the file claims to be, an SVG with
scripts say, reaches the browser) or ``load_video_bytes`` (videos: the first frame, decoded and
encoded as PNG). http(s) URLs are never fetched for a preview: showing them would let a hostile
row make the analyst's browser, or the server, call any host.
"""

from __future__ import annotations

import functools
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


def video_thumbnail(ref, workspace: Path, *, size: int = THUMBNAIL_PX) -> str | None:
    """The first frame of a video as a PNG data URL at most ``size`` pixels on its longest side;
    None when there is no video, it is an http(s) URL, or it cannot be used or decoded.

    A video is up to 50 MiB: each is read once per version of its file (kept while the file's
    size and modification time stay), not on every redraw of a page."""
    if not isinstance(ref, str) or not ref.strip():
        return None
    if image_kind(ref) == "url":  # never fetched for a preview, whatever the loader allows
        return None
    return _video_thumbnail(ref, str(workspace), size, _file_stamp(ref, workspace))


@functools.lru_cache(maxsize=1024)
def _video_thumbnail(ref: str, workspace: str, size: int, stamp: tuple | None) -> str | None:
    from ._videos import first_frame, load_video_bytes  # here: only videos need PyAV (a fast CLI)

    try:
        _, data = load_video_bytes(ref, Path(workspace))
    except ValidationError:
        return None
    png = first_frame(data, size)
    return None if png is None else encode_data_url("image/png", png)


def _file_stamp(ref: str, workspace: Path) -> tuple | None:
    """(size, mtime) of a workspace file, so a changed file is read again; None for a data URL."""
    if image_kind(ref) == "data":
        return None
    try:
        info = (Path(workspace) / ref).stat()
    except (OSError, ValueError):
        return None
    return info.st_size, info.st_mtime_ns


def with_thumbnails(frame: pd.DataFrame, workspace: Path, *, column: str = "image", video_column: str = "video",
                    into: str = "thumbnail", size: int = THUMBNAIL_PX) -> pd.DataFrame:
    """``frame`` with a ``into`` column of thumbnails placed first: the row's image, else the
    first frame of its video (a row has one attachment at most). Call it on one page of rows:
    every image and video is opened."""
    draw = {column: thumbnail, video_column: video_thumbnail}
    cache: dict[tuple[str, str], str | None] = {}
    shots = []
    for image, video in zip(_references(frame, column), _references(frame, video_column)):
        key = (column, image) if image else (video_column, video) if video else None
        if key is not None and key not in cache:
            cache[key] = draw[key[0]](key[1], workspace, size=size)
        shots.append(None if key is None else cache[key])
    out = frame.copy()
    out.insert(0, into, pd.Series(shots, index=frame.index, dtype=object))
    return out


def _references(frame: pd.DataFrame, column: str) -> list[str]:
    """Each row's reference in ``column``: "" for none, a missing value or no such column."""
    if column not in frame.columns:
        return [""] * len(frame)
    return [ref if isinstance(ref, str) and ref.strip() else "" for ref in frame[column]]


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
