"""Where things are: the workspace directory and the model server, read from the environment.

- ``COPE_EVAL_HOME``: the workspace (``policies/``, ``golden_sets/``, private ``.cope_eval/``);
  default: the repository checkout the package runs from, whatever the working directory (an
  editable install, ``pip install -e .``, as ``make install`` does). A regular install has no
  checkout: there ``COPE_EVAL_HOME`` must be set, and the web app (``app.py``, ``pages/``) is not there.
- ``COPE_BASE_URL`` (+ ``COPE_MODEL``, ``COPE_API_KEY``): a model server you run; when unset the
  bundled local vLLM is used.
- ``COPE_EVAL_PAGE_CACHE_MB``: the memory the web app's pages may keep for every session (runs' scores,
  matched runs, curves, a set's text), in MB; default ``PAGE_CACHE_MB``.
- ``COPE_ALLOW_PRIVATE_URLS=1``: image URLs (when URL fetching is on at all) may point at
  loopback, private and link-local addresses; off by default.
"""

from __future__ import annotations

import math
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The folder holding the package: the repository checkout when run from one (editable install or
``python -m cope_eval`` in the checkout), ``site-packages`` after a regular install."""


def checkout_root() -> Path | None:
    """The repository checkout the package runs from (``app.py`` and ``pyproject.toml`` beside the package),
    or None for a regular install, whose ``REPO_ROOT`` is ``site-packages``."""
    if (REPO_ROOT / "app.py").is_file() and (REPO_ROOT / "pyproject.toml").is_file():
        return REPO_ROOT
    return None


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
    """``COPE_EVAL_HOME``, else the repository checkout; never ``site-packages``, where a reinstall would
    take the workspace with it."""
    home = os.environ.get("COPE_EVAL_HOME") or checkout_root()
    if home is None:
        raise ConfigError("Set COPE_EVAL_HOME to your workspace folder (policies/, golden_sets/ and the "
                          "store): this cope-eval is installed without its repository, so it has no default.")
    root = Path(home).expanduser().resolve()
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


PAGE_CACHE_MB = 600
"""The pages' shared objects' default budget: a session's pages over two 1M-item runs keep about
0.6 GB (Compare's runs matched, their curves and scores, the set's text, the predictions browser),
which keeps the app process under 1.5 GB (benchmark 16); runs of a thousand items keep under 1 MB
each, so a team comparing many of them evicts nothing."""


def page_cache_bytes() -> int:
    """``COPE_EVAL_PAGE_CACHE_MB`` in bytes (``PAGE_CACHE_MB`` when unset): what the web app's pages
    keep for every session, the least recently used dropped first (``cope_eval._util.sized_cache``)."""
    setting = os.environ.get("COPE_EVAL_PAGE_CACHE_MB", "").strip()
    if not setting:
        return PAGE_CACHE_MB * 10**6
    try:
        megabytes = float(setting)
    except ValueError:
        megabytes = math.nan
    if not (math.isfinite(megabytes) and megabytes >= 0):
        raise ConfigError(f"COPE_EVAL_PAGE_CACHE_MB={setting!r} is not a number of megabytes: give one "
                          f"such as {PAGE_CACHE_MB} (0 keeps only the newest object).")
    return int(megabytes * 10**6)


def private_urls_allowed() -> bool:
    """Whether fetched image URLs may reach non-public addresses (``COPE_ALLOW_PRIVATE_URLS=1``)."""
    return os.environ.get("COPE_ALLOW_PRIVATE_URLS") == "1"


def normalise_base_url(url: str) -> str:
    """Accept ``http://host:port`` or ``.../v1`` (with or without a trailing slash; the scheme in any case).

    The URL is never repeated in an error: one carrying credentials (``user:key@host``) or a
    query is refused outright (base URLs are stored with every run and shown on every page, keys
    never are), and a malformed one may still hold a key, typed where it should not be.
    """
    url = url.strip().rstrip("/")
    if any(mark in url for mark in "@?#"):
        raise ConfigError("A server URL must not carry credentials (user:key@) or a query (?...): give the key "
                          "as the API key (COPE_API_KEY or the sidebar's key field), which is never stored or shown.")
    scheme, separator, _ = url.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        raise ConfigError(f"The server URL must start with http:// or https://, as in {_EXAMPLE_URL}.")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise ConfigError(f"The server URL must not contain spaces or control characters, as in {_EXAMPLE_URL}.")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number from 0 to 65535
    except ValueError:
        raise ConfigError(f"The server URL is not a valid URL: check its host and port, as in {_EXAMPLE_URL}.") from None
    if not parts.hostname:
        raise ConfigError(f"The server URL has no host, as in {_EXAMPLE_URL}.")
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))  # the scheme in lower case
    return url if url.endswith("/v1") else url + "/v1"


_EXAMPLE_URL = "http://gpu-host:8000/v1"


def current_user() -> str:
    """Who runs this command, as the operating system names them ("" when it cannot say): the
    name recorded with a look at the test split from the command line."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
