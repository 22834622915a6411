"""Image references: paths inside the workspace, data URLs, opt-in URLs, size and pixel caps."""

from __future__ import annotations

import base64
import http.server
import io
import os
import threading

import pytest
from PIL import Image

from cope_eval.errors import ValidationError
from cope_eval.golden import encode_data_url, image_kind, load_image_bytes, to_data_url
from cope_eval.golden._images import MAX_IMAGE_BYTES, check_image
from tests.factories import png_bytes


def rejected(ref, ws, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        load_image_bytes(ref, ws, **kwargs)
    problem = info.value.problems[0]
    assert problem.column == "image"
    assert check_image(ref, ws, **kwargs) == problem.problem
    return problem.problem


def test_kinds():
    assert image_kind("data:image/png;base64,AA==") == "data"
    assert image_kind("HTTPS://example.com/a.png") == "url"
    assert image_kind("http://example.com/a.png") == "url"
    assert image_kind("golden_sets/a.png") == "path"


def test_workspace_path_loads_with_mime_from_content(ws):
    mime, data = load_image_bytes("img/ok.png", ws)
    assert (mime, data) == ("image/png", png_bytes())
    (ws / "img" / "lies.jpg").write_bytes(png_bytes())  # extension says JPEG, bytes say PNG
    assert load_image_bytes("img/lies.jpg", ws)[0] == "image/png"
    (ws / "img" / "real.jpg").write_bytes(png_bytes(fmt="JPEG"))
    assert load_image_bytes("img/real.jpg", ws)[0] == "image/jpeg"
    assert check_image("img/ok.png", ws) is None


def test_data_url_round_trip(ws):
    url = to_data_url("img/ok.png", ws)
    assert url == "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    assert load_image_bytes(url, ws) == ("image/png", png_bytes())
    assert encode_data_url("image/gif", b"GIF89a") == "data:image/gif;base64,R0lGODlh"
    # A data URL that claims JPEG but holds PNG is re-labeled from its content.
    claimed = "data:image/jpeg;base64," + base64.b64encode(png_bytes()).decode()
    assert to_data_url(claimed, ws).startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    "ref, problem",
    [
        ("../outside.png", "image path points outside the workspace"),
        ("img/../../outside.png", "image path points outside the workspace"),
        ("/etc/passwd", "absolute image paths are not allowed; give a path relative to the workspace"),
        ("\\\\server\\share\\a.png", "absolute image paths are not allowed; give a path relative to the workspace"),
        ("img/missing.png", "image file not found in the workspace"),
        ("img", "image path is not a regular file"),
        ("img/a\x00.png", "image path contains a NUL character"),
        ("file:///etc/passwd", "only data: and http(s):// image URLs are supported, or a path inside the workspace"),
        ("", "empty image reference"),
        ("data:image/png,rawbytes", "data URL must be base64-encoded (data:image/png;base64,...)"),
        ("data:image/png;base64", "data URL has no ',' before its data"),
        ("data:image/png;base64,@@@not base64@@@", "data URL holds invalid base64"),
        ("data:image/png;base64,", "image is empty (0 bytes)"),
        ("data:text/plain;base64," + base64.b64encode(b"hello there").decode(),
         "not an image Pillow can read (PNG, JPEG, GIF or WebP expected)"),
    ],
)
def test_bad_references(ws, tmp_path, ref, problem):
    (tmp_path / "outside.png").write_bytes(png_bytes())
    assert rejected(ref, ws) == problem


def test_symlink_escaping_the_workspace_is_rejected(ws, tmp_path):
    (tmp_path / "secret.png").write_bytes(png_bytes())
    os.symlink(tmp_path / "secret.png", ws / "img" / "link.png")
    assert rejected("img/link.png", ws) == "image path points outside the workspace"
    os.symlink(ws / "img" / "ok.png", ws / "img" / "inside.png")
    assert load_image_bytes("img/inside.png", ws)[0] == "image/png"


def test_corrupt_and_truncated_images(ws):
    good = png_bytes((64, 64), "blue")
    (ws / "img" / "truncated.png").write_bytes(good[: len(good) // 2])
    assert rejected("img/truncated.png", ws).startswith("corrupt image (")
    (ws / "img" / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    assert rejected("img/garbage.png", ws).startswith(("corrupt image (", "not an image Pillow can read"))
    (ws / "img" / "text.png").write_bytes(b"just text")
    assert rejected("img/text.png", ws) == "not an image Pillow can read (PNG, JPEG, GIF or WebP expected)"


def test_size_cap(ws):
    assert rejected("img/ok.png", ws, max_bytes=10) == f"image is {len(png_bytes()):,} bytes, over the limit of 10 bytes"
    url = to_data_url("img/ok.png", ws)
    assert rejected(url, ws, max_bytes=10).endswith("over the limit of 10 bytes")
    assert MAX_IMAGE_BYTES == 10 * 1024 * 1024


def test_pixel_cap_and_decompression_bomb(ws):
    assert rejected("img/ok.png", ws, max_pixels=40) == "image is 8x8 pixels, over the limit of 40 pixels"
    # A tiny file that would decode to 50 megapixels: refused before decoding.
    buf = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(buf, format="PNG")
    assert len(buf.getvalue()) < 100_000
    (ws / "img" / "bomb.png").write_bytes(buf.getvalue())
    assert rejected("img/bomb.png", ws) == "image is 10000x5000 pixels, over the limit of 40,000,000 pixels"


def test_unreadable_file(ws, monkeypatch):
    from cope_eval.golden import _references as references

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(references, "open", denied, raising=False)
    assert rejected("img/ok.png", ws) == "image file is unreadable (Permission denied)"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        if self.path == "/ok.png":
            body = png_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_urls_are_fetched_only_when_allowed(ws, server):
    url = f"{server}/ok.png"
    assert check_image(url, ws) is None  # a valid reference to keep; nothing is fetched
    with pytest.raises(ValidationError, match=r"only fetched when fetching image URLs is turned on$"):
        load_image_bytes(url, ws)  # but its bytes cannot be had without permission
    # The test server is on 127.0.0.1, a loopback address: fetched only with the private opt-in
    # (tests/test_hostile_inputs.py shows it refused without).
    local = {"allow_urls": True, "allow_private_urls": True}
    assert load_image_bytes(url, ws, **local) == ("image/png", png_bytes())
    assert to_data_url(url, ws, **local).startswith("data:image/png;base64,")
    assert rejected(f"{server}/missing.png", ws, **local) == "image URL answered HTTP 404"
    assert rejected(url, ws, max_bytes=10, **local).endswith("over the limit of 10 bytes")


def test_unreachable_url(ws):
    problem = rejected("http://127.0.0.1:1/x.png", ws, allow_urls=True, allow_private_urls=True)
    assert problem.startswith("image URL could not be fetched (")


def test_validation_error_message_names_the_reference(ws):
    with pytest.raises(ValidationError, match=r"^Image 'img/missing.png': image file not found in the workspace$"):
        load_image_bytes("img/missing.png", ws)
