"""Where things are: the workspace directory and the model server, read from the environment.

- ``COPE_EVAL_HOME``: the workspace (``policies/``, ``golden_sets/``, private ``.cope_eval/``);
  default: the repository root.
- ``COPE_BASE_URL`` (+ ``COPE_MODEL``, ``COPE_API_KEY``): a model server you run; when unset the
  bundled local vLLM is used.
- ``COPE_ALLOW_PRIVATE_URLS=1``: image URLs (when URL fetching is on at all) may point at
  loopback, private and link-local addresses; off by default.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Workspace:
    """A directory of policies, golden sets and the private store."""

    root: Path
    """The workspace directory itself."""

    @property
    def policies_dir(self) -> Path:
        return self.root / "policies"

    @property
    def golden_sets_dir(self) -> Path:
        return self.root / "golden_sets"

    @property
    def private_dir(self) -> Path:
        """Store and caches; never meant to be committed."""
        return self.root / ".cope_eval"

    @property
    def db_path(self) -> Path:
        return self.private_dir / "store.sqlite3"

    def ensure(self) -> "Workspace":
        for folder in (self.policies_dir, self.golden_sets_dir, self.private_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def workspace_from_env() -> Workspace:
    root = Path(os.environ.get("COPE_EVAL_HOME") or REPO_ROOT).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise ConfigError(f"COPE_EVAL_HOME={root} is not a directory.")
    return Workspace(root)


@dataclass(frozen=True)
class ServerSetting:
    """The model server chosen by the environment, before anything is started."""

    base_url: str | None
    """Base URL ending in /v1; None means: use the bundled local vLLM."""
    model: str | None
    """Model name; None means: the first model the server lists."""
    api_key: str | None = None
    """Bearer token, from the environment only."""

    @property
    def is_local(self) -> bool:
        return self.base_url is None


def server_from_env(api_key_env: str = "COPE_API_KEY") -> ServerSetting:
    base_url = os.environ.get("COPE_BASE_URL") or None
    if base_url is not None:
        base_url = normalise_base_url(base_url)
    return ServerSetting(base_url, os.environ.get("COPE_MODEL") or None, os.environ.get(api_key_env) or None)


def private_urls_allowed() -> bool:
    """Whether fetched image URLs may reach non-public addresses (``COPE_ALLOW_PRIVATE_URLS=1``)."""
    return os.environ.get("COPE_ALLOW_PRIVATE_URLS") == "1"


def normalise_base_url(url: str) -> str:
    """Accept ``http://host:port`` or ``.../v1`` (with or without a trailing slash).

    A URL carrying credentials (``user:key@host``) or a query is refused without repeating it:
    base URLs are stored with every run and shown on every page, keys never are.
    """
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"Server URL {url!r} must start with http:// or https://.")
    parts = urllib.parse.urlsplit(url)
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise ConfigError("A server URL must not carry credentials (user:key@) or a query (?...): give the key "
                          "as the API key (COPE_API_KEY or the sidebar's key field), which is never stored or shown.")
    return url if url.endswith("/v1") else url + "/v1"
