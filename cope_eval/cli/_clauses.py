"""``python -m cope_eval ablate RUN`` and ``attribute RUN_A RUN_B``: which clauses and which
edits decide which items, in a terminal.

Both run the one study loop (``_studies.run_study``): variants are scored by the run's own
server and model (the key as for ``resume``, see ``_options``); stored answers come from the
cache, so running a command again after an interruption (Ctrl-C exits 130) sends only what is
missing.
"""

from __future__ import annotations

from ._studies import add_study_options, run_study
from ._terminal import terminal_safe

# Golden-set text is hostile: never let it drive the terminal (escapes, carriage returns, and
# Unicode line separators and bidi controls that reorder what is shown).
# The library is imported inside the handlers, so that ``--help`` does not load pandas.
DEFAULT_LIMIT = 50


def add_commands(commands) -> None:
    ablate = commands.add_parser("ablate", help="remove each clause of a run's policy in turn; show what it decides")
    ablate.add_argument("run")
    ablate.add_argument("--clauses", metavar="ID,ID", help="only these clauses (ids as --list shows, e.g. includes-2)")
    ablate.add_argument("--list", action="store_true", help="list the policy's clauses and stop (nothing is scored)")
    _shared_options(ablate, "ablation", "score every item, or only those nearest the run's threshold")
    ablate.set_defaults(handler=ablate_command)

    attribute = commands.add_parser("attribute", help="which edit between two runs' policies moved which items")
    attribute.add_argument("run_a", help="the run of the old policy version")
    attribute.add_argument("run_b", help="the run of the new policy version")
    _shared_options(attribute, "attribution",
                    "every item, those whose score moved most from A to B, or those nearest B's threshold")
    attribute.set_defaults(handler=attribute_command)


def _shared_options(parser, kind: str, items_help: str) -> None:
    add_study_options(parser, kind, items_help=items_help, limit_default=DEFAULT_LIMIT,
                      limit_help=f"how many items --items near/moved takes (default {DEFAULT_LIMIT})")
    parser.add_argument("--top", type=int, default=5, metavar="N", help="items shown per clause or hunk")


def ablate_command(args) -> int:
    from ..insight import ABLATION

    if args.list:
        return _list_clauses(args.run)
    clause_ids = [c.strip() for c in args.clauses.split(",") if c.strip()] if args.clauses else None
    def summary(store, study, report, requests) -> str:
        return _ablation_summary(store, study, report, requests, args.top)

    return run_study(args, ABLATION, lambda store: (store.run(args.run), {"clause_ids": clause_ids}), summary)


def attribute_command(args) -> int:
    from ..insight import ATTRIBUTION

    def plan(store):
        return store.run(args.run_b), {"run_a": store.run(args.run_a)}

    def summary(store, study, report, requests) -> str:
        return _attribution_summary(store, study, report, requests, args.top)

    return run_study(args, ATTRIBUTION, plan, summary)


def _ablation_summary(store, study, report, requests: int, top: int) -> str:
    texts = _texts(store, report.base_run_id)
    lines = [f"{study.id}: {_count(len(report.effects), 'clause')} x {_count(report.rescored, 'item')} of "
             f"{report.base_run_id}, {_count(requests, 'request')}"]
    if report.note:
        lines.append(f"note: {report.note}")
    b = report.base
    lines += [f"base at threshold {report.threshold:g}: precision {b.precision:.4f}  recall {b.recall:.4f}  "
              f"f1 {b.f1:.4f}",
              f"\n{'clause':<24}{'Δ precision':>12}{'Δ recall':>10}{'Δ f1':>9}{'fixed':>7}{'broken':>8}"]
    lines += [f"{terminal_safe(e.clause.id, 23):<24}{e.delta['precision']:>+12.4f}{e.delta['recall']:>+10.4f}"
              f"{e.delta['f1']:>+9.4f}{e.fixed:>7}{e.broken:>8}" for e in report.effects]
    for e in report.effects:
        if len(e.decided):
            lines.append(f"\n{e.clause.id} ({terminal_safe(e.clause.section, 40)}): "
                         f"{terminal_safe(e.clause.summary, 80)}")
            lines += [f"  {row.outcome:<7} gold {row.label}  {row.score_base:.3f} -> {row.score_without:.3f}"
                      f"  {terminal_safe(row.item_id, 30)}  {terminal_safe(texts.get(row.item_id, ''), 70)}"
                      for row in e.decided.head(top).itertuples()]
    return "\n".join(lines)


def _attribution_summary(store, study, report, requests: int, top: int) -> str:
    texts = _texts(store, report.run_b_id)
    lines = [f"{study.id}: {_count(len(report.effects), 'hunk')} x {_count(report.rescored, 'item')}, "
             f"A = {report.run_a_id}, B = {report.run_b_id}, {_count(requests, 'request')}",
             f"note: {report.note}"]
    for e in report.effects:
        lines.append(f"\n{e.hunk.id} ({e.hunk.kind}, {e.hunk.where})")
        lines += [f"  - {terminal_safe(line, 100)}" for line in e.hunk.old_lines]
        lines += [f"  + {terminal_safe(line, 100)}" for line in e.hunk.new_lines]
        lines += [f"    ΔP {row.delta_p:+.3f} (A→B {row.total_move:+.3f})  gold {row.label}"
                  f"  {terminal_safe(row.item_id, 30)}  {terminal_safe(texts.get(row.item_id, ''), 60)}"
                  for row in e.top(top).itertuples()]
    return "\n".join(lines)


def _texts(store, run_id: str):
    """Golden text by item id, of the set ``run_id`` scored."""
    return store.golden_set(store.run(run_id).golden_hash).items.set_index("id")["text"]


def _list_clauses(run_id: str) -> int:
    from ..config import workspace_from_env
    from ..policies import split_clauses
    from ..store import Store

    with Store(workspace_from_env().private_dir) as store:
        text = store.policy_version(store.run(run_id).policy_version_id).text
    for clause in split_clauses(text):
        lines = f"{clause.first_line}-{clause.last_line}"
        print(f"{terminal_safe(clause.id, 30):<24}{lines:>8}  {terminal_safe(clause.section, 28):<28}  "
              f"{terminal_safe(clause.summary, 80)}")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
