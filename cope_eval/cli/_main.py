"""Command line: ``cope-eval <command>`` (or ``python -m cope_eval``). Errors become one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable

from ..config import workspace_from_env
from ..errors import CopeEvalError
from . import (
    _clauses as cli_clauses, _compare as cli_compare, _export as cli_export, _fairness as cli_fairness,
    _insight as cli_insight, _run as cli_run, _split as cli_split, _suggest as cli_suggest, _suite as cli_suite,
    _transfer as cli_transfer, _triage as cli_triage
)

# Starting fast: this module and every command module import only the standard library and the
# light vocabulary (errors, config, records) at the top; the library is imported by the handler that uses it,
# and a command's flags that need it are added when that command is used (``CommandParser``), so
# ``--help`` imports no pandas. tests/test_import_isolation.py keeps it so.

REMEDIES = {
    **{f"{role}_column": f"say which column holds the {role} with --{role}-column"
       for role in ("text", "image", "video", "id", "category")},
    "label_column": "say which column holds the gold label with --label-column",
    "label_rule": "turn other label values into 0/1 with --label-threshold T or --label-map 'yes=1,no=0'",
    "delimiter": "choose the delimiter with --delimiter",
    "encoding": "choose the encoding with --encoding",
    "intersect": "compare only the items that match with --intersect",
    "overwrite": "or replace them with --overwrite",
    "group_column": "name a metadata column with --by COLUMN",
    "cut": "add --cut X",
    "no_cut": "or leave out --cut to make each value a group",
    "min_items": "set it with --min-items N",
    "allow_different": "carry it over anyway, on the items both runs scored, with --allow-different",
    "replace_draft": "or replace it with --replace-draft",
    "side_b": "give B another --base-url-b, --model-b, --template-b or --answer-mode-b",
    "reveal_test": "add --reveal-test to look at them on purpose (each look is recorded for the policy)",
}
"""How the CLI fixes what an error's ``options`` name (``CopeEvalError.with_remedies``)."""


def main(argv: list[str] | None = None) -> int:
    try:
        # Parsing is inside the try: a flag checked by its ``type`` (metrics.check_threshold)
        # raises ConfigError through argparse, and is reported like every other mistake.
        args = _parser().parse_args(argv)
        return args.handler(args)
    except CopeEvalError as exc:
        return _fail(exc.with_remedies(REMEDIES))
    except sqlite3.Error as exc:  # only the store speaks SQL: a full disk or a read-only workspace
        return _fail(f"the workspace store {_store_path()} failed: {exc}; is the disk full or the folder read-only?")
    except OSError as exc:  # a file the command reads or writes: no space, no permission, not a folder...
        return _fail(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))


def _fail(message: str) -> int:
    print(f"error: {message}".replace("\n", " "), file=sys.stderr)  # one line, whatever it quotes
    return 2


def _store_path() -> str:
    try:
        return str(workspace_from_env().db_path)
    except CopeEvalError:
        return "(COPE_EVAL_HOME)"


class CommandParser(argparse.ArgumentParser):
    """One command's parser. ``arguments(parser)``, when given, adds the command's flags the first
    time the command is parsed or its help is shown: it may import the library (for a list of
    choices, a default), which listing the commands must not."""

    def __init__(self, *args, arguments: Callable[[argparse.ArgumentParser], None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._arguments = arguments

    def parse_known_args(self, args=None, namespace=None):
        self._add_arguments()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._add_arguments()
        return super().format_usage()

    def format_help(self) -> str:
        self._add_arguments()
        return super().format_help()

    def _add_arguments(self) -> None:
        if self._arguments is not None:
            add, self._arguments = self._arguments, None
            add(self)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cope-eval", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=CommandParser)

    serve = commands.add_parser("serve-local", help="start (or reuse) the bundled local vLLM server",
                                arguments=_serve_local_arguments)
    serve.set_defaults(handler=_serve_local)

    app = commands.add_parser("app", help="start the web app (and the local server unless COPE_BASE_URL is set)")
    app.add_argument("--port", type=int, default=8501)
    app.add_argument("--address", default=None, metavar="ADDR",
                     help="the address to listen on (default $COPE_ADDRESS or 127.0.0.1, this machine only); "
                          "another address lets others reach the app: configure sign-in ([auth], see README)")
    app.set_defaults(handler=lambda args: _launch(args))

    cli_run.add_commands(commands)
    cli_export.add_commands(commands)
    cli_compare.add_commands(commands)
    cli_fairness.add_commands(commands)
    cli_transfer.add_commands(commands)
    cli_insight.add_commands(commands)
    cli_clauses.add_commands(commands)
    cli_triage.add_commands(commands)
    cli_suite.add_commands(commands)
    cli_split.add_commands(commands)
    cli_suggest.add_commands(commands)
    return parser


def _serve_local_arguments(serve: argparse.ArgumentParser) -> None:
    from ..local import DEFAULT_PORT

    serve.add_argument("--port", type=int, default=None, help=f"default $COPE_LOCAL_PORT or {DEFAULT_PORT}")
    action = serve.add_mutually_exclusive_group()
    action.add_argument("--prepare", action="store_true", help="only install the server venv and model")
    action.add_argument("--status", action="store_true", help="say whether it is running")
    action.add_argument("--stop", action="store_true", help="stop it")


def _serve_local(args) -> int:
    from .. import local

    if args.prepare:
        print(f"Local server files ready in {local.prepare(progress=_say)}")
    elif args.status:
        server = local.status(args.port)
        print(f"running: {server.base_url} model={server.model} pid={server.pid}" if server else "not running")
        return 0 if server else 1
    elif args.stop:
        print("stopped" if local.stop(args.port) else "not running")
    else:
        server = local.ensure_running(args.port, progress=_say)
        print(f"COPE_BASE_URL={server.base_url} COPE_MODEL={server.model} (pid {server.pid}; "
              f"stop with: python -m cope_eval serve-local --stop)")
    return 0


def _launch(args) -> int:
    from ..app import launch_app

    return launch_app(port=args.port, address=args.address)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
