"""``python -m cope_eval suite``: the sample harm-area policies over their sample golden sets on
this server (and a second server or model with ``--base-url-b``/``--model-b``/``--template-b``), as
the model card's table: per area precision, recall and F1 with 95% intervals, and their
unweighted mean. ``--csv`` and ``--markdown`` write it; ``--json`` prints it.

Side A takes its server as ``run`` does (``--base-url``, ``--model``, ``--template``,
``--answer-mode``, ``--api-key-env``). Side B's flags default to A's; a key is sent to B's server
only when it is A's server, B's template names its service's key, or ``--api-key-env-b`` says so.
Names that reach the terminal (models, golden sets) go through ``terminal_safe``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..config import normalise_base_url, workspace_from_env
from ..errors import ConfigError, CopeEvalError
from ._options import DefaultsHelpFormatter, add_json, add_threshold, count_flag
from ._output import print_json
from ._run import _ProgressBar, _api_key, _concurrency_flag, _endpoint, _say
from ._stop import EXIT_STOPPED, stop_on_sigterm
from ._terminal import terminal_safe

_B_FLAGS = ("base_url_b", "model_b", "template_b", "answer_mode_b", "api_key_env_b")


def add_commands(commands) -> None:
    suite = commands.add_parser("suite", help="the model card's per-area table: sample policies over sample sets",
                                arguments=_suite_arguments, formatter_class=DefaultsHelpFormatter)
    suite.set_defaults(handler=suite_command)


def _suite_arguments(suite: argparse.ArgumentParser) -> None:
    from ..insight import AREAS
    from ..scoring import ANSWER_MODES, DEFAULT_TEMPLATE, TEMPLATES

    suite.add_argument("--areas", type=_areas_flag, default=None, metavar="A,B",
                       help=f"harm areas to run, comma-separated (default: all of {', '.join(AREAS)})")
    suite.add_argument("--golden", action="append", type=_golden_flag, default=[], metavar="AREA=PATH",
                       help="a golden set for an area, in place of its sample or where it has none (repeatable)")
    suite.add_argument("--limit", type=count_flag("--limit"), default=None, metavar="N",
                       help="score at most N items per area (a seeded sample, the same every time)")
    suite.add_argument("--base-url", default=os.environ.get("COPE_BASE_URL"), help="server URL (default $COPE_BASE_URL)")
    suite.add_argument("--model", default=os.environ.get("COPE_MODEL"), help="model name (default $COPE_MODEL, else the server's first)")
    suite.add_argument("--template", choices=list(TEMPLATES), default=DEFAULT_TEMPLATE)
    suite.add_argument("--answer-mode", choices=ANSWER_MODES, default="logprobs")
    suite.add_argument("--api-key-env", metavar="VAR", default="COPE_API_KEY",
                       help="environment variable holding the API key")
    side_b = suite.add_argument_group("side B", "a second server or model, side by side (each defaults to A's)")
    side_b.add_argument("--base-url-b", metavar="URL", help="B's server URL")
    side_b.add_argument("--model-b", metavar="NAME", help="B's model name")
    side_b.add_argument("--template-b", choices=list(TEMPLATES), help="B's prompt template")
    side_b.add_argument("--answer-mode-b", choices=ANSWER_MODES, help="B's answer mode")
    side_b.add_argument("--api-key-env-b", metavar="VAR", help="environment variable holding B's API key")
    add_threshold(suite, "score >= T is \"1\", from 0 to 1, for every run (default: 0.5, as run)")
    suite.add_argument("--concurrency", type=_concurrency_flag, default="auto",
                       help="requests in flight at once: 'auto' or a number, as for run")
    suite.add_argument("--no-cache", action="store_true", help="send every item even when a cached answer exists")
    suite.add_argument("--csv", type=Path, metavar="PATH", help="write the table as CSV")
    suite.add_argument("--markdown", type=Path, metavar="PATH", help="write the table as Markdown")
    add_json(suite, "print the table as JSON")


def _areas_flag(value: str) -> list[str]:
    from ..insight import AREAS

    areas = [a.strip() for a in value.split(",") if a.strip()]
    unknown = [a for a in areas if a not in AREAS]
    if unknown or not areas:
        raise ConfigError(f"--areas: {'unknown area ' + repr(unknown[0]) if unknown else 'no area given'}; "
                          f"choose from {', '.join(AREAS)}.")
    return areas


def _golden_flag(value: str) -> tuple[str, Path]:
    from ..insight import AREAS

    area, separator, path = value.partition("=")
    if not separator or not area.strip() or not path:
        raise ConfigError(f"--golden takes AREA=PATH (e.g. drugs=my-drugs.csv), not {value!r}.")
    if area.strip() not in AREAS:
        raise ConfigError(f"--golden {value}: unknown area {area.strip()!r}; choose from {', '.join(AREAS)}.")
    if not Path(path).is_file():
        raise ConfigError(f"--golden {value}: no such file {path}.")
    return area.strip(), Path(path)


def suite_command(args) -> int:
    from ..export import card_table_csv, card_table_markdown
    from ..insight import create_suite, execute_suite, suite_golden, suite_scores
    from ..metrics import card_table
    from ..store import Store

    for flag, path in (("--csv", args.csv), ("--markdown", args.markdown)):
        if path is not None and (path.is_dir() or not path.parent.is_dir()):
            raise ConfigError(f"{flag} {path}: give a file name in an existing folder.")
    sides = _sides(args)
    workspace = workspace_from_env().ensure()
    golden = suite_golden(workspace.root, areas=args.areas, golden=dict(args.golden))
    threshold = 0.5 if args.threshold is None else args.threshold
    bar = _ProgressBar() if os.isatty(2) else None
    with Store(workspace.private_dir) as store:
        runs = create_suite(store, workspace.root, sides, golden, threshold=threshold, limit=args.limit,
                            concurrency=args.concurrency)
        for member in runs:
            where = "no sample golden set: not run" if member.run_id is None else member.run_id
            _say(f"{member.side} {member.area}: {where}")
        try:
            with stop_on_sigterm() as stop:
                execute_suite(store, runs, sides, workspace_root=workspace.root, progress=bar, cancel=stop,
                              use_cache=not args.no_cache,
                              started=lambda m: _say(f"scoring {m.side} {m.area} ({m.run_id})"))
            stopped = stop.is_set()
        except KeyboardInterrupt:
            stopped = True
        finally:
            if bar:
                bar.close()
        if stopped:
            _say("stopped; continue each area with: python -m cope_eval resume RUN_ID (ids above), "
                 "or run the suite again (scored items come from the cache)")
            return EXIT_STOPPED
        table = card_table(suite_scores(store, runs))
    descriptions = {side.name: side.describe() for side in sides}
    _write(args.csv, "--csv", card_table_csv(table))
    _write(args.markdown, "--markdown", card_table_markdown(table, descriptions=descriptions))
    if args.json:
        print_json({**table.to_dict(), "descriptions": descriptions})
    else:
        print(_terminal_table(table, descriptions))
    return 0


def _sides(args) -> list:
    """Side A from ``run``'s flags, and side B when any ``-b`` flag is given."""
    from ..insight import SuiteSide, side_b
    from ..scoring import TEMPLATES

    template = TEMPLATES[args.template]
    base_url = args.base_url if args.base_url is not None else template.default_base_url
    key_env = args.api_key_env
    if template.key_env_var is not None and key_env == "COPE_API_KEY":
        key_env = template.key_env_var
    if not base_url:
        raise ConfigError("No server: pass --base-url or set COPE_BASE_URL (`make serve-local` starts one here).")
    endpoint = _endpoint(normalise_base_url(base_url), args.model, _api_key(key_env))
    sides = [SuiteSide("A", endpoint, args.template, args.answer_mode)]
    if all(getattr(args, flag) is None for flag in _B_FLAGS):
        return sides
    own_key = None if args.api_key_env_b is None else _key(args.api_key_env_b, "--api-key-env-b")
    return sides + [side_b(sides[0], base_url=args.base_url_b, model=args.model_b, template=args.template_b,
                           answer_mode=args.answer_mode_b, own_key=own_key,
                           template_key=lambda variable: _key(variable, "--api-key-env-b"),
                           first_model=lambda url, key: _endpoint(url, None, key).model)]


def _key(variable: str, flag: str) -> str | None:
    if variable not in os.environ:
        raise ConfigError(f"{flag} {variable}: that environment variable is not set.")
    return os.environ[variable] or None


def _write(path: Path | None, flag: str, text: str) -> None:
    from .._util.atomic_files import replace_atomic

    if path is None:
        return
    try:
        replace_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise CopeEvalError(f"Cannot write {flag} {path}: {exc.strerror or exc}. The runs are stored: "
                            "running the suite again writes it from the cache.") from None


def _terminal_table(table, descriptions: dict[str, str]) -> str:
    from ..metrics import AREA_NO_GOLDEN, AREA_SCORED, SHOWN

    lines = [f"{side} = {terminal_safe(text)}" for side, text in descriptions.items()]
    header = f"{'area':<16}" + "".join(f"{side + ' ' + m:>24}" for side in table.sides for m in SHOWN)
    lines += ["", header]
    for area in table.areas:
        cells = []
        for side in table.sides:
            row = table.side(side).loc[area]
            scored = row["status"] == AREA_SCORED
            cells += [_cell(row, m) if scored else f"{row['status']:>24}"[:24] for m in SHOWN]
        lines.append(f"{area:<16}" + "".join(f"{c:>24}" for c in cells))
    mean_cells = [_cell(table.mean.loc[side], m) if table.mean.loc[side, "areas_in_mean"] else "no scored area"
                  for side in table.sides for m in SHOWN]
    lines.append(f"{'mean':<16}" + "".join(f"{c:>24}" for c in mean_cells))
    counts = ", ".join(f"{side}: {int(table.mean.loc[side, 'areas_in_mean'])}" for side in table.sides)
    lines += [f"mean: unweighted over the areas with scores ({counts} areas); {table.confidence:.0%} bootstrap "
              "intervals, each area resampled on its own", "", "runs:"]
    for row in table.rows.to_dict(orient="records"):
        if row["status"] == AREA_NO_GOLDEN:
            continue
        lines.append(f"  {row['side']} {row['area']:<15} {row['run_id']}  policy {row['policy_version_id'][:19]}  "
                     f"golden {terminal_safe(row['golden_name'], 40)} ({row['golden_hash'][:19]})  "
                     f"threshold {row['threshold']:g}  {row['n']:,} scored, {row['errors']:,} errored")
    return "\n".join(lines)


def _cell(row, metric: str) -> str:
    return f"{row[metric]:.3f} [{row[f'{metric}_low']:.2f}-{row[f'{metric}_high']:.2f}]"
