"""Command line: ``python -m cope_eval <command>``. Errors become one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import sys

from . import cli_clauses, cli_compare, cli_export, cli_insight, cli_run, cli_triage, local_server, local_setup
from .errors import CopeEvalError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CopeEvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cope_eval", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve-local", help="start (or reuse) the bundled local vLLM server")
    serve.add_argument("--port", type=int, default=None, help=f"default $COPE_LOCAL_PORT or {local_server.DEFAULT_PORT}")
    action = serve.add_mutually_exclusive_group()
    action.add_argument("--prepare", action="store_true", help="only install the server venv and model")
    action.add_argument("--status", action="store_true", help="say whether it is running")
    action.add_argument("--stop", action="store_true", help="stop it")
    serve.set_defaults(handler=_serve_local)

    app = commands.add_parser("app", help="start the web app (and the local server unless COPE_BASE_URL is set)")
    app.add_argument("--port", type=int, default=8501)
    app.set_defaults(handler=lambda args: _launch(args))

    cli_run.add_commands(commands)
    cli_export.add_commands(commands)
    cli_compare.add_commands(commands)
    cli_insight.add_commands(commands)
    cli_clauses.add_commands(commands)
    cli_triage.add_commands(commands)
    return parser


def _serve_local(args) -> int:
    if args.prepare:
        print(f"Local server files ready in {local_setup.prepare(progress=_say)}")
    elif args.status:
        server = local_server.status(args.port)
        print(f"running: {server.base_url} model={server.model} pid={server.pid}" if server else "not running")
        return 0 if server else 1
    elif args.stop:
        print("stopped" if local_server.stop(args.port) else "not running")
    else:
        server = local_server.ensure_running(args.port, progress=_say)
        print(f"COPE_BASE_URL={server.base_url} COPE_MODEL={server.model} (pid {server.pid}; "
              f"stop with: python -m cope_eval serve-local --stop)")
    return 0


def _launch(args) -> int:
    from .launcher import launch_app

    return launch_app(port=args.port)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
