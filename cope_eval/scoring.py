"""Read a model's answer: P("1") from top logprobs, or a hard 0/1 label from text.

Rules (../shared/docs/protocol.md): token spellings vary by tokenizer ("1", " 1", "▁1"), so
they are normalised and variants of the same answer are summed; score = p1 / (p0 + p1); when
one answer is missing from the top list its probability is bounded by the smallest listed
one; when both are missing the answer is not a classification, which is an error, never a 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .templates import Template

# Leading space, SentencePiece's "▁" and GPT-2's "Ġ" all mark a word boundary.
_BOUNDARY = " \t\n\r▁Ġ"
_FINAL_LABEL = re.compile(r"(?<![\w.])([01])(?!\w|\.\d)")


class AnswerError(ValueError):
    """The server replied, but the reply is not a usable classification."""


@dataclass(frozen=True)
class Answer:
    """What one reply says."""

    score: float
    """P("1"), or 1.0/0.0 for a hard label."""
    hard_label: int | None
    """The generated answer when it was "0" or "1"."""
    raw: str
    """The generated text (shortened)."""


def read_answer(template: Template, reply: dict) -> Answer:
    """Turn a decoded JSON reply into an Answer, or raise AnswerError saying what is wrong."""
    if template.name == "zentropi":
        return _zentropi_answer(reply)
    try:
        choice = reply["choices"][0]
    except (KeyError, IndexError, TypeError):
        raise AnswerError(f"reply has no choices: {_preview(reply)}") from None
    if not isinstance(choice, dict):
        raise AnswerError(f"reply has no choices: {_preview(reply)}")
    text = _generated_text(template, choice)
    if not template.has_probability:
        return Answer(float(_final_label(text)), _final_label(text), text[-200:])
    top = _top_logprobs(template, choice)
    hard = _as_label(text)
    if top is None:
        if template.name == "chat-label":  # generic LLMs may not offer logprobs
            label = _final_label(text)
            return Answer(float(label), label, text[:200])
        raise AnswerError("reply has no logprobs (the request asked for them; is this a vLLM server?)")
    return Answer(probability_of_one(top), hard, text[:200])


def _zentropi_answer(reply) -> Answer:
    """Zentropi returns the label and the model's confidence IN THAT LABEL, so
    P("1") = confidence for label "1" and 1 - confidence for label "0" (derived, not a logprob)."""
    if not isinstance(reply, dict):
        raise AnswerError(f"reply is not a JSON object: {_preview(reply)}")
    label, confidence = str(reply.get("label")), reply.get("confidence")
    if label not in ("0", "1"):
        raise AnswerError(f"label is not 0 or 1: {_preview(reply.get('label'))}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.0 <= confidence <= 1.0:
        raise AnswerError(f"confidence is not a number in [0, 1]: {_preview(confidence)}")
    score = float(confidence) if label == "1" else 1.0 - float(confidence)
    return Answer(score, int(label), f"label {label}, confidence {confidence:g} (P(\"1\") derived)")


def probability_of_one(top: list[tuple[str, float]]) -> float:
    """P("1") renormalised over the two answers from (token, logprob) pairs."""
    if not top:
        raise AnswerError("reply has an empty top_logprobs list")
    mass = {"0": 0.0, "1": 0.0}
    for token, logprob in top:
        answer = token.strip(_BOUNDARY)
        if answer in mass:
            mass[answer] += math.exp(logprob)
    if mass["0"] == 0.0 and mass["1"] == 0.0:
        shown = ", ".join(repr(token) for token, _ in top[:5])
        raise AnswerError(f'neither "0" nor "1" among the top tokens ({shown}); not a classification')
    floor = min(math.exp(logprob) for _, logprob in top)
    p0 = mass["0"] or floor
    p1 = mass["1"] or floor
    return p1 / (p0 + p1)


def _generated_text(template: Template, choice: dict) -> str:
    if template.endpoint == "/completions":
        text = choice.get("text")
    else:
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else None
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise AnswerError(f"reply text is not a string: {_preview(text)}")
    return text


def _top_logprobs(template: Template, choice: dict) -> list[tuple[str, float]] | None:
    logprobs = choice.get("logprobs")
    if not logprobs:
        return None
    try:
        if template.endpoint == "/completions":
            first = logprobs["top_logprobs"][0]  # legacy shape: list of {token: logprob}
            return [(str(k), float(v)) for k, v in first.items()]
        first = logprobs["content"][0]["top_logprobs"]
        return [(str(e["token"]), float(e["logprob"])) for e in first]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise AnswerError(f"logprobs have an unexpected shape: {_preview(logprobs)}") from None


def _as_label(text: str) -> int | None:
    stripped = text.strip(_BOUNDARY)
    return int(stripped) if stripped in ("0", "1") else None


def _final_label(text: str) -> int:
    """The last standalone 0/1 in a free-text final answer."""
    if not text.strip():
        raise AnswerError("empty final answer (a reasoning model may have run out of max_tokens)")
    found = _FINAL_LABEL.findall(text)
    if not found:
        raise AnswerError(f"no 0/1 label in the answer: {_preview(text)}")
    return int(found[-1])


def _preview(value, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
