"""``python -m cope_eval triage``: confident disagreements with the gold label, tagged and acted on.

    triage RUN [--min-confidence X] [--json]       list them, most confident first
    triage tag RUN ITEM --gap|--label-error|--clear [--note TEXT] [--author NAME]
    triage relabel RUN --author NAME [--golden HASH]  apply the open label-error tags
    triage gaps POLICY [--done ID | --reopen ID] [--author NAME] [--json]   the policy-gap checklist
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..config import workspace_from_env
from ..records import short_id
from ._options import add_json, threshold_flag
from ._output import print_json
from ._terminal import terminal_safe

if TYPE_CHECKING:
    from ..store import Store

ACTIONS = ("list", "tag", "relabel", "gaps")
# Golden-set text (and ids, categories, notes) is hostile: never let it drive the terminal (as cli_compare),
# nor reorder what is shown (bidirectional overrides and isolates, line and paragraph separators; as cli_clauses).


def add_commands(commands) -> None:
    triage = commands.add_parser("triage", help="list confident disagreements, tag them, relabel, policy gaps",
                                 add_help=False, usage="python -m cope_eval triage {RUN,tag,relabel,gaps} ...")
    triage.add_argument("-h", "--help", action="store_true", dest="triage_help")
    triage.add_argument("rest", nargs=argparse.REMAINDER)
    triage.set_defaults(handler=triage_command)


def triage_command(args) -> int:
    from ..store import Store

    parser = _parser()
    rest = list(args.rest)
    if args.triage_help:
        parser.print_help()
        return 0
    if rest and rest[0] not in ACTIONS and not rest[0].startswith("-"):
        rest.insert(0, "list")
    options = parser.parse_args(rest)
    with Store(workspace_from_env().private_dir) as store:
        return options.action(store, options)


def _parser() -> argparse.ArgumentParser:
    from ..insight import DEFAULT_MIN_CONFIDENCE

    parser = argparse.ArgumentParser(prog="python -m cope_eval triage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(required=True, metavar="{RUN,tag,relabel,gaps}")
    listing = actions.add_parser("list", help="(the default) list a run's confident disagreements")
    listing.add_argument("run_id", metavar="RUN")
    listing.add_argument("--min-confidence", type=threshold_flag("--min-confidence"),
                         default=DEFAULT_MIN_CONFIDENCE, metavar="X",
                         help="P(\"1\") for false positives, 1 - P(\"1\") for false negatives (default %(default)s)")
    add_json(listing, "print them as JSON")
    listing.set_defaults(action=_list)

    tag = actions.add_parser("tag", help="tag one disagreement as a policy gap or a label error")
    tag.add_argument("run_id", metavar="RUN")
    tag.add_argument("item_id", metavar="ITEM")
    kind = tag.add_mutually_exclusive_group(required=True)
    kind.add_argument("--gap", action="store_const", const="policy_gap", dest="tag", help="the policy misses it")
    kind.add_argument("--label-error", action="store_const", const="label_error", dest="tag",
                      help="the gold label is wrong (needs --note: it becomes the relabel reason)")
    kind.add_argument("--clear", action="store_const", const="", dest="tag", help="withdraw the item's tag")
    tag.add_argument("--note", default="")
    tag.add_argument("--author", default="")
    tag.set_defaults(action=_tag)

    relabel = actions.add_parser("relabel", help="correct the gold label of every open label-error tag")
    relabel.add_argument("run_id", metavar="RUN")
    relabel.add_argument("--author", required=True)
    relabel.add_argument("--golden", metavar="HASH",
                         help="version to correct (default: the newest derived from the run's)")
    relabel.set_defaults(action=_relabel)

    gaps = actions.add_parser("gaps", help="a policy's gap checklist; tick one off with --done")
    gaps.add_argument("policy", metavar="POLICY")
    which = gaps.add_mutually_exclusive_group()
    which.add_argument("--done", type=int, metavar="ID", help="mark gap ID done")
    which.add_argument("--reopen", type=int, metavar="ID", help="put gap ID back on the list")
    gaps.add_argument("--author", default="")
    add_json(gaps, "print the checklist as JSON")
    gaps.set_defaults(action=_gaps)
    return parser


def _list(store: Store, args) -> int:
    from ..insight import triage_run

    triage = triage_run(store, args.run_id, min_confidence=args.min_confidence)
    if args.json:
        print_json({"run": triage.run.id, "policy": triage.policy, "threshold": triage.threshold,
                    "min_confidence": triage.min_confidence, "hard_label": triage.hard_label,
                    "scored": triage.scored, "left_out": triage.left_out, "disagreeing": triage.disagreeing,
                    "open_label_errors": triage.open_label_errors, "note": triage.note,
                    "items": triage.items.to_dict(orient="records")})
        return 0
    run = triage.run
    print(f"{run.id}  ({triage.policy}@{short_id(run.policy_version_id, 8)}, {run.model}, threshold {run.threshold:g})")
    print(triage.note)
    if len(triage.items):
        print(f"\n{'kind':<5}{'conf':>7}{'score':>7}{'gold':>5}  {'tag':<18}{'item':<16}text")
    for row in triage.items.itertuples():
        tag = "" if not isinstance(row.tag, str) else f"{row.tag}{' (done)' if row.tag_status == 'done' else ''}"
        print(f"{row.kind:<5}{row.confidence:>7.3f}{row.score:>7.3f}{row.label:>5}  {tag:<18}"
              f"{terminal_safe(row.item_id):<16}{terminal_safe(row.text)[:70]}")
    if triage.open_label_errors:
        print(f"\n{triage.open_label_errors} open label-error tag(s): "
              f"python -m cope_eval triage relabel {run.id} --author NAME")
    return 0


def _tag(store: Store, args) -> int:
    from ..insight import tag_item, untag_item

    if not args.tag:
        cleared = untag_item(store, args.run_id, args.item_id)
        print(f"cleared the tag of {terminal_safe(args.item_id)}" if cleared else f"{terminal_safe(args.item_id)} had no tag")
        return 0
    tag = tag_item(store, args.run_id, args.item_id, args.tag, note=args.note, author=args.author)
    print(f"tag {tag.id}: {terminal_safe(tag.item_id)} is a {tag.tag.replace('_', ' ')} for policy {tag.policy}")
    return 0


def _relabel(store: Store, args) -> int:
    from ..insight import send_label_errors_to_relabeling

    done = send_label_errors_to_relabeling(store, args.run_id, author=args.author, golden_hash=args.golden)
    for row in done.changes.itertuples():
        print(f"{terminal_safe(row.item_id)}: {row.old_label} -> {row.new_label}  (version {short_id(row.golden_hash)})")
    print(f"{len(done.changes)} label(s) corrected; golden set {done.golden.hash} carries them all.")
    return 0


def _gaps(store: Store, args) -> int:
    from ..insight import mark_gap_done, policy_gaps

    if args.done is not None or args.reopen is not None:
        mark_gap_done(store, args.done if args.done is not None else args.reopen, author=args.author,
                      done=args.done is not None)
    gaps = policy_gaps(store, args.policy)
    if args.json:
        print_json(gaps.to_dict(orient="records"))
        return 0
    if gaps.empty:
        print(f"Policy {args.policy!r} has no policy gaps tagged.")
        return 0
    print(f"{(gaps['status'] == 'open').sum()} open, {(gaps['status'] == 'done').sum()} done")
    for row in gaps.itertuples():
        box = "[x]" if row.status == "done" else "[ ]"
        print(f"{box} {row.id:>4}  {terminal_safe(row.note) or '(no note)'}")
        print(f"          {terminal_safe(row.item_id)}: {terminal_safe(row.text)[:70]}  (run {row.run_id}, "
              f"version {short_id(row.policy_version_id)})")
    return 0

