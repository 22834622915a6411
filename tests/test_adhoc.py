"""One-off requests: check one item (text and/or an uploaded image), count a policy's tokens."""

import base64
import io
import json

import pytest
from PIL import Image

from cope_eval.app import check_item, policy_tokens
from cope_eval.errors import ConfigError, ValidationError
from cope_eval.records import Endpoint
from tests.factories import video_bytes
from tests.stub_server import Reply, StubServer, instant


def test_check_item_sends_text_and_a_checked_image(workspace):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, format="JPEG")
    with StubServer() as server:
        endpoint = Endpoint(server.base_url, "stub")
        result = check_item(endpoint, policy="P", text="hi", upload=buffer.getvalue(), upload_name="b.jpg",
                            workspace_root=workspace.root)
        with pytest.raises(ConfigError, match="Give some text"):
            check_item(endpoint, policy="P", text="  ", workspace_root=workspace.root)
        with pytest.raises(ValidationError):
            check_item(endpoint, policy="P", upload=b"not an image", upload_name="x.png", workspace_root=workspace.root)
    assert 0 < result.answer.score <= 1 and result.has_probability
    body = json.loads(server.requests[-1][2])
    image_part = body["messages"][0]["content"][1]
    assert image_part["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_check_item_sends_an_uploaded_video_checked_by_its_bytes(workspace):
    clip = video_bytes(fmt="webm")
    with StubServer() as server:
        endpoint = Endpoint(server.base_url, "stub")
        check_item(endpoint, policy="P", upload=clip, upload_name="clip.WEBM", workspace_root=workspace.root)
        with pytest.raises(ValidationError, match="not a video"):
            check_item(endpoint, policy="P", upload=b"PK\x03\x04zip", upload_name="x.mp4",
                       workspace_root=workspace.root)
    text_part, video_part = json.loads(server.requests[-1][2])["messages"][0]["content"]
    assert text_part["text"].endswith("CONTENT\n=======\n\n[video]")
    assert video_part == {"type": "video_url",
                          "video_url": {"url": "data:video/webm;base64," + base64.b64encode(clip).decode()}}


def test_policy_tokens_counts_with_tokenize_and_knows_the_context():
    def tokenizing(path, body):
        if path == "/tokenize":
            return Reply(body=json.dumps({"count": 321}).encode())
        return instant(path, body)

    with StubServer(tokenizing) as server:
        count = policy_tokens(Endpoint(server.base_url, "stub"), "# Policy")
    assert (count.tokens, count.max_model_len) == (321, 4096) and count.share == pytest.approx(321 / 4096)
    tokenize = [json.loads(b) for p, _, b in server.requests if p == "/tokenize"]
    assert "# Policy" in tokenize[0]["messages"][0]["content"]


def test_policy_tokens_without_tokenize():
    with StubServer(lambda path, body: Reply(404) if path == "/tokenize" else instant(path, body)) as server:
        count = policy_tokens(Endpoint(server.base_url, "stub"), "# Policy")
    assert count.tokens is None and count.share is None and count.max_model_len == 4096


@pytest.mark.model
def test_policy_tokens_on_the_real_vllm(model_server):
    count = policy_tokens(Endpoint(model_server.base_url, model_server.model), "# Criteria\n- Threats.\n")
    assert 20 < count.tokens < 400 and count.max_model_len >= 1024
