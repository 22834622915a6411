"""``python -m cope_eval fairness RUN [RUN_B] --by COLUMN``: error rates per group of a metadata
column, the disparities between groups and, with RUN_B, whether B narrowed or widened them.

Group names are golden-set content (hostile): printed through ``terminal_safe``.
"""

from __future__ import annotations

from ._options import add_json, add_threshold, count_flag, number_flag
from ._output import print_json
from ._terminal import terminal_safe

TOO_FEW_SHOWN = 20
"""Too-few groups listed by name in the table; the rest are counted (10,000 groups stay readable)."""
_NAMES = {"fpr_gap": "FPR gap", "fnr_gap": "FNR gap", "flag_rate_ratio": "flag-rate ratio"}


def add_commands(commands) -> None:
    fairness = commands.add_parser(
        "fairness", help="error rates per group of a metadata column, and the gaps between groups")
    fairness.add_argument("run_a", metavar="RUN")
    fairness.add_argument("run_b", metavar="RUN_B", nargs="?",
                          help="a second run: compare its disparities with RUN's")
    fairness.add_argument("--by", action="append", required=True, metavar="COLUMN",
                          help="metadata column to group items by (each value a group); repeat it with --cut "
                               "to make each column a group")
    fairness.add_argument("--cut", type=number_flag("--cut"), default=None, metavar="X",
                          help="an item is in a --by column's group when its value is >= X")
    add_threshold(fairness, "flag items with score >= T, from 0 to 1 (default: each run's own threshold)")
    fairness.add_argument("--min-items", type=count_flag("--min-items"), default=30, metavar="N",
                          help="groups with fewer scored items are marked too few and not ranked")
    add_json(fairness, "print the groups and disparities as JSON")
    fairness.set_defaults(handler=fairness_command)


def fairness_command(args) -> int:
    from ..config import workspace_from_env
    from ..metrics import compare_fairness, group_rates, membership
    from ..store import Store, run_results

    ids = [args.run_a] + ([args.run_b] if args.run_b else [])
    with Store(workspace_from_env().private_dir) as store:
        runs = [store.run(run_id) for run_id in ids]
        results = [run_results(store, run.id) for run in runs]
    rates = []
    for run, frame in zip(runs, results):
        threshold = run.threshold if args.threshold is None else args.threshold
        groups = membership(frame, args.by, cut=args.cut)
        rates.append(group_rates(frame, groups=groups, threshold=threshold, min_items=args.min_items))
    comparison = compare_fairness(*rates) if len(rates) == 2 else None
    if args.json:
        payload = {"by": args.by, "cut": args.cut,
                   "runs": [{"run": run.id, **r.to_dict()} for run, r in zip(runs, rates)]}
        if comparison is not None:
            payload["comparison"] = comparison.reset_index().to_dict(orient="records")
        print_json(payload)
        return 0
    how = f"value >= {args.cut:g} in each of " if args.cut is not None else "each value of "
    print(f"groups: {how}{', '.join(terminal_safe(c) for c in args.by)}")
    for label, run, r in zip("AB", runs, rates):
        print(f"\n{label} = {run.id}  ({run.policy_version_id[:19]}, {terminal_safe(run.model)}), threshold {r.threshold:g}, "
              f"{r.items - r.errors:,} scored, {r.errors:,} errored")
        print(_group_table(r))
        print(_disparities(r))
    if comparison is not None:
        print(_comparison(comparison))
    return 0


def _group_table(r) -> str:
    rows = r.rows
    lines = [f"\n{'group':<28}{'n':>7}{'err':>6}{'pos':>6}{'neg':>6}{'flag':>6}"
             + "".join(f"{h:>22}" for h in ("precision", "recall", "FPR", "FNR", "flag rate"))]
    ranked, too_few = rows[~rows["too_few"]], rows[rows["too_few"]]
    for name, row in list(ranked.iterrows()) + list(too_few.head(TOO_FEW_SHOWN).iterrows()):
        cells = "".join(f"{_rate(row, rate):>22}" for rate in ("precision", "recall", "fpr", "fnr", "flag_rate"))
        mark = f"  too few ({r.min_items} needed)" if row["too_few"] else ""
        lines.append(f"{terminal_safe(name, 27):<28}{row['n']:>7,}{row['errors']:>6,}{row['positives']:>6,}"
                     f"{row['negatives']:>6,}{row['flagged']:>6,}{cells}{mark}")
    if len(too_few) > TOO_FEW_SHOWN:
        lines.append(f"... and {len(too_few) - TOO_FEW_SHOWN:,} more groups with too few items "
                     f"(fewer than {r.min_items} scored)")
    lines.append(f"{len(ranked):,} groups ranked, {len(too_few):,} too few; intervals {r.confidence:.0%} (Wilson); "
                 "n/a: undefined (no flagged, gold-1 or gold-0 item)")
    return "\n".join(lines)


def _rate(row, rate: str) -> str:
    value = row[rate]
    if value != value:
        return "n/a"
    return f"{value:.3f} [{row[f'{rate}_low']:.2f}-{row[f'{rate}_high']:.2f}]"


def _disparities(r) -> str:
    lines = [f"\ndisparities (groups with enough items; {r.confidence:.0%} simultaneous bootstrap interval):"]
    for name, d in r.disparities.items():
        if d.estimate != d.estimate:
            lines.append(f"  {_NAMES[name]:<16} n/a: {d.note}")
            continue
        which = (f"{terminal_safe(d.low_group, 40)} / {terminal_safe(d.high_group, 40)}" if name == "flag_rate_ratio"
                 else f"{terminal_safe(d.high_group, 40)} - {terminal_safe(d.low_group, 40)}")
        verdict = "noise: the interval includes no disparity" if d.noise else "beyond noise"
        lines.append(f"  {_NAMES[name]:<16}{d.estimate:>8.3f}  [{d.low:.3f}, {d.high:.3f}]  {which}  "
                     f"({d.groups:,} groups; {verdict})")
    return "\n".join(lines)


def _comparison(table) -> str:
    lines = [f"\nB vs A (change on the {int(table['shared_items'].iloc[0]):,} items both runs scored, paired bootstrap):",
             f"{'disparity':<18}{'A':>8}{'B':>8}{'B - A':>9}  interval            verdict"]
    for name, row in table.iterrows():
        if row["change"] != row["change"]:
            lines.append(f"{_NAMES[name]:<18}{_num(row['a']):>8}{_num(row['b']):>8}{'n/a':>9}")
            continue
        verdict = row["direction"] + ("" if row["direction"] == "unchanged" else
                                      ", beyond noise" if row["beyond_noise"] else ", within noise")
        lines.append(f"{_NAMES[name]:<18}{_num(row['a']):>8}{_num(row['b']):>8}{row['change']:>+9.3f}  "
                     f"[{row['change_low']:+.3f}, {row['change_high']:+.3f}]  {verdict}")
    return "\n".join(lines)


def _num(value) -> str:
    return "n/a" if value != value else f"{value:.3f}"
