"""Thumbnails: only images in hand, re-encoded as small PNGs; URLs never fetched."""

import base64
import io

import pandas as pd
import pytest
from PIL import Image

from cope_eval.errors import ValidationError
from cope_eval.golden import encode_data_url, uploaded_image_data_url, with_thumbnails
from cope_eval.golden._thumbnails import thumbnail


def _png(size=(300, 150), color="red", fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def _decoded(data_url: str) -> Image.Image:
    assert data_url.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))


def test_workspace_path_becomes_a_small_png(workspace):
    (workspace.root / "img.jpg").write_bytes(_png(fmt="JPEG"))
    image = _decoded(thumbnail("img.jpg", workspace.root, size=64))
    assert image.format == "PNG" and max(image.size) == 64 and image.size == (64, 32)


def test_data_url_is_re_encoded(workspace):
    image = _decoded(thumbnail(encode_data_url("image/gif", _png((10, 10))), workspace.root))
    assert image.size == (10, 10)


@pytest.mark.parametrize("ref", [None, "", float("nan"), "https://example.com/x.png", "http://127.0.0.1:9/x.png",
                                 "missing.png", "../outside.png", "data:image/svg+xml;base64,PHN2Zy8+"])
def test_no_thumbnail_for_urls_missing_or_unusable_images(workspace, ref):
    assert thumbnail(ref, workspace.root) is None


def test_with_thumbnails_adds_a_first_column_and_keeps_the_index(workspace):
    (workspace.root / "a.png").write_bytes(_png())
    frame = pd.DataFrame({"id": ["x", "y", "z"], "image": ["a.png", None, "a.png"]}, index=[5, 6, 7])
    out = with_thumbnails(frame, workspace.root)
    assert out.columns.tolist() == ["thumbnail", "id", "image"] and out.index.tolist() == [5, 6, 7]
    assert out["thumbnail"].iloc[0] == out["thumbnail"].iloc[2] and out["thumbnail"].iloc[1] is None
    assert "image" not in frame.columns or "thumbnail" not in frame.columns  # input untouched


def test_uploaded_image_type_comes_from_its_bytes(workspace):
    assert uploaded_image_data_url(_png(fmt="JPEG"), workspace.root).startswith("data:image/jpeg;base64,")
    with pytest.raises(ValidationError, match="not an image"):
        uploaded_image_data_url(b"<svg onload=alert(1)>", workspace.root)
