"""What several commands share: the flags they repeat (a run, a threshold, a key variable, ``--json``)
and which API key the CLI sends to a stored run's server (``resume``, ``probe``, ``ablate``,
``attribute``).

Only the standard library and the light vocabulary (errors, config, records) are imported here:
building the parser must stay fast (``--help``).
A flag's check that needs the library imports it when a value is given.

A key belongs to the server it was configured for, and is never sent to another.
``--api-key-env VAR`` names the key for the run's server outright. Without it, a run whose
template names its service's key (``Template.key_env_var``: ``ZENTROPI_API_KEY`` for Zentropi)
uses that; any other run gets ``COPE_API_KEY`` when ``COPE_BASE_URL`` is the run's
server, or when ``COPE_BASE_URL`` is unset (the key then goes with whatever server the user names,
as it does for ``run --base-url``), and no key when ``COPE_BASE_URL`` is another server.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable

from ..config import server_from_env
from ..errors import ConfigError
from ..records import Run


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows a flag's default when it has one worth saying: not "(default: None)" or
    "(default: [])", not for an on/off flag, nor again for a flag whose help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default == [] or action.nargs == 0 or "(default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


def key_for_run(run: Run, variable: str | None = None) -> str | None:
    """The key to send to ``run``'s server, or None."""
    if variable is None:
        from ..scoring import get_template  # here: the parser is built without the scoring code

        variable = get_template(run.template).key_env_var
    if variable is not None:
        if variable not in os.environ:
            raise ConfigError(f"--api-key-env {variable}: that environment variable is not set.")
        return os.environ[variable] or None
    setting = server_from_env()
    if setting.base_url is not None and setting.base_url != run.base_url:
        return None
    return setting.api_key


STORED_RUN_KEY_HELP = ("environment variable holding the run's server key "
                       "(default: COPE_API_KEY unless COPE_BASE_URL is another server)")
"""``--api-key-env`` for a command that sends to a stored run's server (``key_for_run``)."""


def threshold_flag(source: str) -> Callable[[str], float]:
    """An argparse ``type`` for a flag that is a number from 0 to 1 (``metrics.check_threshold``,
    whose ``ConfigError`` names ``source``, the flag)."""
    def check(value: str) -> float:
        from ..metrics import check_threshold  # the library only once a value is given

        return check_threshold(value, source=source)

    return check


def positive_flag(flag: str) -> Callable[[str], float]:
    """An argparse ``type``: a number above 0, else a ConfigError naming ``flag``."""
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (number > 0 and math.isfinite(number)):
            raise ConfigError(f"{flag} must be a number above 0, got {value!r}")
        return number

    return parse


def number_flag(source: str) -> Callable[[str], float]:
    """An argparse ``type``: any finite number, else a ConfigError naming ``source``, the flag."""
    def check(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ConfigError(f"{source} must be a number, not {value}.")
        return number

    return check


def count_flag(source: str) -> Callable[[str], int]:
    """An argparse ``type``: a whole number of at least 1, else a ConfigError naming ``source``, the flag."""
    def check(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            raise ConfigError(f"{source} must be a whole number of at least 1, not {value}.")
        return number

    return check


def add_threshold(parser, help: str, *, default: float | None = None) -> None:
    """``--threshold T``: score >= T is "1". ``parser`` may be a parser or a group of one."""
    parser.add_argument("--threshold", type=threshold_flag("--threshold"), default=default, metavar="T",
                        help=help)


def add_run(parser) -> None:
    """``--run RUN_ID`` (required): the stored run a command acts on."""
    parser.add_argument("--run", required=True, metavar="RUN_ID")


def add_api_key_env(parser, help: str = STORED_RUN_KEY_HELP, *, default: str | None = None) -> None:
    """``--api-key-env VAR``: the environment variable holding the key to send."""
    parser.add_argument("--api-key-env", metavar="VAR", default=default, help=help)


def add_json(parser, help: str) -> None:
    """``--json``: print the result as JSON (through ``_output.print_json``) instead of a table."""
    parser.add_argument("--json", action="store_true", help=help)
