"""Video references: check them, load their bytes, digest them, draw their first frame.

A golden item's video is a reference like an image's (see ``_references``): a path inside the
workspace, a base64 data URL, or an ``http(s)://`` URL fetched only when allowed and only from a
public address. The bytes are read once, at most ``limits.max_bytes`` of them (a file's size and
a data URL's length are checked first), then probed with PyAV:

- the container must be mp4 (ffmpeg's "mov,mp4,..." demuxer, sent as ``video/mp4``) or WebM /
  Matroska (the "matroska,webm" demuxer, sent as ``video/webm``). The container is told by its
  first bytes (an ``ftyp`` box, the EBML magic) and only that demuxer is run: ffmpeg's own
  probing would also take a PNG, a playlist or an image sequence. The MIME type comes from this,
  never from a file extension or the type a data URL claims;
- it must have a video stream whose frames, as the header states them, are at most
  ``MAX_VIDEO_PIXELS`` (refused before anything is decoded; the decoder is given the same cap);
- it must be at most ``limits.max_seconds`` long: the video stream's duration, else the
  container's. When the header states neither (a WebM recorded in a browser often does not), the
  packets' timestamps are read, without decoding, to the end (at most ``MAX_SCAN_PACKETS``
  packets; a video whose length still cannot be told is refused);
- its first frame must decode, within the first ``MAX_FIRST_FRAME_PACKETS`` video packets (so
  hostile input cannot keep the decoder busy).

Only one video is held in memory at a time, and PyAV is imported only when a video is checked.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from ..errors import RowProblem, ValidationError
from ._references import encode_data_url
from ._references import Rejected, describe_reference, read_reference, reference_kind, short

MAX_VIDEO_BYTES = 50 * 1024 * 1024
"""Largest accepted video, in bytes (50 MiB), whatever its source."""

MAX_VIDEO_SECONDS = 300.0
"""Longest accepted video, in seconds (5 minutes)."""

MAX_VIDEO_PIXELS = 4096 * 4096
"""Largest accepted frame, in pixels (width x height), as the header states it."""

MAX_FIRST_FRAME_PACKETS = 64
"""Video packets decoded at most to get the first frame."""

MAX_SCAN_PACKETS = 200_000
"""Packets read at most (not decoded) to find the length of a video whose header does not state it."""

_CONTAINERS = {"mp4": "video/mp4", "webm": "video/webm"}
"""The demuxer run for each container recognised (ffmpeg finds "mov,mp4,..." and "matroska,webm"
by these names), with the MIME type the video is sent as."""


@dataclass(frozen=True)
class VideoLimits:
    """How large and how long a video may be."""

    max_bytes: int = MAX_VIDEO_BYTES
    """Largest accepted video, in bytes."""
    max_seconds: float = MAX_VIDEO_SECONDS
    """Longest accepted video, in seconds."""


def video_digest(data: bytes) -> str:
    """``sha256:<hex>`` of a video's bytes, as stored beside its reference."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def video_reference(ref: str) -> str:
    """A video as a reviewer can find it in a table or CSV: the path or URL, or for a data URL
    its media type and size (never the inline bytes)."""
    return describe_reference(ref, "video")


def check_video(
    ref: str,
    workspace: Path,
    *,
    allow_urls: bool = False,
    allow_private_urls: bool | None = None,
    limits: VideoLimits = VideoLimits(),
) -> tuple[str | None, str | None]:
    """``(problem, digest)`` for ``ref``: ``problem`` None when the video is usable, else why not;
    ``digest`` the ``sha256:`` of its bytes when it is usable and was read, else None.

    With ``allow_urls=False`` an http(s) URL is accepted as a reference without fetching it
    (``(None, None)``). ``allow_private_urls`` (default: ``COPE_ALLOW_PRIVATE_URLS=1`` in the
    environment) lets fetched URLs reach loopback, private and link-local addresses.
    """
    if reference_kind(ref) == "url" and not allow_urls:
        return None, None
    try:
        _, data = _load(ref, workspace, allow_urls=allow_urls, allow_private_urls=allow_private_urls, limits=limits)
    except Rejected as ex:
        return str(ex), None
    return None, video_digest(data)


def load_video_bytes(
    ref: str,
    workspace: Path,
    *,
    allow_urls: bool = False,
    allow_private_urls: bool | None = None,
    limits: VideoLimits = VideoLimits(),
) -> tuple[str, bytes]:
    """Load and check a video; return ``(mime, bytes)``, mime ``video/mp4`` or ``video/webm``.

    Raises ``ValidationError`` (one problem, column ``video``) when the reference is unusable,
    including an http(s) URL while ``allow_urls`` is False.
    """
    try:
        return _load(ref, workspace, allow_urls=allow_urls, allow_private_urls=allow_private_urls, limits=limits)
    except Rejected as ex:
        problem = RowProblem(file=short(ref), row=None, column="video", value=ref, problem=str(ex))
        raise ValidationError([problem], headline=f"Video {short(ref)!r}: {ex}") from None


def video_data_url(ref: str, workspace: Path, *, allow_urls: bool = False, digest: str | None = None) -> str:
    """The video as a base64 data URL of its own bytes, checked as ``load_video_bytes`` does; with
    ``digest`` (the item's ``video_digest``), they must still be the bytes the golden-set version
    was loaded with. Raises ``ValidationError`` (column ``video``) otherwise."""
    mime, data = load_video_bytes(ref, workspace, allow_urls=allow_urls)
    if digest is not None and video_digest(data) != digest:
        problem = ("the video's bytes changed since this golden-set version was loaded (its sha256 no longer "
                   "matches); load the golden set again to score the new footage")
        raise ValidationError([RowProblem(short(ref), None, "video", ref, problem)],
                              headline=f"Video {short(ref)!r}: {problem}")
    return encode_data_url(mime, data)


def first_frame(data: bytes, size: int) -> bytes | None:
    """PNG bytes of the video's first frame, its longest side ``size`` pixels; None when the
    bytes are not a video this module accepts or the frame does not decode."""
    try:
        _, frame = _probe(data, max_seconds=None)
    except Rejected:
        return None
    image = frame.to_image()  # Pillow, which PyAV's frames convert to
    scale = size / max(image.size)
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _load(ref: str, workspace: Path, *, allow_urls: bool, allow_private_urls: bool | None,
          limits: VideoLimits) -> tuple[str, bytes]:
    data = read_reference(ref, workspace, what="video", allow_urls=allow_urls, allow_private_urls=allow_private_urls,
                          max_bytes=limits.max_bytes)
    mime, _ = _probe(data, max_seconds=limits.max_seconds)
    return mime, data


def _container(data: bytes) -> str | None:
    """``"mp4"`` or ``"webm"`` from the first bytes, or None."""
    if data[4:8] == b"ftyp":  # an ISO base media file (mp4, mov) starts with its ftyp box
        return "mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":  # EBML: WebM and Matroska
        return "webm"
    return None


def _probe(data: bytes, *, max_seconds: float | None, max_pixels: int = MAX_VIDEO_PIXELS):
    """Check ``data`` (see the module docstring); return ``(mime, first frame)``. ``max_seconds``
    None skips the length check."""
    if not data:
        raise Rejected("video is empty (0 bytes)")
    name = _container(data)
    if name is None:
        raise Rejected("not a video PyAV can read (mp4 or webm expected)")
    import av  # here, not at the top: only videos need PyAV (fast CLI)

    try:
        container = av.open(io.BytesIO(data), format=name)
    except Exception as ex:  # noqa: BLE001 - FFmpeg reports bad bytes as many error types
        raise Rejected(f"video is truncated or corrupt: its {name} container cannot be read ({_why(ex)})") from None
    with container:
        if not container.streams:
            raise Rejected(f"video is truncated or corrupt: its {name} container holds no streams")
        if not container.streams.video:
            raise Rejected("video has no video stream")
        stream = container.streams.video[0]
        _check_pixels(stream.codec_context.width, stream.codec_context.height, max_pixels)
        seconds = _stated_seconds(container, stream)
        if max_seconds is not None and seconds is not None:
            _check_seconds(seconds, max_seconds)
        # The decoder's own cap too, for a bitstream that disagrees with its header.
        stream.codec_context.options = {"max_pixels": str(max_pixels)}
        frame = _decode_first_frame(container, stream)
        if max_seconds is not None and seconds is None:
            _check_seconds(_scanned_seconds(container, stream), max_seconds)
    return _CONTAINERS[name], frame


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise Rejected(f"video is {width}x{height} pixels per frame, over the limit of {max_pixels:,} pixels")


def _check_seconds(seconds: float, max_seconds: float) -> None:
    if seconds > max_seconds:
        raise Rejected(f"video is {seconds:,.1f} s long, over the limit of {max_seconds:g} s")


def _stated_seconds(container, stream) -> float | None:
    """The length the header states: the video stream's, else the container's; None if neither."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _decode_first_frame(container, stream):
    try:
        for count, packet in enumerate(container.demux(stream), start=1):
            for frame in stream.decode(packet):
                return frame
            if count >= MAX_FIRST_FRAME_PACKETS:
                break
    except Exception as ex:  # noqa: BLE001 - decoders report bad bytes as many error types
        raise Rejected(f"video is truncated or corrupt: its first frame does not decode ({_why(ex)})") from None
    raise Rejected("video is truncated or corrupt: its first frame does not decode (no frame in its first "
                   f"{MAX_FIRST_FRAME_PACKETS} packets)")


def _scanned_seconds(container, stream) -> float:
    """The video's length to its last packet's timestamp (read, not decoded), for a header that
    does not state it. Continues where ``_decode_first_frame`` stopped."""
    if stream.time_base is None:
        raise Rejected("video's length cannot be told: its header states no time base")
    start = 0 if stream.start_time is None else stream.start_time
    end = None
    try:
        for count, packet in enumerate(container.demux(stream), start=1):
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is not None:
                stop = stamp if packet.duration is None else stamp + packet.duration
                end = stop if end is None else max(end, stop)
            if count >= MAX_SCAN_PACKETS:
                raise Rejected(f"video's length cannot be told: its header does not state it and it has over "
                               f"{MAX_SCAN_PACKETS:,} packets")
    except Rejected:
        raise
    except Exception as ex:  # noqa: BLE001
        raise Rejected(f"video is truncated or corrupt: its packets cannot be read ({_why(ex)})") from None
    if end is None:
        raise Rejected("video's length cannot be told: neither its header nor its packets state it")
    return float((end - start) * stream.time_base)


def _why(ex: Exception) -> str:
    """An FFmpeg error in a few words ("Invalid data found when processing input")."""
    return getattr(ex, "strerror", None) or str(ex) or type(ex).__name__
