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
    """How one model family is prompted and how its answer is read."""

    name: str
    """Identifier used on the command line and stored with each run."""
    endpoint: str
    """Path under the base URL: ``/chat/completions`` or ``/completions``."""
    has_probability: bool
    """True when the answer carries P("1"); False for hard-label-only templates."""
    description: str
    """One line for menus."""


TEMPLATES = {
    t.name: t
    for t in (
        Template("cope-b", "/chat/completions", True, "CoPE-B (default): one user turn, P(\"1\") from logprobs"),
        Template("cope-a", "/completions", True, "CoPE-A-9B (legacy): raw prompt with INSTRUCTIONS/ANSWER"),
        Template("safeguard", "/chat/completions", False, "gpt-oss-safeguard: policy as system message, hard label"),
        Template("chat-label", "/chat/completions", True, "Generic chat LLM asked for 0/1; P(\"1\") when logprobs are offered"),
        Template("zentropi", "/label", True, "Zentropi's hosted API: P(\"1\") derived from its label and confidence"),
    )
}
DEFAULT_TEMPLATE = "cope-b"
ZENTROPI_MAX_CONCURRENCY = 8
"""Zentropi's own client never runs more than 8 requests at once; the service fails fast under load."""


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
    answer_mode: str = "logprobs",
) -> dict:
    """The JSON body for one item. ``image_url`` is a data URL (or http URL) or None."""
    if answer_mode not in ANSWER_MODES:
        raise ConfigError(f"Unknown answer mode {answer_mode!r}; choose one of {', '.join(ANSWER_MODES)}.")
    if template.name == "zentropi":
        return _zentropi_body(model, policy, text, image_url, answer_mode)
    content = _content_text(text, image_url)
    if template.name == "cope-a":
        if image_url:
            raise ConfigError("The cope-a template is text-only; this item has an image.")
        body = {"model": model, "prompt": cope_a_prompt(policy, content), **_one_token(), "logprobs": TOP_LOGPROBS}
    elif template.name == "cope-b":
        message = {"role": "user", "content": _user_content(cope_prompt(policy, content), image_url)}
        body = {"model": model, "messages": [message], **_one_token(), **_chat_logprobs()}
    elif template.name == "chat-label":
        messages = [
            {"role": "system", "content": CHAT_LABEL_SYSTEM},
            {"role": "user", "content": _user_content(cope_prompt(policy, content), image_url)},
        ]
        body = {"model": model, "messages": messages, **_one_token(), **_chat_logprobs()}
    else:  # safeguard: a reasoning model needs room to think before its final answer
        messages = [
            {"role": "system", "content": policy},
            {"role": "user", "content": _user_content(content, image_url)},
        ]
        body = {"model": model, "messages": messages, "max_tokens": SAFEGUARD_MAX_TOKENS, "temperature": 0}
    if answer_mode == "constrained":
        body.update(CONSTRAINT)
    return body


def _zentropi_body(model: str, policy: str, text: str, image_url: str | None, answer_mode: str) -> dict:
    """Zentropi's /v1/label: the policy as criteria_text, content as text and/or a data URL."""
    if answer_mode != "logprobs":
        raise ConfigError("The zentropi template has no constrained mode: the service always answers 0 or 1.")
    body = {"model": model, "criteria_text": policy}
    if text:
        body["content_text"] = text
    if image_url:
        body["content_image"] = image_url
    return body


def _content_text(text: str, image_url: str | None) -> str:
    if not image_url:
        return text
    return IMAGE_PLACEHOLDER if not text else text + "\n\n" + IMAGE_PLACEHOLDER


def _user_content(prompt: str, image_url: str | None):
    if not image_url:
        return prompt
    return [{"type": "text", "text": prompt}, {"type": "image_url", "image_url": {"url": image_url}}]


def _one_token() -> dict:
    return {"max_tokens": 1, "temperature": 0}


def _chat_logprobs() -> dict:
    return {"logprobs": True, "top_logprobs": TOP_LOGPROBS}
