"""``python -m cope_eval ablate RUN`` and ``attribute RUN_A RUN_B``: which clauses and which
edits decide which items, in a terminal.

Variants are scored by the run's own server and model (the key as for ``resume``, see
``cli_keys``); stored answers come from the cache, so running a command again after an
interruption sends only what is missing.
"""

from __future__ import annotations

import json
import sys

from ..config import workspace_from_env
from ..errors import CopeEvalError
from ..insight import (
    ABLATION_ITEMS, ATTRIBUTION_ITEMS, StudyProgress, ablation_report, attribution_report,
    create_ablation, create_attribution, execute_study, study_status
)
from ..policies import split_clauses
from ..records import Endpoint, Run, Study
from ..store import Store
from ._options import key_for_run
from ._terminal import terminal_safe

# Golden-set text is hostile: never let it drive the terminal (escapes, carriage returns, and
# Unicode line separators and bidi controls that reorder what is shown).
DEFAULT_LIMIT = 50


def add_commands(commands) -> None:
    ablate = commands.add_parser("ablate", help="remove each clause of a run's policy in turn; show what it decides")
    ablate.add_argument("run")
    ablate.add_argument("--items", choices=ABLATION_ITEMS, default="all",
                        help="score every item, or only those nearest the run's threshold")
    ablate.add_argument("--clauses", metavar="ID,ID", help="only these clauses (ids as --list shows, e.g. includes-2)")
    ablate.add_argument("--list", action="store_true", help="list the policy's clauses and stop (nothing is scored)")
    _shared_options(ablate)
    ablate.set_defaults(handler=ablate_command)

    attribute = commands.add_parser("attribute", help="which edit between two runs' policies moved which items")
    attribute.add_argument("run_a", help="the run of the old policy version")
    attribute.add_argument("run_b", help="the run of the new policy version")
    attribute.add_argument("--items", choices=ATTRIBUTION_ITEMS, default="all",
                           help="every item, those whose score moved most from A to B, or those nearest B's threshold")
    _shared_options(attribute)
    attribute.set_defaults(handler=attribute_command)


def _shared_options(parser) -> None:
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                        help=f"how many items --items near/moved takes (default {DEFAULT_LIMIT})")
    parser.add_argument("--top", type=int, default=5, metavar="N", help="items shown per clause or hunk")
    parser.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the run's server key "
                        "(default: COPE_API_KEY unless COPE_BASE_URL is another server)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def ablate_command(args) -> int:
    workspace = workspace_from_env()
    with Store(workspace.private_dir) as store:
        run = store.run(args.run)
        if args.list:
            return _list_clauses(store.policy_version(run.policy_version_id).text)
        clause_ids = [c.strip() for c in args.clauses.split(",") if c.strip()] if args.clauses else None
        study = create_ablation(store, run, clause_ids=clause_ids, items=args.items, limit=_limit(args))
        requests = _execute(store, study, run, args.api_key_env, workspace.root)
        report = ablation_report(store, study.id)
        texts = store.golden_set(run.golden_hash).items.set_index("id")["text"]
    if args.json:
        print(json.dumps({**report.to_dict(), "requests": requests}, indent=2, default=str))
        return 0
    print(f"{study.id}: {_count(len(report.effects), 'clause')} x {_count(report.rescored, 'item')} of {run.id}, "
          f"{_count(requests, 'request')}")
    if report.note:
        print(f"note: {report.note}")
    b = report.base
    print(f"base at threshold {report.threshold:g}: precision {b.precision:.4f}  recall {b.recall:.4f}  f1 {b.f1:.4f}")
    print(f"\n{'clause':<24}{'Δ precision':>12}{'Δ recall':>10}{'Δ f1':>9}{'fixed':>7}{'broken':>8}")
    for e in report.effects:
        print(f"{terminal_safe(e.clause.id, 23):<24}{e.delta['precision']:>+12.4f}{e.delta['recall']:>+10.4f}"
              f"{e.delta['f1']:>+9.4f}{e.fixed:>7}{e.broken:>8}")
    for e in report.effects:
        if len(e.decided):
            print(f"\n{e.clause.id} ({terminal_safe(e.clause.section, 40)}): {terminal_safe(e.clause.summary, 80)}")
            for row in e.decided.head(args.top).itertuples():
                print(f"  {row.outcome:<7} gold {row.label}  {row.score_base:.3f} -> {row.score_without:.3f}"
                      f"  {terminal_safe(row.item_id, 30)}  {terminal_safe(texts.get(row.item_id, ''), 70)}")
    return 0


def attribute_command(args) -> int:
    workspace = workspace_from_env()
    with Store(workspace.private_dir) as store:
        run_a, run_b = store.run(args.run_a), store.run(args.run_b)
        study = create_attribution(store, run_a, run_b, items=args.items, limit=_limit(args))
        requests = _execute(store, study, run_b, args.api_key_env, workspace.root)
        report = attribution_report(store, study.id)
        texts = store.golden_set(run_b.golden_hash).items.set_index("id")["text"]
    if args.json:
        print(json.dumps({**report.to_dict(), "requests": requests}, indent=2, default=str))
        return 0
    print(f"{study.id}: {_count(len(report.effects), 'hunk')} x {_count(report.rescored, 'item')}, A = {run_a.id}, "
          f"B = {run_b.id}, {_count(requests, 'request')}")
    print(f"note: {report.note}")
    for e in report.effects:
        print(f"\n{e.hunk.id} ({e.hunk.kind}, {e.hunk.where})")
        for line in e.hunk.old_lines:
            print(f"  - {terminal_safe(line, 100)}")
        for line in e.hunk.new_lines:
            print(f"  + {terminal_safe(line, 100)}")
        for row in e.top(args.top).itertuples():
            print(f"    ΔP {row.delta_p:+.3f} (A→B {row.total_move:+.3f})  gold {row.label}"
                  f"  {terminal_safe(row.item_id, 30)}  {terminal_safe(texts.get(row.item_id, ''), 60)}")
    return 0


def _list_clauses(text: str) -> int:
    for clause in split_clauses(text):
        lines = f"{clause.first_line}-{clause.last_line}"
        print(f"{terminal_safe(clause.id, 30):<24}{lines:>8}  {terminal_safe(clause.section, 28):<28}  {terminal_safe(clause.summary, 80)}")
    return 0


def _execute(store: Store, study: Study, run: Run, api_key_env: str | None, root) -> int:
    endpoint = Endpoint(run.base_url, run.model, key_for_run(run, api_key_env))
    bar = _progress if sys.stderr.isatty() else None
    try:
        requests = execute_study(store, study.id, endpoint, workspace_root=root, progress=bar)
    except KeyboardInterrupt:
        requests = None
    if bar:
        sys.stderr.write("\n")
    status = study_status(store, study)
    if requests is None or status != "completed":
        raise CopeEvalError(f"study {study.id} is {'interrupted' if requests is None else status}; run the same "
                            "command again to finish it (answers already stored come from the cache)")
    return requests


def _progress(p: StudyProgress) -> None:
    current = f" · {p.current.done:,}/{p.current.total:,} items" if p.current else ""
    sys.stderr.write(f"\rvariant {min(p.runs_done + 1, p.runs_total)}/{p.runs_total}{current}   ")
    sys.stderr.flush()


def _limit(args) -> int | None:
    return None if args.items == "all" else args.limit


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"

