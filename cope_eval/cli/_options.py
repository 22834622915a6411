"""Which API key the CLI sends to a stored run's server (``resume``, ``probe``, ``ablate``,
``attribute``).

A key belongs to the server it was configured for, and is never sent to another.
``--api-key-env VAR`` names the key for the run's server outright. Without it, a run whose
template names its service's key (``Template.key_env_var``: ``ZENTROPI_API_KEY`` for Zentropi)
uses that; any other run gets ``COPE_API_KEY`` when ``COPE_BASE_URL`` is the run's
server, or when ``COPE_BASE_URL`` is unset (the key then goes with whatever server the user names,
as it does for ``run --base-url``), and no key when ``COPE_BASE_URL`` is another server.
"""

from __future__ import annotations

import os

from ..config import server_from_env
from ..errors import ConfigError
from ..records import Run
from ..scoring import get_template


def key_for_run(run: Run, variable: str | None = None) -> str | None:
    """The key to send to ``run``'s server, or None."""
    if variable is None:
        variable = get_template(run.template).key_env_var
    if variable is not None:
        if variable not in os.environ:
            raise ConfigError(f"--api-key-env {variable}: that environment variable is not set.")
        return os.environ[variable] or None
    setting = server_from_env()
    if setting.base_url is not None and setting.base_url != run.base_url:
        return None
    return setting.api_key
