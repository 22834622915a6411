"""The one loop of every study command (``probe``, ``ablate``, ``attribute``): create the study,
score its variants with progress on stderr, print its report as text or ``--json``.

Variants go to the base run's own server and model, with the key ``_options.key_for_run``
chooses. Ctrl-C exits 130 (the shell's code for an interrupt) for every study command: the store
keeps every answer scored so far, and running the same command again sends only what is missing
(its new study finds the stored answers in the cache).

The library is imported inside the functions, so that ``--help`` does not load pandas.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ..errors import CopeEvalError
from ._output import print_json
from ._stop import EXIT_STOPPED, stop_on_sigterm
from ._terminal import terminal_safe

ITEMS = {"probes": ("all", "sample", "near"), "ablation": ("all", "near"),
         "attribution": ("all", "moved", "near")}
"""Each kind's ``--items`` choices (``StudyKind.selections``), written out so that building the
parser imports no library module; ``tests/test_cli_studies.py`` keeps them equal."""


def add_study_options(parser, kind: str, *, items_help: str, limit_default: int | None,
                      limit_help: str) -> None:
    """The options every study command shares: ``--items``, ``--limit``, ``--api-key-env``, ``--json``."""
    parser.add_argument("--items", choices=ITEMS[kind], default="all", help=items_help)
    parser.add_argument("--limit", type=int, default=limit_default, metavar="N", help=limit_help)
    parser.add_argument("--api-key-env", metavar="VAR",
                        help="environment variable holding the run's server key "
                             "(default: COPE_API_KEY unless COPE_BASE_URL is another server)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run_study(args, kind, plan: Callable[[Any], tuple[Any, dict]],
              summary: Callable[[Any, Any, Any, int], str],
              verdict: Callable[[Any], int] = lambda report: 0) -> int:
    """Create a study of ``kind`` (a ``StudyKind``), score it, print its report; the exit code.

    ``plan(store)`` gives the base run and the options ``StudyKind.create`` takes beside
    ``--items`` and ``--limit`` (a seed, clause ids, run A);
    ``summary(store, study, report, requests)`` is the text report; ``verdict(report)`` the exit
    code of a finished study (``probe`` fails a model that does not follow the policy).
    """
    from ..config import workspace_from_env
    from ..records import Endpoint
    from ..store import Store
    from ._options import key_for_run

    workspace = workspace_from_env().ensure()
    with Store(workspace.private_dir) as store:
        run, options = plan(store)
        endpoint = Endpoint(run.base_url, run.model, key_for_run(run, args.api_key_env))  # before creating
        study = kind.create(store, run, items=args.items, limit=None if args.items == "all" else args.limit,
                            **options)
        _say(f"{study.id}: {study.params['items']:,} items x {len(study.runs)} variants "
             f"on {terminal_safe(run.model)} at {terminal_safe(run.base_url)}")
        requests = execute_study_command(store, study, endpoint, workspace.root)
        if requests is None:
            _say(f"interrupted: study {study.id} stopped; the store keeps every answer scored so far. "
                 "Run the same command again to finish: those answers come from the cache.")
            return EXIT_STOPPED
        report = kind.report(store, study.id)
        if args.json:
            print_json({**report.to_dict(), "requests": requests})
        else:
            print(summary(store, study, report, requests))
    return verdict(report)


def execute_study_command(store, study, endpoint, workspace_root) -> int | None:
    """Score every variant; the requests sent, or None after Ctrl-C or SIGTERM (``_stop``). Raises
    when the study did not finish otherwise (a server that went away, a run that failed)."""
    from ..insight import execute_study, study_status

    bar = _progress if sys.stderr.isatty() else None
    try:
        with stop_on_sigterm() as stop:
            requests = execute_study(store, study.id, endpoint, workspace_root=workspace_root, progress=bar,
                                     cancel=stop)
    except KeyboardInterrupt:
        return None
    finally:
        if bar:
            sys.stderr.write("\n")
    if stop.is_set():
        return None
    status = study_status(store, study)
    if status != "completed":
        failed = next((error for m in study.runs if (error := store.run(m.run_id).error)), None)
        raise CopeEvalError(f"study {study.id} is {status}: {failed or 'not every item was scored'}; run the "
                            "same command again to finish it (answers already stored come from the cache)")
    return requests


def _progress(p) -> None:
    current = ""
    if p.current:
        current = f" · {p.current.done:,}/{p.current.total:,} items, {p.current.errors:,} errors"
    sys.stderr.write(f"\rvariant {min(p.runs_done + 1, p.runs_total)}/{p.runs_total}{current}   ")
    sys.stderr.flush()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
