"""Prompt templates: the exact bytes each model family expects, and the request body.

One builder serves the live client, single checks and batch-file export, so all three send
byte-identical bodies. Facts and byte layouts: ../shared/docs/protocol.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

INSTRUCTION = (
    'Examine the given POLICY and determine if the given CONTENT meets the criteria for ANY of '
    'the LABELS. Answer "1" if yes, and "0" if no.'
)
IMAGE_PLACEHOLDER = "[image]"
VIDEO_PLACEHOLDER = "[video]"
TOP_LOGPROBS = 20
SAFEGUARD_MAX_TOKENS = 4096
CHAT_LABEL_SYSTEM = (
    "You are a content classifier. Apply the POLICY to the CONTENT. Reply with exactly one "
    'character: "1" if the content meets the criteria for any label in the policy, otherwise "0".'
)
ANSWER_MODES = ("logprobs", "constrained")
# vLLM >= 0.12 spelling; the old `guided_choice` is silently ignored there, so never sent.
CONSTRAINT = {"structured_outputs": {"choice": ["0", "1"]}}


@dataclass(frozen=True)
class Template:
    """How one model family is prompted, how its answer is read, and what its server can do.

    Code elsewhere asks a template what it can do (``template.counts_tokens``), never which
    one it is: a new backend is one entry in ``TEMPLATES``.
    """

    name: str
    """Identifier used on the command line and stored with each run."""
    endpoint: str
    """Path under the base URL: ``/chat/completions``, ``/completions`` or ``/label``."""
    has_probability: bool
    """True when the answer carries P("1"); False for hard-label-only templates."""
    description: str
    """One line for menus."""
    protocol: str = "openai"
    """The request and reply shapes: ``openai``, an OpenAI-compatible completion whose reply has
    ``choices`` (with logprobs when asked); ``label``, Zentropi's ``/v1/label``, which takes the
    policy as ``criteria_text`` and answers a label with the confidence in it."""
    modalities: frozenset[str] = frozenset({"text", "image"})
    """What an item may carry: ``text``, ``image``, ``video``. An item with an attachment the
    template cannot take (an image for a text-only template, a video for one without ``video``)
    is refused before anything is sent (an error for that item), never sent without it."""
    answer_modes: tuple[str, ...] = ANSWER_MODES
    """The answer modes it takes; another is refused for every item."""
    logprobs_optional: bool = False
    """True when a reply without logprobs is read as a hard label (generic LLMs may offer none);
    False when such a reply is an error (the request asked for them)."""
    answer_tokens: int = 1
    """Context tokens the answer needs, for the budget check: 1 for a one-token answer, 0 when
    the server budgets a long reply itself (a reasoning model's ``max_tokens``)."""
    max_concurrency: int | None = None
    """Most requests in flight at once, whatever concurrency is asked; None: no cap."""
    key_env_var: str | None = None
    """The environment variable holding the service's API key when the template names one
    service (``ZENTROPI_API_KEY``); None: the key of whichever server is chosen."""
    default_base_url: str | None = None
    """The server used when none is given (a hosted service); None: the user must name one."""
    counts_tokens: bool = True
    """True when the server can count a prompt's tokens (vLLM's ``/tokenize``); False: none is
    ever sent, and prompt lengths are not checked before a run."""
    describes_model: bool = True
    """True when the server may say which model it serves (``/v1/models``: context length,
    checkpoint); False: it is never asked, and the run records no checkpoint."""


ZENTROPI_BASE_URL = "https://api.zentropi.ai/v1"
WITH_VIDEO = frozenset({"text", "image", "video"})
"""What a multimodal CoPE-B (CoPE-B-A4B-MM), a generic chat model and Zentropi's service take;
a server whose model has no video input answers such a request with HTTP 400."""
TEMPLATES = {
    t.name: t
    for t in (
        Template("cope-b", "/chat/completions", True, "CoPE-B (default): one user turn, P(\"1\") from logprobs",
                 modalities=WITH_VIDEO),
        Template("cope-a", "/completions", True, "CoPE-A-9B (legacy): raw prompt with INSTRUCTIONS/ANSWER",
                 modalities=frozenset({"text"})),
        Template("safeguard", "/chat/completions", False,
                 "gpt-oss-safeguard: policy as system message, hard label", answer_tokens=0),
        Template("chat-label", "/chat/completions", True,
                 "Generic chat LLM asked for 0/1; P(\"1\") when logprobs are offered",
                 logprobs_optional=True, modalities=WITH_VIDEO),
        Template("zentropi", "/label", True,
                 "Zentropi's hosted API: P(\"1\") derived from its label and confidence",
                 protocol="label", answer_modes=("logprobs",),  # the service always answers 0 or 1
                 modalities=WITH_VIDEO,  # content_video
                 # Zentropi's own client never runs more than 8 at once; the service fails fast under load.
                 max_concurrency=8, key_env_var="ZENTROPI_API_KEY", default_base_url=ZENTROPI_BASE_URL,
                 counts_tokens=False, describes_model=False),
    )
}
DEFAULT_TEMPLATE = "cope-b"


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ConfigError(f"Unknown template {name!r}; choose one of {', '.join(TEMPLATES)}.") from None


def cope_prompt(policy: str, content: str) -> str:
    """The CoPE-B prompt: two blank lines before each section header, one after its rule."""
    return (
        INSTRUCTION + "\n\n\nPOLICY\n======\n\n" + policy + "\n\n\nCONTENT\n=======\n\n" + content
    )


def cope_a_prompt(policy: str, content: str) -> str:
    """The CoPE-A prompt: the CoPE-B layout between an INSTRUCTIONS header and ANSWER footer."""
    return "INSTRUCTIONS\n============\n\n" + cope_prompt(policy, content) + "\n\n\nANSWER\n======\n\n"


def build_body(
    template: Template, *, model: str, policy: str, text: str, image_url: str | None = None,
    video_url: str | None = None, answer_mode: str = "logprobs",
) -> dict:
    """The JSON body for one item. ``image_url`` and ``video_url`` are data URLs (or http URLs)
    or None; an item carries one of them at most."""
    if answer_mode not in ANSWER_MODES:
        raise ConfigError(f"Unknown answer mode {answer_mode!r}; choose one of {', '.join(ANSWER_MODES)}.")
    if answer_mode not in template.answer_modes:
        raise ConfigError(f"The {template.name} template has no {answer_mode} mode; "
                          f"it takes {', '.join(template.answer_modes)}.")
    check_attachments(template, image=bool(image_url), video=bool(video_url))
    if template.protocol == "label":
        return _label_body(model, policy, text, image_url, video_url)
    attachment = _attachment(image_url, video_url)
    content = _content_text(text, attachment)
    if template.name == "cope-a":
        body = {"model": model, "prompt": cope_a_prompt(policy, content), **_one_token(), "logprobs": TOP_LOGPROBS}
    elif template.name == "cope-b":
        message = {"role": "user", "content": _user_content(cope_prompt(policy, content), attachment)}
        body = {"model": model, "messages": [message], **_one_token(), **_chat_logprobs()}
    elif template.name == "chat-label":
        messages = [
            {"role": "system", "content": CHAT_LABEL_SYSTEM},
            {"role": "user", "content": _user_content(cope_prompt(policy, content), attachment)},
        ]
        body = {"model": model, "messages": messages, **_one_token(), **_chat_logprobs()}
    else:  # safeguard: a reasoning model needs room to think before its final answer
        messages = [
            {"role": "system", "content": policy},
            {"role": "user", "content": _user_content(content, attachment)},
        ]
        body = {"model": model, "messages": messages, "max_tokens": SAFEGUARD_MAX_TOKENS, "temperature": 0}
    if answer_mode == "constrained":
        body.update(CONSTRAINT)
    return body


def check_attachments(template: Template, *, image: bool, video: bool) -> None:
    """Refuse an item whose attachments the template cannot take, before anything is read or sent."""
    if image and video:
        raise ConfigError("One attachment per item: this item has both an image and a video.")
    if image and "image" not in template.modalities:
        raise ConfigError(f"The {template.name} template is text-only; this item has an image.")
    if video and "video" not in template.modalities:
        raise ConfigError(f"The {template.name} template cannot take video ({_reads(template)}); "
                          "this item has a video.")


def _label_body(model: str, policy: str, text: str, image_url: str | None, video_url: str | None) -> dict:
    """Zentropi's /v1/label: the policy as criteria_text, content as text and/or a data URL."""
    body = {"model": model, "criteria_text": policy}
    if text:
        body["content_text"] = text
    if image_url:
        body["content_image"] = image_url
    if video_url:
        body["content_video"] = video_url
    return body


_ATTACHMENTS = {"image": ("image_url", IMAGE_PLACEHOLDER), "video": ("video_url", VIDEO_PLACEHOLDER)}
"""An attachment's content-part type (OpenAI / vLLM spelling) and its placeholder in CONTENT."""


def _attachment(image_url: str | None, video_url: str | None) -> tuple[str, str] | None:
    """(kind, url) of the item's one attachment, or None."""
    if image_url:
        return "image", image_url
    if video_url:
        return "video", video_url
    return None


def _content_text(text: str, attachment: tuple[str, str] | None) -> str:
    """The CONTENT section: the text, then the attachment's placeholder after a blank line."""
    if attachment is None:
        return text
    placeholder = _ATTACHMENTS[attachment[0]][1]
    return placeholder if not text else text + "\n\n" + placeholder


def _user_content(prompt: str, attachment: tuple[str, str] | None):
    """The user turn: the prompt alone, or a text part followed by the attachment's part."""
    if attachment is None:
        return prompt
    part_type = _ATTACHMENTS[attachment[0]][0]
    return [{"type": "text", "text": prompt}, {"type": part_type, part_type: {"url": attachment[1]}}]


def _reads(template: Template) -> str:
    """What a template reads, for a refusal: ``it reads text only``, ``it reads text and images only``."""
    kinds = [plural for kind, plural in (("text", "text"), ("image", "images"), ("video", "video"))
             if kind in template.modalities]
    return f"it reads {' and '.join(kinds)} only"


def _one_token() -> dict:
    return {"max_tokens": 1, "temperature": 0}


def _chat_logprobs() -> dict:
    return {"logprobs": True, "top_logprobs": TOP_LOGPROBS}
