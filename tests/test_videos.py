"""Video references: mp4 and WebM probed with PyAV, paths inside the workspace, data URLs,
opt-in public URLs, and the byte, length and frame-size caps. Clips are made here with PyAV."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import os
import struct
import threading
import zipfile
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from cope_eval.errors import ValidationError
from cope_eval.golden import (
    MAX_VIDEO_BYTES, MAX_VIDEO_SECONDS, VideoLimits, check_video, first_frame, load_video_bytes, video_digest,
    video_reference
)
from cope_eval.golden import _references as references
from cope_eval.golden._videos import _probe
from tests.factories import png_bytes

NOT_A_VIDEO = "not a video PyAV can read (mp4 or webm expected)"


def clip(fmt: str = "mp4", codec: str = "libx264", *, width: int = 32, height: int = 24, frames: int = 3,
         rate: Fraction | int = 10, options: dict | None = None) -> bytes:
    """A tiny clip, each frame a flat grey a little lighter than the last."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt, options=options or {}) as out:
        stream = out.add_stream(codec, rate=rate, options={"preset": "ultrafast"} if codec == "libx264" else {})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), 40 * i % 256, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def with_blank_mdat(data: bytes) -> bytes:
    """An mp4 whose header is intact but whose coded frames are all zero bytes."""
    data = bytearray(data)
    at = data.index(b"mdat")
    size = struct.unpack(">I", data[at - 4:at])[0]
    data[at + 4:at - 4 + size] = bytes(size - 8)
    return bytes(data)


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@pytest.fixture(scope="module")
def mp4() -> bytes:
    return clip()


@pytest.fixture(scope="module")
def webm() -> bytes:
    return clip("webm", "libvpx")


def rejected(ref, ws, **kwargs) -> str:
    """The problem ``load_video_bytes`` raises for ``ref``, checked to be what ``check_video`` says."""
    with pytest.raises(ValidationError) as info:
        load_video_bytes(ref, ws, **kwargs)
    problem = info.value.problems[0]
    assert problem.column == "video" and problem.value == ref
    assert check_video(ref, ws, **kwargs) == (problem.problem, None)
    return problem.problem


def test_limits_and_digest(mp4):
    assert (MAX_VIDEO_BYTES, MAX_VIDEO_SECONDS) == (50 * 1024 * 1024, 300.0)
    assert VideoLimits() == VideoLimits(max_bytes=MAX_VIDEO_BYTES, max_seconds=MAX_VIDEO_SECONDS)
    assert video_digest(mp4) == "sha256:" + hashlib.sha256(mp4).hexdigest()


def test_mp4_and_webm_from_the_workspace(tmp_path, mp4, webm):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "a.mp4").write_bytes(mp4)
    (tmp_path / "v" / "b.webm").write_bytes(webm)
    (tmp_path / "v" / "lies.webm").write_bytes(mp4)  # the extension says WebM, the bytes mp4
    assert load_video_bytes("v/a.mp4", tmp_path) == ("video/mp4", mp4)
    assert load_video_bytes("v/b.webm", tmp_path) == ("video/webm", webm)
    assert load_video_bytes("v/lies.webm", tmp_path)[0] == "video/mp4"
    assert check_video("v/a.mp4", tmp_path) == (None, video_digest(mp4))
    assert check_video("v/b.webm", tmp_path) == (None, video_digest(webm))
    assert load_video_bytes("v/a.mp4", tmp_path.resolve() / "v" / "..")[0] == "video/mp4"
    assert clip(codec="mpeg4")[4:8] == b"ftyp" and check_video(data_url("video/mp4", clip(codec="mpeg4")),
                                                               tmp_path)[0] is None


def test_the_mime_comes_from_the_bytes_not_the_data_url(tmp_path, mp4, webm):
    assert load_video_bytes(data_url("video/mp4", mp4), tmp_path) == ("video/mp4", mp4)
    assert load_video_bytes(data_url("image/png", mp4), tmp_path) == ("video/mp4", mp4)
    assert load_video_bytes(data_url("video/mp4", webm), tmp_path) == ("video/webm", webm)
    assert check_video(data_url("video/webm", webm), tmp_path) == (None, video_digest(webm))


def test_video_reference_never_shows_inline_bytes(mp4):
    ref = data_url("video/mp4", mp4)
    assert video_reference(ref) == f"data:video/mp4;base64,… (inline video, {len(ref):,} characters)"
    assert video_reference("golden_sets/videos/a.mp4") == "golden_sets/videos/a.mp4"
    assert video_reference("https://example.com/a.mp4") == "https://example.com/a.mp4"


@pytest.mark.parametrize("ref, problem", [
    ("../outside.mp4", "video path points outside the workspace"),
    ("v/../../outside.mp4", "video path points outside the workspace"),
    ("/etc/passwd", "absolute video paths are not allowed; give a path relative to the workspace"),
    ("\\\\server\\share\\a.mp4", "absolute video paths are not allowed; give a path relative to the workspace"),
    ("v/a\x00.mp4", "video path contains a NUL character"),
    ("file:///etc/passwd", "only data: and http(s):// video URLs are supported, or a path inside the workspace"),
    ("v/missing.mp4", "video file not found in the workspace"),
    ("v", "video path is not a regular file"),
    ("   ", "empty video reference"),
    ("data:video/mp4,AAAA", "data URL must be base64-encoded (data:video/mp4;base64,...)"),
    ("data:video/mp4;base64,@@", "data URL holds invalid base64"),
    ("data:video/mp4;base64,", "video is empty (0 bytes)"),
])
def test_bad_references(tmp_path, ref, problem):
    (tmp_path / "v").mkdir()
    assert rejected(ref, tmp_path) == problem


def test_a_workspace_file_outside_by_its_absolute_path(tmp_path, mp4):
    (tmp_path / "a.mp4").write_bytes(mp4)
    absolute = str(tmp_path / "a.mp4")
    assert rejected(absolute, tmp_path) == "absolute video paths are not allowed; give a path relative to the workspace"


def test_symlink_escaping_the_workspace_is_rejected(tmp_path, mp4):
    ws, outside = tmp_path / "ws", tmp_path / "secret"
    ws.mkdir()
    outside.mkdir()
    (outside / "a.mp4").write_bytes(mp4)
    os.symlink(outside / "a.mp4", ws / "link.mp4")
    os.symlink(outside, ws / "dir")
    assert rejected("link.mp4", ws) == "video path points outside the workspace"
    assert rejected("dir/a.mp4", ws) == "video path points outside the workspace"
    os.symlink(ws / "real.mp4", ws / "inside.mp4")  # a symlink that stays inside is fine
    (ws / "real.mp4").write_bytes(mp4)
    assert load_video_bytes("inside.mp4", ws) == ("video/mp4", mp4)


def test_files_that_are_not_videos(tmp_path, mp4):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.mp4", mp4)
    (tmp_path / "zip.mp4").write_bytes(archive.getvalue())
    (tmp_path / "png.mp4").write_bytes(png_bytes())  # FFmpeg's own probing would take it as a video
    (tmp_path / "text.webm").write_bytes(b"hello, this is not a video at all")
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert rejected("zip.mp4", tmp_path) == NOT_A_VIDEO
    assert rejected("png.mp4", tmp_path) == NOT_A_VIDEO
    assert rejected("text.webm", tmp_path) == NOT_A_VIDEO
    assert rejected("empty.mp4", tmp_path) == "video is empty (0 bytes)"


def test_truncated_and_corrupt_videos(tmp_path, mp4, webm):
    # PyAV writes the mp4 index (moov) at the end: the first half has none, and with only the
    # start of the index there are no streams.
    assert rejected(data_url("video/mp4", mp4[: len(mp4) // 2]), tmp_path) == (
        "video is truncated or corrupt: its mp4 container cannot be read (Invalid data found when processing input)")
    index_cut = mp4[: mp4.index(b"moov") + 4]
    assert rejected(data_url("video/mp4", index_cut), tmp_path) == (
        "video is truncated or corrupt: its mp4 container holds no streams")
    problem = rejected(data_url("video/webm", webm[: len(webm) // 2]), tmp_path)
    assert problem.startswith("video is truncated or corrupt: its webm container cannot be read ("), problem
    # Intact header, frames all zero bytes: the first frame must decode.
    problem = rejected(data_url("video/mp4", with_blank_mdat(mp4)), tmp_path)
    assert problem == ("video is truncated or corrupt: its first frame does not decode "
                       "(Invalid data found when processing input)"), problem


def test_audio_only_has_no_video_stream(tmp_path):
    buf = io.BytesIO()
    with av.open(buf, "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 960), np.float32), format="flt", layout="mono")
        frame.sample_rate = 48000
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    assert rejected(data_url("audio/webm", buf.getvalue()), tmp_path) == "video has no video stream"


def test_frame_size_is_refused_from_the_header_before_decoding(tmp_path):
    # 5000x4000 (20 MP) in its header, and frames of zero bytes: decoding it would fail, so
    # the pixel message proves the header was read first.
    huge = with_blank_mdat(clip(width=5000, height=4000, frames=1))
    assert rejected(data_url("video/mp4", huge), tmp_path) == (
        "video is 5000x4000 pixels per frame, over the limit of 16,777,216 pixels")
    assert first_frame(huge, 64) is None
    # The same cap at a small size, on a clip that decodes.
    with pytest.raises(references.Rejected, match=r"^video is 32x24 pixels per frame, over the limit of 500 pixels$"):
        _probe(clip(), max_seconds=None, max_pixels=500)


def test_length_cap(tmp_path, mp4):
    slow = clip(frames=2, rate=Fraction(1, 400))  # two frames, 400 s each
    assert rejected(data_url("video/mp4", slow), tmp_path) == "video is 800.0 s long, over the limit of 300 s"
    assert rejected(data_url("video/mp4", mp4), tmp_path, limits=VideoLimits(max_seconds=0.25)) == (
        "video is 0.3 s long, over the limit of 0.25 s")
    assert check_video(data_url("video/mp4", mp4), tmp_path, limits=VideoLimits(max_seconds=0.3))[0] is None


def test_length_from_the_packets_when_the_header_does_not_state_it(tmp_path):
    live = clip("webm", "libvpx", frames=30, options={"live": "1"})  # a live WebM states no duration
    with av.open(io.BytesIO(live)) as container:
        assert container.duration is None and container.streams.video[0].duration is None
    assert check_video(data_url("video/webm", live), tmp_path) == (None, video_digest(live))
    assert rejected(data_url("video/webm", live), tmp_path, limits=VideoLimits(max_seconds=1.5)) == (
        "video is 3.0 s long, over the limit of 1.5 s")


def test_size_cap_is_checked_before_reading(tmp_path, mp4, monkeypatch):
    (tmp_path / "a.mp4").write_bytes(mp4)
    small = VideoLimits(max_bytes=100)
    too_big = f"video is {len(mp4):,} bytes, over the limit of 100 bytes"

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")

    with monkeypatch.context() as patch:
        patch.setattr(references, "open", no_reading, raising=False)
        assert rejected("a.mp4", tmp_path, limits=small) == too_big  # from the file's size alone
    problem = rejected(data_url("video/mp4", mp4), tmp_path, limits=small)
    assert problem.startswith("video is ") and problem.endswith(" bytes, over the limit of 100 bytes"), problem
    assert check_video("a.mp4", tmp_path, limits=VideoLimits(max_bytes=len(mp4))) == (None, video_digest(mp4))


def test_first_frame_is_a_png_of_the_asked_size(mp4, webm):
    for data in (mp4, webm):
        png = first_frame(data, 16)
        with Image.open(io.BytesIO(png)) as image:
            assert (image.format, image.size) == ("PNG", (16, 12))
    assert first_frame(png_bytes(), 16) is None
    assert first_frame(with_blank_mdat(mp4), 16) is None


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(mp4):
    handler = type("Handler", (_Handler,), {"body": mp4, "hits": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.hits
    httpd.shutdown()
    httpd.server_close()


def test_urls_are_fetched_only_when_allowed_and_only_from_public_addresses(tmp_path, server, mp4, monkeypatch):
    base, hits = server
    url = f"{base}/a.mp4"
    monkeypatch.delenv("COPE_ALLOW_PRIVATE_URLS", raising=False)
    assert check_video(url, tmp_path) == (None, None)  # kept as a reference; nothing fetched
    with pytest.raises(ValidationError, match=r"^Video '.*': video URLs are only fetched when fetching video URLs "
                                              r"is turned on$"):
        load_video_bytes(url, tmp_path)
    problem = rejected(url, tmp_path, allow_urls=True)
    assert problem == ("video URL points to a non-public address (127.0.0.1: loopback, private, link-local or "
                       "cloud-metadata); not fetched. Set COPE_ALLOW_PRIVATE_URLS=1 to allow it")
    assert hits == [], "nothing was sent"
    local = {"allow_urls": True, "allow_private_urls": True}
    assert load_video_bytes(url, tmp_path, **local) == ("video/mp4", mp4)
    assert check_video(url, tmp_path, **local) == (None, video_digest(mp4))
    assert rejected(url, tmp_path, limits=VideoLimits(max_bytes=100), **local) == (
        "video is 101 bytes, over the limit of 100 bytes")  # read(max_bytes + 1): no more is read
