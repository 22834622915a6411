"""A stub model that reads the POLICY and CONTENT of each CoPE-B request and answers by rule.

vLLM with SmolLM2 proves the end-to-end path but its judgement is noise; studies (probes,
ablation, attribution) also need a model whose answer provably depends on the policy text, so a
test can say which clause decides which item. The rule is given per test: ``score(policy,
content) -> P("1")``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from tests.stub_server import Reply, chat_reply, instant

POLICY_MARK = "\n\n\nPOLICY\n======\n\n"
CONTENT_MARK = "\n\n\nCONTENT\n=======\n\n"


def parse_prompt(body: bytes) -> tuple[str, str]:
    """(policy, content) from a CoPE-B chat request body."""
    message = json.loads(body)["messages"][0]["content"]
    text = message if isinstance(message, str) else next(p["text"] for p in message if p["type"] == "text")
    policy, content = text.split(POLICY_MARK, 1)[1].split(CONTENT_MARK, 1)
    return policy, content


def policy_following(score: Callable[[str, str], float]) -> Callable[[str, bytes], Reply]:
    """A StubServer behaviour answering P("1") = ``score(policy, content)``."""

    def behaviour(path: str, body: bytes) -> Reply:
        if not path.endswith("/chat/completions"):
            return instant(path, body)
        p1 = min(max(score(*parse_prompt(body)), 1e-6), 1 - 1e-6)
        token = "1" if p1 >= 0.5 else "0"
        return Reply(body=chat_reply(token, {"1": math.log(p1), "0": math.log(1 - p1)}))

    return behaviour


def keyword_rule(policy: str, content: str) -> float:
    """0.9 when a policy bullet line ("- ...") shares a word of 4+ letters with the content,
    else 0.1: remove the bullet and the items it matched fall to 0.1."""
    words = set(_words(content))
    for line in policy.splitlines():
        if line.lstrip().startswith("- ") and words & set(_words(line)):
            return 0.9
    return 0.1


def _words(text: str) -> list[str]:
    return [w for w in "".join(c.lower() if c.isalpha() else " " for c in text).split() if len(w) >= 4]
