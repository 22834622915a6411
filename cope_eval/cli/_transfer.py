"""``cope-eval transfer RUN_A RUN_B --keep precision|recall|flag-rate``: run B's threshold that keeps
run A's operating point, and what else changes there."""

from __future__ import annotations

from ..config import workspace_from_env
from ._options import add_json, add_threshold
from ._output import print_json

KEEP_CHOICES = ("precision", "recall", "flag-rate")
"""``metrics.KEEPS``, repeated here so that building the parser imports no library (a test keeps
them equal)."""


def add_commands(commands) -> None:
    transfer = commands.add_parser(
        "transfer", help="find run B's threshold that keeps run A's precision, recall or flag rate")
    transfer.add_argument("run_a", metavar="RUN_A", help="the run whose operating point is kept")
    transfer.add_argument("run_b", metavar="RUN_B", help="the run it is carried to (another model, template...)")
    transfer.add_argument("--keep", required=True, choices=KEEP_CHOICES,
                          help="what to keep: precision, recall, or flag-rate (the share of items flagged)")
    add_threshold(transfer, "run A's threshold, from 0 to 1 (default: run A's own)")
    transfer.add_argument("--allow-different", action="store_true",
                          help="transfer between runs of different policy versions or golden sets (on the items "
                               "both scored)")
    add_json(transfer, "print the transfer as JSON")
    transfer.set_defaults(handler=transfer_command)


def transfer_command(args) -> int:
    from ..export import transfer_runs
    from ..store import Store

    with Store(workspace_from_env().private_dir) as store:
        result = transfer_runs(store, args.run_a, args.run_b, keep=args.keep, threshold_a=args.threshold,
                               allow_different=args.allow_different)
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"A = {result.run_a}  threshold {result.threshold_a:g}")
    print(f"B = {result.run_b}  threshold {result.threshold_b:.6g}" + ("" if result.reachable else "  (closest)"))
    print(result.items)
    print(f"\n{result.rationale}")
    if result.note:
        print(f"({result.note})")
    level = f"{result.confidence:.0%} CI"
    print(f"\n{'metric':<12}{'A':>8}{'B':>8}{'B - A':>9}   {level} of B - A")
    for name, change in result.changes.items():
        d = change.change
        print(f"{name:<12}{change.a.estimate:>8.3f}{change.b.estimate:>8.3f}{d.estimate:>+9.3f}   "
              f"[{d.low:+.3f}, {d.high:+.3f}]")
    return 0
