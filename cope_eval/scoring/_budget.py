"""Will each prompt fit the model's context? Checked before a run, refused items never sent.

Exact counts come from vLLM's ``/tokenize`` (chat template included). Only items whose upper
bound could overflow are tokenized: a token is at least one UTF-8 byte for the byte-level BPE
and SentencePiece tokenizers these models use, so policy tokens + overhead + content bytes
bounds the prompt from above. Without ``/tokenize`` nothing is refused; a warning says so.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..records import Endpoint
from ._http_client import BadReply, ServerSession, TransportError, run_sync
from ._templates import Template, build_body

SUSPECTS_TOKENIZED = 500
POLICY_SHARE_WARNING = 0.5
TOKENIZE_CONCURRENCY = 8
TOKENIZE_DEADLINE_S = 30.0


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
    if not template.counts_tokens:
        warning = (f"The {template.name} template's server does not report context lengths; "
                   "prompts were not checked.")
        return BudgetPlan(None, None, warnings=(warning,))
    if max_len is None:
        return BudgetPlan(None, None, warnings=("The server does not say its context length; prompts were not checked.",))
    counter = Tokenizer(endpoint, template, policy)
    base = counter.count("")
    if base is None:
        return BudgetPlan(max_len, None, warnings=("The server has no /tokenize endpoint; prompt lengths were not checked.",))
    warnings = []
    if base > POLICY_SHARE_WARNING * max_len:
        warnings.append(f"The policy alone takes {base:,} of the model's {max_len:,} context tokens.")
    room = max_len - template.answer_tokens - base
    upper = pc.binary_length(pa.array(items["text"].fillna(""), type=pa.large_string())).to_numpy(zero_copy_only=False)
    suspects = items[upper > room]
    refused = {}
    counts = counter.count_all(list(suspects["text"][:SUSPECTS_TOKENIZED]))
    for item_id, tokens in zip(suspects["id"][:SUSPECTS_TOKENIZED], counts):
        if tokens is not None and tokens + template.answer_tokens > max_len:
            refused[item_id] = (f"prompt too long: {tokens:,} tokens (policy and template {base:,}) "
                                f"do not fit the model's {max_len:,}-token context")
    if len(suspects) > SUSPECTS_TOKENIZED:
        warnings.append(f"{len(suspects) - SUSPECTS_TOKENIZED:,} more long items were not checked; "
                        "the server will reject any that do not fit.")
    if refused:
        warnings.append(f"{len(refused):,} item(s) do not fit the context and are recorded as errors.")
    return BudgetPlan(max_len, base, refused, tuple(warnings))


class Tokenizer:
    """Counts prompts with the server's ``/tokenize``: None for any it cannot count (no such
    endpoint, an error, a redirect — never followed, the key stays with its server). A template
    whose server cannot count (``Template.counts_tokens``) is never sent one: all None."""

    def __init__(self, endpoint: Endpoint, template: Template, policy: str):
        self.endpoint, self.template, self.policy = endpoint, template, policy
        self.url = endpoint.base_url.removesuffix("/v1") + "/tokenize"

    def count(self, content: str) -> int | None:
        return self.count_all([content])[0]

    def count_all(self, contents: list[str]) -> list[int | None]:
        """Token counts, a few requests at a time over one session. After a failure to reach the
        server (or its deadline) the rest are not asked: they would only wait as long again."""
        if not self.template.counts_tokens:
            return [None] * len(contents)
        return run_sync(lambda: self._count_all(contents))

    async def _count_all(self, contents: list[str]) -> list[int | None]:
        gate = asyncio.Semaphore(TOKENIZE_CONCURRENCY)
        gave_up = False

        async def one(session: ServerSession, content: str) -> int | None:
            nonlocal gave_up
            async with gate:
                if gave_up:
                    return None
                try:
                    reply = await session.post("", self._body(content))
                    return int(reply.json()["count"]) if reply.status == 200 else None
                except TransportError:
                    gave_up = True
                except (BadReply, KeyError, TypeError, ValueError, OverflowError):
                    pass
                return None

        async with ServerSession(self.url, self.endpoint.api_key, connections=TOKENIZE_CONCURRENCY,
                                 deadline_s=TOKENIZE_DEADLINE_S) as session:
            return await asyncio.gather(*(one(session, content) for content in contents))

    def _body(self, content: str) -> bytes:
        body = build_body(self.template, model=self.endpoint.model, policy=self.policy, text=content)
        request = {"model": self.endpoint.model}
        if "messages" in body:
            request.update(messages=body["messages"], add_generation_prompt=True)
        else:
            request.update(prompt=body["prompt"])
        return json.dumps(request).encode()
