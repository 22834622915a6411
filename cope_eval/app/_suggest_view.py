"""Suggested edits on the Insight page: which chat model answers, how a suggestion stands, its
scoring on dev in the app's background, its figures and changed items, and keeping it as a draft.

The chat model is the session's scoring server and model unless the analyst names another server
(and model); a key typed for that server goes to it only, and the session's key goes to no other
server (``scoring.fetch`` is the one client). Scoring always goes to the base run's own server
and model (``endpoint_mismatch``): a suggestion's scores compare only with that run's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..config import normalise_base_url
from ..errors import ConfigError, CopeEvalError
from ..insight import (
    Suggestion, SuggestionScore, create_suggestion_study, endpoint_mismatch, study_status
)
from ..policies import PolicyDiff, diff_texts
from ..records import Endpoint, Study, short_id
from ..scoring import probe
from ..store import Store
from ._background import RunManager
from ._study_views import with_text
from ._views import page_of

REPLACE_DRAFT = "Replace my draft"
"""The page's checkbox that lets a suggestion replace the policy's existing draft."""
SCORE_METRICS = ("precision", "recall", "f1")


@dataclass(frozen=True)
class ChatChoice:
    """What the tab's chat-model controls hold."""

    other: bool = False
    """False: the session's scoring server and model answer; True: ``base_url`` and ``model``."""
    base_url: str = ""
    model: str = ""
    """Blank: the first model the other server lists."""
    api_key: str = ""
    """Typed for the other server (session memory only); blank: none, or the session's key when the
    other server is the session's own."""


def who_answers(session: Endpoint | None, choice: ChatChoice) -> str:
    """Which model will answer, in words (plain text: the page escapes it)."""
    if not choice.other:
        if session is None:
            return "No scoring server is connected: connect one in the sidebar, or name another server."
        return f"{session.model} at {session.base_url} (this session's scoring server) will answer."
    if not choice.base_url.strip():
        return "Name the other server's URL."
    model = choice.model.strip() or "the first model the server lists"
    return f"{model} at {choice.base_url.strip()} will answer" + (" (with the key typed)." if choice.api_key else ".")


def chat_endpoint(session: Endpoint | None, choice: ChatChoice) -> Endpoint:
    """The server, model and key the suggestion request goes to (``ChatChoice``'s rules)."""
    if not choice.other:
        if session is None:
            raise ConfigError("No scoring server is connected: connect one in the sidebar, or tick "
                              "“Another server” and name it.")
        return session
    if not choice.base_url.strip():
        raise ConfigError("Chat server URL: give the other server's base URL (e.g. http://host:8000/v1).")
    try:
        url = normalise_base_url(choice.base_url.strip())
    except CopeEvalError as error:
        raise ConfigError(f"Chat server URL: {error}") from None
    same = session is not None and url == session.base_url
    key = choice.api_key or (session.api_key if same else None) or None
    model = choice.model.strip()
    if not model:
        status = probe(url, key)
        if not status.healthy:
            raise ConfigError(f"Chat server URL: cannot list the models at {url} ({status.error}); check the URL "
                              "and API key, or name the chat model.")
        model = status.models[0].id
    return Endpoint(url, model, key)


def status_line(s: Suggestion) -> str:
    """The suggestion's outcome in one line (plain text)."""
    by = s.answered_by or s.model
    if s.status == "failed":
        return (f"Failed: no revised policy could be read from the reply of {by}" if s.raw_reply
                else f"Failed: no reply came from {s.model} at {s.base_url}")
    if s.status == "unchanged":
        return f"Unchanged: {by} returned the current policy text as it is; there is nothing to try."
    diff = suggestion_diff(s)
    return (f"Suggested by {by}: {diff.added + diff.changed} line(s) added or changed, "
            f"{diff.removed + diff.changed} removed or changed")


def suggestion_diff(s: Suggestion) -> PolicyDiff | None:
    """The suggested text against the run's version (its ``html`` escapes policy text); None without a text."""
    if not s.ok:
        return None
    return diff_texts(s.base_text, s.text, old_label=f"{s.policy}@{short_id(s.base_version_id)} (the run's)",
                      new_label="suggested")


def start_scoring(store: Store, manager: RunManager, endpoint: Endpoint | None, s: Suggestion, *,
                  author: str = "") -> Study:
    """Score the suggestion on its run's dev items in the background (the study, made once).

    Refused before anything is stored when the session's server is not the one that scored the run."""
    problem = endpoint_mismatch(store.run(s.run_id), endpoint)
    if problem:
        raise ConfigError(problem)
    study = create_suggestion_study(store, s, author=author)
    if study_status(store, study) != "completed":
        manager.start_study(study.id, endpoint)
    return study


def score_table(score: SuggestionScore) -> pd.DataFrame:
    """One row per metric: the run's and the suggestion's figure on dev, Δ and its interval."""
    c = score.comparison
    return pd.DataFrame([{"metric": m, "run": getattr(c.metrics_a, m), "suggested": getattr(c.metrics_b, m),
                          "Δ": c.deltas[m].estimate, "low": c.deltas[m].low, "high": c.deltas[m].high}
                         for m in SCORE_METRICS])


def changed_page(score: SuggestionScore, items: pd.DataFrame, page: int,
                 page_size: int = 20) -> tuple[pd.DataFrame, int]:
    """One page of the items the suggestion fixes or breaks, with their text, and the page count."""
    columns = ["item_id", "outcome", "label", "score_a", "score_b"]
    frame = score.changed[columns].rename(columns={"score_a": "run P(1)", "score_b": "suggested P(1)",
                                                   "label": "gold"})
    return page_of(with_text(frame, items), page, page_size)
