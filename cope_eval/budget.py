"""Will each prompt fit the model's context? Checked before a run, refused items never sent.

Exact counts come from vLLM's ``/tokenize`` (chat template included). Only items whose upper
bound could overflow are tokenized: a token is at least one UTF-8 byte for the byte-level BPE
and SentencePiece tokenizers these models use, so policy tokens + overhead + content bytes
bounds the prompt from above. Without ``/tokenize`` nothing is refused; a warning says so.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .records import Endpoint
from .templates import Template, build_body

SUSPECTS_TOKENIZED = 500
POLICY_SHARE_WARNING = 0.5


@dataclass(frozen=True)
class BudgetPlan:
    """What the token check found."""

    max_model_len: int | None
    """The model's context in tokens, when the server says."""
    prompt_tokens: int | None
    """Tokens of the prompt with empty content (policy + template + chat markup)."""
    refused: dict[str, str] = field(default_factory=dict)
    """item id -> why it cannot be sent."""
    warnings: tuple[str, ...] = ()
    """Things the analyst should know before trusting the run."""


def plan(endpoint: Endpoint, template: Template, policy: str, items: pd.DataFrame, *,
         max_len: int | None) -> BudgetPlan:
    """``max_len``: the model's context in tokens as the server reported it (None: unknown)."""
    if items.empty:
        return BudgetPlan(None, None)
    if template.name == "zentropi":
        return BudgetPlan(None, None, warnings=("Zentropi's API does not report context lengths; prompts were not checked.",))
    if max_len is None:
        return BudgetPlan(None, None, warnings=("The server does not say its context length; prompts were not checked.",))
    counter = _Tokenizer(endpoint, template, policy)
    base = counter.count("")
    if base is None:
        return BudgetPlan(max_len, None, warnings=("The server has no /tokenize endpoint; prompt lengths were not checked.",))
    warnings = []
    if base > POLICY_SHARE_WARNING * max_len:
        warnings.append(f"The policy alone takes {base:,} of the model's {max_len:,} context tokens.")
    room = max_len - _answer_tokens(template) - base
    upper = pc.binary_length(pa.array(items["text"].fillna(""), type=pa.large_string())).to_numpy(zero_copy_only=False)
    suspects = items[upper > room]
    refused = {}
    for item_id, content in zip(suspects["id"][:SUSPECTS_TOKENIZED], suspects["text"][:SUSPECTS_TOKENIZED]):
        tokens = counter.count(content)
        if tokens is not None and tokens + _answer_tokens(template) > max_len:
            refused[item_id] = (f"prompt too long: {tokens:,} tokens (policy and template {base:,}) "
                                f"do not fit the model's {max_len:,}-token context")
    if len(suspects) > SUSPECTS_TOKENIZED:
        warnings.append(f"{len(suspects) - SUSPECTS_TOKENIZED:,} more long items were not checked; "
                        "the server will reject any that do not fit.")
    if refused:
        warnings.append(f"{len(refused):,} item(s) do not fit the context and are recorded as errors.")
    return BudgetPlan(max_len, base, refused, tuple(warnings))


def _headers(endpoint: Endpoint) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    return headers


def _answer_tokens(template: Template) -> int:
    return 1 if template.name != "safeguard" else 0  # safeguard's budget is the server's business


class _Tokenizer:
    def __init__(self, endpoint: Endpoint, template: Template, policy: str):
        self.endpoint, self.template, self.policy = endpoint, template, policy
        self.url = endpoint.base_url.removesuffix("/v1") + "/tokenize"

    def count(self, content: str) -> int | None:
        body = build_body(self.template, model=self.endpoint.model, policy=self.policy, text=content)
        request = {"model": self.endpoint.model}
        if "messages" in body:
            request.update(messages=body["messages"], add_generation_prompt=True)
        else:
            request.update(prompt=body["prompt"])
        try:
            http_request = urllib.request.Request(self.url, json.dumps(request).encode(), _headers(self.endpoint))
            with urllib.request.urlopen(http_request, timeout=30) as reply:
                return int(json.loads(reply.read())["count"])
        except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError):
            return None
