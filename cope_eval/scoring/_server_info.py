"""Ask a model server what it is: healthy or not, which models, how long a context."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import redact
from ._http_client import BadReply, TransportError, fetch


@dataclass(frozen=True)
class ModelInfo:
    """One model as the server lists it."""

    id: str
    """Name to send as ``model``."""
    max_model_len: int | None = None
    """Context length in tokens when the server says (vLLM does)."""
    root: str | None = None
    """The checkpoint behind the name when the server says (vLLM's ``root``: the weights' path
    or hub id). Two servers can serve different weights under one name; this tells them apart."""


@dataclass(frozen=True)
class ServerStatus:
    """The answer to "can I score against this server right now?"."""

    base_url: str
    """The base URL that was asked."""
    healthy: bool
    """True when the model list could be read."""
    models: tuple[ModelInfo, ...] = field(default_factory=tuple)
    """Models served, in the server's order."""
    error: str | None = None
    """Why it is not healthy."""

    def model(self, name: str | None) -> ModelInfo | None:
        """The named model, or the first one when ``name`` is None."""
        if name is None:
            return self.models[0] if self.models else None
        return next((m for m in self.models if m.id == name), None)


def probe(base_url: str, api_key: str | None = None, *, timeout_s: float = 5.0) -> ServerStatus:
    """List the server's models; never raises for an unreachable or broken server.

    ``timeout_s`` is a total deadline: a server that answers a byte at a time is given up on."""
    url = f"{base_url}/models"
    try:
        reply = fetch("GET", url, api_key=api_key, deadline_s=timeout_s)
    except TransportError as exc:
        return ServerStatus(base_url, False, error=f"Cannot reach {base_url}: {exc}")
    if reply.is_redirect:
        return ServerStatus(base_url, False, error=f"HTTP {reply.status} from {url}: redirected to "
                                                   f"{reply.redirect_target()}; cope-eval does not follow redirects")
    if reply.status >= 300:
        return ServerStatus(base_url, False, error=f"HTTP {reply.status} from {url}")
    try:
        listed = reply.json()
    except BadReply as exc:
        return ServerStatus(base_url, False, error=redact(f"The model list from {url} {exc}", api_key))
    models = _listed_models(listed)
    if not models:
        return ServerStatus(base_url, False, error=f"{base_url} lists no models")
    return ServerStatus(base_url, True, models)


def describe_model(base_url: str, model: str, api_key: str | None = None, *,
                   deadline_s: float = 10.0) -> ModelInfo | None:
    """What the server says about ``model`` (context length, checkpoint); None when it cannot
    be read or does not list that model. The runner asks once per execution."""
    status = probe(base_url, api_key, timeout_s=deadline_s)
    return status.model(model) if status.healthy else None


def _listed_models(listed) -> tuple[ModelInfo, ...]:
    """The models of an OpenAI-style list (``{"data": [{"id": ...}, ...]}``); entries without a
    name are skipped, extra fields vLLM adds (``max_model_len``, ``root``) are read when sane."""
    entries = listed.get("data") if isinstance(listed, dict) else None
    if not isinstance(entries, list):
        return ()
    return tuple(ModelInfo(m["id"], _int_or_none(m.get("max_model_len")), _str_or_none(m.get("root")))
                 for m in entries if isinstance(m, dict) and _str_or_none(m.get("id")))


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value) -> str | None:
    return value if isinstance(value, str) and value else None
