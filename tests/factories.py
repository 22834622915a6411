"""Small builders for records used across tests."""

from __future__ import annotations

import io

import pandas as pd
from PIL import Image

from cope_eval.golden import golden_set_hash
from cope_eval.policies import version_id
from cope_eval.records import GoldenSet, PolicyVersion

POLICY_TEXT = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence.\n"


def make_policy(text: str = POLICY_TEXT, slug: str = "violence") -> PolicyVersion:
    return PolicyVersion(version_id(text), slug, text)


def make_golden(n: int = 20, *, name: str = "set", texts=None, images=None, categories=None) -> GoldenSet:
    texts = texts if texts is not None else [f"post number {i}" for i in range(n)]
    n = len(texts)
    items = pd.DataFrame({
        "id": [f"item-{i:05d}" for i in range(n)],
        "text": texts,
        "label": [i % 2 for i in range(n)],
        "image": images if images is not None else [None] * n,
        "category": categories if categories is not None else [("a", "b")[i % 2] for i in range(n)],
    })
    return GoldenSet(name, golden_set_hash(items), items)


def png_bytes(size=(8, 8), color="red", fmt="PNG") -> bytes:
    """A tiny valid image, PNG unless ``fmt`` says otherwise."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def video_bytes(*, fmt: str = "mp4", frames: int = 4, size=(32, 24), shade: int = 40, rate: int = 4) -> bytes:
    """A tiny valid clip made with PyAV: H.264 in mp4, or VP8 in webm; ``shade`` colours its frames
    (two clips with other shades differ in their bytes)."""
    import av
    import numpy as np

    buffer = io.BytesIO()
    codec = {"mp4": "libx264", "webm": "libvpx"}[fmt]
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            pixels = np.full((size[1], size[0], 3), (shade + 10 * i) % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
