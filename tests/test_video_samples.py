"""The sample video set (golden_sets/videos/, built by scripts/build_samples.py) and video
thumbnails: small deterministic clips that decode, and a first-frame PNG for each video row."""

from __future__ import annotations

import base64
import importlib.util
import io
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from cope_eval.golden import video_thumbnail, with_thumbnails

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "golden_sets" / "videos"
CSV = SAMPLES / "harassment-videos.csv"
CLIPS = sorted((SAMPLES / "clips").iterdir())


def _build_samples():
    """scripts/build_samples.py as a module (it imports the samples package from its own folder)."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        spec = importlib.util.spec_from_file_location("build_samples", REPO / "scripts" / "build_samples.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "scripts"))
    return module


def _decoded(data_url: str) -> Image.Image:
    assert data_url.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "golden_sets" / "videos").rglob("*"))
            if p.is_file()}


# (load_golden_set on this CSV is checked by the main session once the item model has a video column.)
def test_sample_csv_has_the_video_columns_and_both_labels():
    frame = pd.read_csv(CSV, keep_default_na=False)
    assert frame.columns.tolist() == ["id", "text", "video", "label", "category", "description"]
    assert frame["id"].is_unique and set(frame["label"]) == {0, 1} and 6 <= len(frame) <= 8
    assert (frame["text"] != "").sum() == 1  # one item has text as well as its video
    assert {Path(v).suffix for v in frame["video"]} == {".mp4", ".webm"}
    assert sorted(REPO / v for v in frame["video"]) == CLIPS  # workspace-relative, every clip used


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.name)
def test_every_clip_is_small_and_decodes_from_its_first_frame(clip):
    import av

    assert clip.stat().st_size < 20 * 1024
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        frame = next(container.decode(video=0))
        frames = 1 + sum(1 for _ in container.decode(video=0))
    expected = ("matroska,webm", "vp8") if clip.suffix == ".webm" else ("mov,mp4,m4a,3gp,3g2,mj2", "h264")
    assert (container.format.name, codec) == expected
    assert (frame.width, frame.height, frame.format.name) == (160, 120, "yuv420p") and frames == 12


def test_build_is_deterministic_and_matches_the_committed_files(tmp_path):
    build = _build_samples()
    first, second = tmp_path / "a", tmp_path / "b"
    build.build_videos(first)
    build.build_videos(second)
    assert _files(first) == _files(second) == _files(REPO)


def test_a_video_row_gets_a_small_png_of_its_first_frame():
    image = _decoded(video_thumbnail("golden_sets/videos/clips/caption-01.mp4", REPO))
    assert image.format == "PNG" and image.size == (96, 72)  # 160x120 scaled to 96 on the longest side
    image = image.convert("RGB")
    assert all(abs(a - b) <= 8 for a, b in zip(image.getpixel((2, 40)), (70, 90, 140)))  # the clip's background


def test_with_thumbnails_takes_the_video_when_a_row_has_no_image(tmp_path):
    Image.new("RGB", (40, 20), "red").save(tmp_path / "a.png")
    clip = CLIPS[0]
    (tmp_path / clip.name).write_bytes(clip.read_bytes())
    frame = pd.DataFrame({"id": ["img", "vid", "none", "vid-again"], "image": ["a.png", None, None, float("nan")],
                          "video": [None, clip.name, None, clip.name]})
    shots = with_thumbnails(frame, tmp_path)["thumbnail"].tolist()
    assert _decoded(shots[0]).size == (40, 20) and shots[2] is None
    assert _decoded(shots[1]).size == (96, 72) and shots[3] == shots[1]
    assert with_thumbnails(frame.drop(columns="video"), tmp_path)["thumbnail"].tolist()[1:] == [None] * 3


@pytest.mark.parametrize("ref", ["https://example.com/v.mp4", "http://127.0.0.1:9/v.webm", "HTTPS://example.com/v"])
def test_a_video_url_is_never_loaded_for_a_preview(tmp_path, monkeypatch, ref):
    from cope_eval.golden import _videos

    def refuse(*args, **kwargs):
        raise AssertionError(f"a preview loaded {args[0]!r}")

    monkeypatch.setattr(_videos, "load_video_bytes", refuse)
    assert video_thumbnail(ref, tmp_path) is None
    assert with_thumbnails(pd.DataFrame({"video": [ref]}), tmp_path)["thumbnail"].tolist() == [None]


@pytest.mark.parametrize("ref", [None, "", float("nan"), "missing.mp4", "../outside.mp4", "broken.mp4"])
def test_no_thumbnail_for_missing_or_unusable_videos(tmp_path, ref):
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom not really a video")
    assert video_thumbnail(ref, tmp_path) is None
