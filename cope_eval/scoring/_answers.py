"""Read a model's answer: P("1") from top logprobs, or a hard 0/1 label from text.

Rules (../shared/docs/protocol.md): token spellings vary by tokenizer ("1", " 1", "▁1"), so
they are normalised and variants of the same answer are summed; score = p1 / (p0 + p1); when
one answer is missing from the top list its probability is bounded by the smallest listed
one; when both are missing the answer is not a classification, which is an error, never a 0.

A hostile or broken reply is that item's error, never a crash: every logprob must be a finite
number no greater than 0 (up to ``LOGPROB_ROUNDING``), the sums are taken in log space so no
legal value overflows or underflows, and every score read is a finite number in [0, 1].
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ._templates import Template

# Leading space, SentencePiece's "▁" and GPT-2's "Ġ" all mark a word boundary.
_BOUNDARY = " \t\n\r▁Ġ"
_FINAL_LABEL = re.compile(r"(?<![\w.])([01])(?!\w|\.\d)")
LOGPROB_ROUNDING = 1e-3
"""How far above 0 a logprob may be and still be read as 0 (probability 1). A server that takes
the log of a softmax computed in half precision can land a near-certain token a rounding step
above 0 (float16's step at 1 is about 1e-3; float32's about 1e-7). Anything higher, and any NaN
or infinity, is not a log-probability: the reply is an error."""


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
    if template.protocol == "label":
        return _label_answer(reply)
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
        if template.logprobs_optional:  # generic LLMs may not offer logprobs
            label = _final_label(text)
            return Answer(float(label), label, text[:200])
        raise AnswerError("reply has no logprobs (the request asked for them; is this a vLLM server?)")
    return Answer(checked_score(probability_of_one(top)), hard, text[:200])


def checked_score(score) -> float:
    """``score`` as a float when it is a finite number in [0, 1]; else AnswerError. The last
    word before a score is stored: a NaN would reach SQLite as NULL and fail the whole batch."""
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        raise AnswerError(f"score is not a number: {_preview(score)}")
    if not (math.isfinite(score) and 0.0 <= score <= 1.0):
        raise AnswerError(f"score {score!r} is not a probability in [0, 1]")
    return float(score)


def _label_answer(reply) -> Answer:
    """Zentropi returns the label and the model's confidence IN THAT LABEL, so
    P("1") = confidence for label "1" and 1 - confidence for label "0" (derived, not a logprob)."""
    if not isinstance(reply, dict):
        raise AnswerError(f"reply is not a JSON object: {_preview(reply)}")
    label, confidence = str(reply.get("label")), reply.get("confidence")
    if label not in ("0", "1"):
        raise AnswerError(f"label is not 0 or 1: {_preview(reply.get('label'))}")
    # NaN fails the range check too: every comparison with NaN is false.
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.0 <= confidence <= 1.0:
        raise AnswerError(f"confidence is not a number in [0, 1]: {_preview(confidence)}")
    score = float(confidence) if label == "1" else 1.0 - float(confidence)
    return Answer(checked_score(score), int(label), f"label {label}, confidence {confidence:g} (P(\"1\") derived)")


def probability_of_one(top: list[tuple[str, float]]) -> float:
    """P("1") renormalised over the two answers from (token, logprob) pairs, computed in log
    space: p1 / (p0 + p1) = 1 / (1 + exp(log p0 - log p1)), each side a log-sum-exp."""
    if not top:
        raise AnswerError("reply has an empty top_logprobs list")
    top = [(token, _logprob(token, value)) for token, value in top]
    logs: dict[str, list[float]] = {"0": [], "1": []}
    for token, logprob in top:
        answer = token.strip(_BOUNDARY)
        if answer in logs:
            logs[answer].append(logprob)
    if not logs["0"] and not logs["1"]:
        shown = ", ".join(repr(token) for token, _ in top[:5])
        raise AnswerError(f'neither "0" nor "1" among the top tokens ({shown}); not a classification')
    floor = min(logprob for _, logprob in top)
    log_p0 = _log_sum_exp(logs["0"]) if logs["0"] else floor
    log_p1 = _log_sum_exp(logs["1"]) if logs["1"] else floor
    return _logistic(log_p1 - log_p0)


def _logprob(token: str, value) -> float:
    """A listed logprob as a float <= 0, or AnswerError saying why it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnswerError(f"logprob of {token!r} is not a number: {_preview(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        raise AnswerError(f"logprob of {token!r} is out of range: {_preview(value, 40)}") from None
    if not math.isfinite(number):
        raise AnswerError(f"logprob of {token!r} is {number!r}, not a finite number")
    if number > LOGPROB_ROUNDING:
        raise AnswerError(f"logprob of {token!r} is {number:g}, above 0: not a log-probability")
    return min(number, 0.0)


def _log_sum_exp(values: list[float]) -> float:
    """log(sum(exp(v))) without underflow: very unlikely answers still count."""
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def _logistic(x: float) -> float:
    """1 / (1 + exp(-x)), exponentiating only non-positive numbers so it never overflows."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


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


def _top_logprobs(template: Template, choice: dict) -> list[tuple[str, object]] | None:
    logprobs = choice.get("logprobs")
    if not logprobs:
        return None
    try:
        if template.endpoint == "/completions":
            first = logprobs["top_logprobs"][0]  # legacy shape: list of {token: logprob}
            return [(str(k), v) for k, v in first.items()]
        first = logprobs["content"][0]["top_logprobs"]
        return [(str(e["token"]), e["logprob"]) for e in first]  # probability_of_one checks the values
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
