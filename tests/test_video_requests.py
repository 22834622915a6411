"""Request bodies for every template and every kind of item (text, image, video, and text with
either), pinned byte for byte as ``JobBuilder`` encodes them, or the exact refusal.

The expected bytes are written out here by hand from ../shared/docs/protocol.md (the prompt
layout, the ``[image]`` / ``[video]`` placeholder, the OpenAI / vLLM content parts, Zentropi's
``/v1/label`` keys), never produced by the code under test.
"""

import itertools
import json

import pytest

from cope_eval.errors import ConfigError
from cope_eval.scoring import TEMPLATES, build_body, get_template
from cope_eval.scoring._templates import check_attachments

IMAGE = "data:image/png;base64,AA"
VIDEO = "data:video/mp4;base64,AAAA"
ITEMS = {
    "text": {"text": "C"},
    "image": {"text": "", "image_url": IMAGE},
    "text+image": {"text": "C", "image_url": IMAGE},
    "video": {"text": "", "video_url": VIDEO},
    "text+video": {"text": "C", "video_url": VIDEO},
}
"""build_body's item arguments, by kind of item (policy "P", model "m" throughout)."""

# The CoPE prompt of protocol.md for policy "P", as JSON string bytes, up to the content.
PROMPT = (rb'Examine the given POLICY and determine if the given CONTENT meets the criteria for ANY of the LABELS. '
          rb'Answer \"1\" if yes, and \"0\" if no.\n\n\nPOLICY\n======\n\nP\n\n\nCONTENT\n=======\n\n')
ONE_TOKEN = rb'"max_tokens":1,"temperature":0,"logprobs":true,"top_logprobs":20}'
CHAT_LABEL_SYSTEM = (rb'{"role":"system","content":"You are a content classifier. Apply the POLICY to the CONTENT. '
                     rb'Reply with exactly one character: \"1\" if the content meets the criteria for any label in '
                     rb'the policy, otherwise \"0\"."}')
IMAGE_PART = rb'{"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}'
VIDEO_PART = rb'{"type":"video_url","video_url":{"url":"data:video/mp4;base64,AAAA"}}'

EXPECTED = {
    ("cope-b", "text"):
        rb'{"model":"m","messages":[{"role":"user","content":"' + PROMPT + rb'C"}],' + ONE_TOKEN,
    ("cope-b", "image"):
        rb'{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"' + PROMPT
        + rb'[image]"},' + IMAGE_PART + rb']}],' + ONE_TOKEN,
    ("cope-b", "text+image"):
        rb'{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"' + PROMPT
        + rb'C\n\n[image]"},' + IMAGE_PART + rb']}],' + ONE_TOKEN,
    ("cope-b", "video"):
        rb'{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"' + PROMPT
        + rb'[video]"},' + VIDEO_PART + rb']}],' + ONE_TOKEN,
    ("cope-b", "text+video"):
        rb'{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"' + PROMPT
        + rb'C\n\n[video]"},' + VIDEO_PART + rb']}],' + ONE_TOKEN,
    ("cope-a", "text"):
        rb'{"model":"m","prompt":"INSTRUCTIONS\n============\n\n' + PROMPT
        + rb'C\n\n\nANSWER\n======\n\n","max_tokens":1,"temperature":0,"logprobs":20}',
    ("safeguard", "text"):
        rb'{"model":"m","messages":[{"role":"system","content":"P"},{"role":"user","content":"C"}],'
        rb'"max_tokens":4096,"temperature":0}',
    ("safeguard", "image"):
        rb'{"model":"m","messages":[{"role":"system","content":"P"},{"role":"user","content":'
        rb'[{"type":"text","text":"[image]"},' + IMAGE_PART + rb']}],"max_tokens":4096,"temperature":0}',
    ("safeguard", "text+image"):
        rb'{"model":"m","messages":[{"role":"system","content":"P"},{"role":"user","content":'
        rb'[{"type":"text","text":"C\n\n[image]"},' + IMAGE_PART + rb']}],"max_tokens":4096,"temperature":0}',
    ("chat-label", "text"):
        rb'{"model":"m","messages":[' + CHAT_LABEL_SYSTEM + rb',{"role":"user","content":"' + PROMPT + rb'C"}],'
        + ONE_TOKEN,
    ("chat-label", "image"):
        rb'{"model":"m","messages":[' + CHAT_LABEL_SYSTEM + rb',{"role":"user","content":[{"type":"text","text":"'
        + PROMPT + rb'[image]"},' + IMAGE_PART + rb']}],' + ONE_TOKEN,
    ("chat-label", "text+image"):
        rb'{"model":"m","messages":[' + CHAT_LABEL_SYSTEM + rb',{"role":"user","content":[{"type":"text","text":"'
        + PROMPT + rb'C\n\n[image]"},' + IMAGE_PART + rb']}],' + ONE_TOKEN,
    ("chat-label", "video"):
        rb'{"model":"m","messages":[' + CHAT_LABEL_SYSTEM + rb',{"role":"user","content":[{"type":"text","text":"'
        + PROMPT + rb'[video]"},' + VIDEO_PART + rb']}],' + ONE_TOKEN,
    ("chat-label", "text+video"):
        rb'{"model":"m","messages":[' + CHAT_LABEL_SYSTEM + rb',{"role":"user","content":[{"type":"text","text":"'
        + PROMPT + rb'C\n\n[video]"},' + VIDEO_PART + rb']}],' + ONE_TOKEN,
    ("zentropi", "text"): rb'{"model":"m","criteria_text":"P","content_text":"C"}',
    ("zentropi", "image"): rb'{"model":"m","criteria_text":"P","content_image":"data:image/png;base64,AA"}',
    ("zentropi", "text+image"):
        rb'{"model":"m","criteria_text":"P","content_text":"C","content_image":"data:image/png;base64,AA"}',
    ("zentropi", "video"): rb'{"model":"m","criteria_text":"P","content_video":"data:video/mp4;base64,AAAA"}',
    ("zentropi", "text+video"):
        rb'{"model":"m","criteria_text":"P","content_text":"C","content_video":"data:video/mp4;base64,AAAA"}',
}
REFUSED = {
    ("cope-a", "image"): "The cope-a template is text-only; this item has an image.",
    ("cope-a", "text+image"): "The cope-a template is text-only; this item has an image.",
    ("cope-a", "video"): "The cope-a template cannot take video (it reads text only); this item has a video.",
    ("cope-a", "text+video"): "The cope-a template cannot take video (it reads text only); this item has a video.",
    ("safeguard", "video"):
        "The safeguard template cannot take video (it reads text and images only); this item has a video.",
    ("safeguard", "text+video"):
        "The safeguard template cannot take video (it reads text and images only); this item has a video.",
}


def encoded(body: dict) -> bytes:
    """The bytes sent, as JobBuilder.body() encodes a body."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def test_every_template_and_kind_of_item_has_an_expectation():
    """A new template or kind of item cannot go unpinned."""
    cases = set(itertools.product(TEMPLATES, ITEMS))
    assert set(EXPECTED) | set(REFUSED) == cases and not set(EXPECTED) & set(REFUSED)


@pytest.mark.parametrize("name, item", sorted(EXPECTED))
def test_request_bytes(name, item):
    body = build_body(get_template(name), model="m", policy="P", **ITEMS[item])
    assert encoded(body) == EXPECTED[name, item]


@pytest.mark.parametrize("name, item", sorted(REFUSED))
def test_refused_before_sending(name, item):
    with pytest.raises(ConfigError) as caught:
        build_body(get_template(name), model="m", policy="P", **ITEMS[item])
    assert str(caught.value) == REFUSED[name, item]


@pytest.mark.parametrize("name", list(TEMPLATES))
@pytest.mark.parametrize("text", ["", "C"])
def test_an_image_and_a_video_together_are_refused_by_every_template(name, text):
    with pytest.raises(ConfigError) as caught:
        build_body(get_template(name), model="m", policy="P", text=text, image_url=IMAGE, video_url=VIDEO)
    assert str(caught.value) == "One attachment per item: this item has both an image and a video."


@pytest.mark.parametrize("name, kind", [(name, kind) for name, t in TEMPLATES.items() for kind in ("image", "video")])
def test_declared_modalities_decide_what_is_refused(name, kind):
    """``Template.modalities`` is what build_body goes by, for both kinds of attachment."""
    accepted = kind in get_template(name).modalities
    assert ((name, kind) in EXPECTED) is accepted and ((name, f"text+{kind}") in EXPECTED) is accepted


def test_video_modalities_as_the_issue_asks():
    takes_video = {name for name, t in TEMPLATES.items() if "video" in t.modalities}
    assert takes_video == {"cope-b", "chat-label", "zentropi"}


def test_constrained_video_request_bytes():
    body = build_body(get_template("cope-b"), model="m", policy="P", text="C", video_url=VIDEO,
                      answer_mode="constrained")
    assert encoded(body) == (
        rb'{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"' + PROMPT
        + rb'C\n\n[video]"},' + VIDEO_PART + rb']}],"max_tokens":1,"temperature":0,"logprobs":true,'
        rb'"top_logprobs":20,"structured_outputs":{"choice":["0","1"]}}'
    )


def test_non_ascii_text_goes_as_utf8_beside_a_video():
    body = build_body(get_template("zentropi"), model="m", policy="P", text="café", video_url=VIDEO)
    assert encoded(body) == (b'{"model":"m","criteria_text":"P","content_text":"caf\xc3\xa9",'
                             b'"content_video":"data:video/mp4;base64,AAAA"}')


def test_attachments_are_refused_before_any_is_read():
    """JobBuilder asks this before loading a (possibly 50 MB) video; build_body gives the same refusals."""
    check_attachments(get_template("cope-b"), image=False, video=True)
    with pytest.raises(ConfigError) as caught:
        check_attachments(get_template("safeguard"), image=False, video=True)
    assert str(caught.value) == REFUSED["safeguard", "video"]
    with pytest.raises(ConfigError, match="^One attachment per item"):
        check_attachments(get_template("zentropi"), image=True, video=True)
