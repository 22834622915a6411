"""A stub rule that reads a policy's label definition the way a policy-following model should.

For ``tests.policy_stub.policy_following``: content gets the label (P("1") = 0.9, else 0.1) when
it meets an Includes item and no Excludes item. An item "meets" a bullet when they share a word of
4+ letters. It also understands the two sentences ``probe_policies.invert_policy`` writes (the
"any other content" bullet and "Includes take precedence"), and the explicit "NOT" wrapper, so a
probe against it shows what a model that follows the policy does. Without Includes/Excludes
headings every bullet line counts as an Includes item.
"""

from __future__ import annotations

import re

from cope_eval.insight._probe_policies import INCLUDES_WIN, NONE_OF_THE_EXCLUDES, WRAP_AFTER, WRAP_BEFORE

_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")


def label_reader(policy: str, content: str) -> float:
    if policy.startswith(WRAP_BEFORE):
        inner = policy[len(WRAP_BEFORE):].rsplit(WRAP_AFTER, 1)[0]
        return 1.0 - label_reader(inner, content)
    includes, excludes = _lists(policy)
    words = _words(content)
    excluded = any(words & _words(item) for item in excludes)
    included = any(not excluded if item == NONE_OF_THE_EXCLUDES else words & _words(item) for item in includes)
    labelled = included and (not excluded or INCLUDES_WIN in policy)
    return 0.9 if labelled else 0.1


def ignores_policy(policy: str, content: str) -> float:
    """A model that never reads the policy: it flags threats whatever the policy says."""
    return 0.9 if "threat" in content.lower() else 0.1


def _lists(policy: str) -> tuple[list[str], list[str]]:
    lists: dict[str, list[str]] = {"includes": [], "excludes": [], "other": []}
    section = "other"
    for line in policy.splitlines():
        heading = _HEADING.match(line)
        if heading:
            title = heading.group(1).lower()
            section = title if title in ("includes", "excludes") else "other"
        elif line.startswith("- "):
            lists[section].append(line)
    if not lists["includes"] and not lists["excludes"]:
        return lists["other"], []
    return lists["includes"], lists["excludes"]


def _words(text: str) -> set[str]:
    return {w for w in "".join(c.lower() if c.isalpha() else " " for c in text).split() if len(w) >= 4}
