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
