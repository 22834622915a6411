"""``python -m cope_eval probe RUN`` and ``agreement RUN RUN [RUN...]``: Insight in a terminal.

``probe`` exits 1 when the model does not follow the policy or too many items failed: usable as
a CI check that a deployment (template, endpoint, model) still reads policies. A warning that
only says the sample is small does not fail it. A probe that could not finish exits 2, Ctrl-C
130, as every study command (``_studies``).
"""

from __future__ import annotations

from ._output import print_json
from ._studies import add_study_options, run_study
from ._terminal import terminal_safe

EXIT_NOT_STEERABLE = 1
INFORMATIONAL = ("uncertain",)
"""Warning codes that do not fail ``probe``."""

# Golden-set text and server-given names are hostile: never let them drive the terminal.
# The library is imported inside the handlers, so that ``--help`` does not load pandas.


def add_commands(commands) -> None:
    probe = commands.add_parser("probe", help="check that a run's model follows the policy (inverted and off-topic)")
    probe.add_argument("run_id", metavar="RUN")
    add_study_options(probe, "probes", limit_default=None, limit_help="items for --items sample or near",
                      items_help="all items, a seeded random sample, or the items nearest the run's "
                                 "threshold")
    probe.add_argument("--seed", type=int, default=0, metavar="S", help="seed of --items sample")
    probe.add_argument("--show", type=int, default=10, metavar="N",
                       help="list up to N unflipped and off-topic-flagged items")
    probe.set_defaults(handler=probe_command)

    agreement = commands.add_parser("agreement", help="Cohen's kappa between runs of one policy version and golden set")
    agreement.add_argument("run_ids", nargs="+", metavar="RUN", help="two runs or more")
    agreement.add_argument("--show", type=int, default=10, metavar="N", help="list up to N disputed items")
    agreement.add_argument("--json", action="store_true", help="print the report as JSON")
    agreement.set_defaults(handler=agreement_command)


def probe_command(args) -> int:
    from ..insight import PROBES, probe_table

    def summary(store, study, report, requests) -> str:
        return _probe_summary(report, probe_table(store, study), args.show)

    def verdict(report) -> int:
        return EXIT_NOT_STEERABLE if any(w.code not in INFORMATIONAL for w in report.warnings) else 0

    return run_study(args, PROBES, lambda store: (store.run(args.run_id), {"seed": args.seed}), summary, verdict)


def agreement_command(args) -> int:
    from ..config import workspace_from_env
    from ..insight import run_agreement
    from ..store import Store

    with Store(workspace_from_env().private_dir) as store:
        report = run_agreement(store, args.run_ids)
    if args.json:
        print_json(report.to_dict())
        return 0
    for name, run_id in report.runs.items():
        print(f"{terminal_safe(name)}  = {run_id}  (threshold {report.thresholds[name]:g})")
    print(f"\n{'run A':<40}{'run B':<40}{'items':>7}{'kappa':>8}{'agree':>8}")
    for pair in report.pairs:
        kappa = "n/a" if pair.kappa is None else f"{pair.kappa:.3f}"
        print(f"{terminal_safe(pair.a)[:39]:<40}{terminal_safe(pair.b)[:39]:<40}{pair.n:>7,}{kappa:>8}{pair.agreement.estimate:>8.1%}"
              + (f"  ({pair.note})" if pair.note else ""))
    print(f"\n{'run':<40}{'items':>7}{'left out':>10}{'kappa vs gold':>15}{'accuracy':>10}")
    for gold in report.gold:
        kappa = "n/a" if gold.kappa is None else f"{gold.kappa:.3f}"
        print(f"{terminal_safe(gold.run)[:39]:<40}{gold.n:>7,}{gold.missing:>10,}{kappa:>15}{gold.agreement.estimate:>10.1%}")
    table = report.disagreements
    print(f"\n{len(table):,} of {report.items:,} items disputed" + (", most disputed first:" if len(table) else ""))
    for row in table.head(args.show).itertuples(index=False):
        print(f"  gold {row.label}  {row.flagged}/{row.scored} flag it  spread {row.spread:.3f}  "
              f"{terminal_safe(row.item_id)}  {terminal_safe(getattr(row, 'text', ''))[:60]}")
    return 0


def _probe_summary(report, table, show: int) -> str:
    from ..insight import probe_items, threshold_notes

    flips, off_topic, base = report.flip_rate, report.off_topic_flag_rate, report.base_flag_rate
    lines = [f"study {report.study_id} of run {report.base_run_id} (threshold {report.threshold:g})",
             f"items             {report.items:,}",
             "errors            " + ", ".join(f"{role} {n:,}" for role, n in report.errors.items()),
             f"flip rate         {_rate(flips)}  ({report.flips_to_0:,} 1->0, {report.flips_to_1:,} 0->1)",
             f"mean |dP|         {report.mean_abs_delta:.3f}",
             f"off-topic flags   {_rate(off_topic)}",
             f"base flag rate    {_rate(base)}"]
    lines += ["", "warnings:" if report.warnings else "no warnings: the model follows the policy on these items"]
    lines += [f"  - {w.message}" for w in report.warnings]
    lines += ["", "limits:"] + [f"  - {note}" for note in threshold_notes()]
    for title, rows in (("not flipped", probe_items(table, "not flipped")),
                        ("flagged under the off-topic policy", probe_items(table, "flagged off-topic"))):
        if len(rows) and show > 0:
            lines += ["", f"{title} ({len(rows):,}):"]
            lines += [f"  gold {r.label}  base {r.base_score:.3f}  inverted {r.inverted_score:.3f}  "
                      f"off-topic {r.off_topic_score:.3f}  {terminal_safe(r.item_id)}  {terminal_safe(r.text)[:60]}"
                      for r in rows.head(show).itertuples(index=False)]
    return "\n".join(lines)


def _rate(p) -> str:
    return f"{p.estimate:6.1%}  ({p.count:,} of {p.n:,}; {p.confidence:.0%} interval {p.low:.1%}-{p.high:.1%})"
