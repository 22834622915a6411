"""``python -m cope_eval compare RUN_A RUN_B``: what changed between two runs, in a terminal."""

from __future__ import annotations

from ..config import workspace_from_env
from ._options import add_json, add_threshold
from ._output import print_json
from ._terminal import terminal_safe


def add_commands(commands) -> None:
    compare = commands.add_parser("compare", help="compare two runs on the same golden set (B - A)")
    compare.add_argument("run_a")
    compare.add_argument("run_b")
    add_threshold(compare, "compare both runs at T, from 0 to 1 (default: each run's own threshold)")
    compare.add_argument("--flips", type=int, default=10, metavar="N", help="show the N largest score changes")
    compare.add_argument("--intersect", action="store_true",
                         help="compare the shared items when the runs used different golden-set versions")
    add_json(compare, "print the comparison as JSON")
    compare.set_defaults(handler=compare_command)


def compare_command(args) -> int:
    from ..metrics import compare_runs, flips
    from ..store import Store, run_results

    with Store(workspace_from_env().private_dir) as store:
        run_a, run_b = store.run(args.run_a), store.run(args.run_b)
        results_a, results_b = run_results(store, run_a.id), run_results(store, run_b.id)
        texts = store.golden_set(run_b.golden_hash).items.set_index("id")["text"]
    thresholds = (run_a.threshold, run_b.threshold) if args.threshold is None else (args.threshold, args.threshold)
    options = dict(on_mismatch="intersect" if args.intersect else "raise",
                   golden_hashes=(run_a.golden_hash, run_b.golden_hash))
    comparison = compare_runs(results_a, results_b, threshold=thresholds, **options)
    changed = flips(results_a, results_b, threshold=thresholds, **options).head(args.flips)
    if args.json:
        print_json({"a": run_a.id, "b": run_b.id, **comparison.to_dict()})
        return 0
    print(f"A = {run_a.id}  ({run_a.policy_version_id[:19]}, {run_a.model})")
    print(f"B = {run_b.id}  ({run_b.policy_version_id[:19]}, {run_b.model})")
    print(comparison.overlap.describe())
    print(f"\n{'metric':<12}{'A':>9}{'B':>9}{'B - A':>9}   {int(comparison.confidence * 100)}% CI")
    for name, delta in comparison.deltas.items():
        a, b = getattr(comparison.metrics_a, name), getattr(comparison.metrics_b, name)
        print(f"{name:<12}{a:>9.4f}{b:>9.4f}{delta.estimate:>+9.4f}   [{delta.low:+.4f}, {delta.high:+.4f}]")
    m = comparison.mcnemar
    print(f"\nfixed {comparison.fixed}, broken {comparison.broken}, both wrong {comparison.both_wrong}, "
          f"both right {comparison.both_right}; McNemar p = {m.p_value:.4g} ({m.method})")
    if len(changed):
        print(f"\nlargest score changes (of {comparison.fixed + comparison.broken + comparison.both_wrong} flips and misses):")
        for row in changed.itertuples():
            text = terminal_safe(texts.get(row.item_id, ""), 70)
            print(f"  {row.outcome:<10} gold {row.label}  {row.score_a:.3f} -> {row.score_b:.3f}  {row.item_id}  {text}")
    return 0
