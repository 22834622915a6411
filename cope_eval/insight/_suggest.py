"""Suggested edits: ask a chat model for a minimal policy edit that fixes a run's confident misses.

The misses are the run's confident disagreements (``triage.disagreements``) on its **dev** items
only (``golden.split_results(results, "dev")``; a set without a split is all dev): test items
never reach the prompt, so a suggestion cannot be fitted to them. False positives and false
negatives are quoted in turn, most confident first, so both kinds are asked about.

Any OpenAI-compatible chat server answers (by default the run's own scoring server and model);
the request goes through the project's HTTP client (``scoring.fetch``: the key goes to that
server only, a deadline, the key taken out of the reply). Every reply becomes a ``Suggestion``:
one that cannot be read is a failure saying why (never an exception, never a silent "no
change"); one identical to the current text says so. A suggestion is never a policy version:
it is kept in the store (its record as JSON, ``Store.put_suggestion``) so a page reload or
another process finds it, becomes a draft only when asked
(``save_suggestion_as_draft``) and a version only when the analyst saves that draft.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone

import pandas as pd

from ..errors import ConfigError
from ..golden import split_results
from ..policies import canonical_text, version_id
from ..records import Endpoint, Run
from ..scoring import TransportError, fetch, get_template
from ..store import Store, run_results
from ._suggest_prompt import Rationale, parse_reply, suggestion_prompt
from ._triage import DEFAULT_MIN_CONFIDENCE, _with_text, disagreements

DEFAULT_MAX_ITEMS = 20
"""Misses quoted in one prompt unless asked otherwise."""
DEFAULT_DEADLINE_S = 300.0
"""Seconds one suggestion may take, from connecting to the last byte of the reply."""
SUGGESTION_ID_PREFIX = "suggestion-"


@dataclass(frozen=True)
class Suggestion:
    """One model's proposed edit of a run's policy, or why none could be read from its reply."""

    id: str
    """``suggestion-<UTC time>-<6 hex>``."""
    run_id: str
    """The run whose dev misses it tries to fix."""
    policy: str
    """Slug of the run's policy."""
    base_version_id: str
    """The run's policy version: what the suggestion edits."""
    base_text: str
    """That version's text."""
    text: str | None
    """The suggested full policy text; None when the reply held none (``problems`` says why)."""
    rationales: tuple[Rationale, ...]
    """One per changed clause, as the model gave them."""
    messages: tuple[dict, ...]
    """The exact chat messages sent (``suggestion_prompt``)."""
    item_ids: tuple[str, ...]
    """The dev misses quoted in the prompt, in order."""
    base_url: str
    """The chat server asked."""
    model: str
    """The model asked for."""
    answered_by: str
    """The model the server said answered ("" when no reply came)."""
    raw_reply: str
    """The reply's message content as received (key removed); "" when none came."""
    problems: tuple[str, ...]
    """Why no text could be read, or what is off in one that could; () when clean."""
    created: str
    """When it was asked (ISO 8601, UTC, to the microsecond: several of one run sort in order)."""
    request: dict = field(default_factory=dict)
    """The sampling settings sent beside the messages (temperature, seed, max_tokens)."""

    @property
    def ok(self) -> bool:
        """True when the reply held a revised policy."""
        return self.text is not None

    @property
    def unchanged(self) -> bool:
        """True when the suggested text is the current text (nothing to try)."""
        return self.ok and canonical_text(self.text).strip() == canonical_text(self.base_text).strip()

    @property
    def version_id(self) -> str | None:
        """The id the suggested text would have as a version; None without a text."""
        return version_id(self.text) if self.ok else None

    @property
    def status(self) -> str:
        """``failed`` (no text could be read), ``unchanged`` or ``suggested``."""
        return "failed" if not self.ok else "unchanged" if self.unchanged else "suggested"

    def to_dict(self) -> dict:
        return {**asdict(self), "status": self.status, "version_id": self.version_id}

    @classmethod
    def from_dict(cls, data: dict) -> "Suggestion":
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["rationales"] = tuple(Rationale(**r) for r in fields["rationales"])
        for name in ("messages", "item_ids", "problems"):
            fields[name] = tuple(fields[name])
        return cls(**fields)


def dev_misses(store: Store, run: Run, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> pd.DataFrame:
    """The run's confident disagreements among its **dev** items, with their text: false
    positives and false negatives in turn, each most confident first (``triage.disagreements``)."""
    results = _with_text(store, run, split_results(run_results(store, run.id), "dev"))
    hard = not get_template(run.template).has_probability
    misses = disagreements(results, run.threshold, min_confidence=min_confidence, hard_label=hard)
    turn = misses.groupby("kind", sort=False).cumcount()
    order = misses.assign(_turn=turn, _fn=misses["kind"] == "FN")
    return order.sort_values(["_turn", "_fn"], kind="stable").drop(columns=["_turn", "_fn"]).reset_index(drop=True)


def suggest_edits(store: Store, run_id: str, endpoint: Endpoint, *, n: int = 1, max_items: int = DEFAULT_MAX_ITEMS,
                  min_confidence: float = DEFAULT_MIN_CONFIDENCE, temperature: float | None = None,
                  max_tokens: int | None = None, deadline_s: float = DEFAULT_DEADLINE_S) -> list[Suggestion]:
    """Ask ``endpoint`` ``n`` times for a minimal edit of the run's policy fixing its dev misses.

    ``temperature``: None is 0 for one suggestion and 0.7 for several (each request has its own
    ``seed``, 0 to n-1, so several differ and a repeat is reproducible where the server honours
    seeds). ``max_tokens``: None leaves room for the policy and its rationales (about one token per
    three characters of policy, plus 512). Each suggestion is kept (``stored_suggestions``).
    Raises ConfigError before anything is sent when there is nothing to ask about."""
    if n < 1:
        raise ConfigError(f"The number of suggestions (--n) must be at least 1, not {n}.")
    if max_items < 1:
        raise ConfigError(f"--max-items must be at least 1, not {max_items}.")
    run = store.run(run_id)
    version = store.policy_version(run.policy_version_id)
    misses = dev_misses(store, run, min_confidence=min_confidence)
    if misses.empty:
        raise ConfigError(f"Run {run.id} has no disagreement with the gold labels on its dev items at confidence "
                          f"{min_confidence:g} or more: there is nothing for a suggestion to fix (try a lower "
                          "--min-confidence).")
    messages = suggestion_prompt(version.text, misses, max_items=max_items)
    item_ids = tuple(str(i) for i in misses["item_id"].head(max_items))
    temperature = (0.0 if n == 1 else 0.7) if temperature is None else float(temperature)
    max_tokens = len(version.text) // 3 + 512 if max_tokens is None else int(max_tokens)
    suggestions = []
    for seed in range(n):
        request = {"temperature": temperature, "seed": seed, "max_tokens": max_tokens}
        content, answered_by, problems = ask_chat(endpoint, messages, request, deadline_s=deadline_s)
        parsed = parse_reply(content) if content is not None else None
        suggestion = Suggestion(
            id=new_suggestion_id(), run_id=run.id, policy=version.policy, base_version_id=version.id,
            base_text=version.text, text=parsed.text if parsed else None,
            rationales=parsed.rationales if parsed else (), messages=tuple(messages), item_ids=item_ids,
            base_url=endpoint.base_url, model=endpoint.model, answered_by=answered_by, raw_reply=content or "",
            problems=tuple(problems) + (parsed.problems if parsed else ()),
            created=datetime.now(timezone.utc).isoformat(timespec="microseconds"), request=request)
        if suggestion.ok and not suggestion.unchanged and not suggestion.rationales:
            suggestion = _with_problem(suggestion, "the reply gives no RATIONALE line for its changes")
        keep_suggestion(store, suggestion)
        suggestions.append(suggestion)
    return suggestions


def ask_chat(endpoint: Endpoint, messages: list[dict], request: dict, *,
             deadline_s: float = DEFAULT_DEADLINE_S) -> tuple[str | None, str, list[str]]:
    """One chat completion: (the reply's content or None, the model that answered, problems).

    Every way a request can fail is a problem in words, never an exception: no reply, a redirect
    (not followed: the key stays with its server), an HTTP error, a body that is not a completion."""
    body = {"model": endpoint.model, "messages": messages, **request}
    try:
        reply = fetch("POST", f"{endpoint.base_url}/chat/completions", api_key=endpoint.api_key, json_body=body,
                      deadline_s=deadline_s)
    except TransportError as error:
        return None, "", [f"no reply from {endpoint.base_url}: {error}"]
    if reply.is_redirect:
        return None, "", [f"{endpoint.base_url} redirected to {reply.redirect_target()} (not followed)"]
    if reply.status != 200:
        excerpt = reply.body[:300].decode("utf-8", "replace")
        return None, "", [f"{endpoint.base_url} answered HTTP {reply.status}: {excerpt}"]
    try:
        data = reply.json()
        choice = data["choices"][0]
        content = choice["message"]["content"]
        if not isinstance(content, str):
            raise TypeError("its message has no text content")
    except (ValueError, KeyError, IndexError, TypeError) as error:
        return None, "", [f"the reply is not a chat completion ({type(error).__name__}: {error})"]
    answered_by = data.get("model") if isinstance(data.get("model"), str) else endpoint.model
    problems = []
    if choice.get("finish_reason") == "length":
        problems.append(f"the reply was cut off at the token limit (max_tokens {request.get('max_tokens')})")
    return content, answered_by, problems


def new_suggestion_id() -> str:
    """``suggestion-<UTC time>-<6 hex>``: sorts by creation, unique within a second."""
    return f"{SUGGESTION_ID_PREFIX}{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def keep_suggestion(store: Store, suggestion: Suggestion) -> None:
    """Keep the suggestion in the store (a later one with the same id replaces it)."""
    store.put_suggestion(suggestion.id, suggestion.run_id, suggestion.created,
                         json.dumps(suggestion.to_dict(), ensure_ascii=False))


def stored_suggestion(store: Store, suggestion_id: str) -> Suggestion:
    """A kept suggestion by id; NotFoundError when there is none."""
    return Suggestion.from_dict(json.loads(store.suggestion(suggestion_id)))


def stored_suggestions(store: Store, run_id: str | None = None) -> list[Suggestion]:
    """Kept suggestions (of one run when given), oldest first."""
    return [Suggestion.from_dict(json.loads(body)) for body in store.suggestions(run_id)]


def _with_problem(suggestion: Suggestion, problem: str) -> Suggestion:
    return replace(suggestion, problems=suggestion.problems + (problem,))
