"""``python -m cope_eval export``, ``batch-export`` and ``batch-import``.

Exit codes: 0 done; 1 (batch-import only) some lines were unusable or some items are still
without a prediction, whatever could be used is stored; 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import current_user, workspace_from_env
from ._options import add_run, add_threshold, threshold_flag
from ._transfer import KEEP_CHOICES

EXIT_INCOMPLETE = 1
SHOWN_PROBLEMS = 20


def add_commands(commands) -> None:
    export = commands.add_parser("export", help="write a run's policy bundle: policy, cards, curves, predictions, "
                                                "Zentropi files", arguments=_export_arguments)
    export.set_defaults(handler=export_command)

    batch_out = commands.add_parser("batch-export", help="write a run's requests as an OpenAI / vLLM run-batch "
                                                         "JSONL file")
    add_run(batch_out)
    batch_out.add_argument("--out", required=True, type=Path, metavar="FILE")
    batch_out.add_argument("--all", action="store_true", help="also items that already have a prediction")
    batch_out.add_argument("--allow-urls", action="store_true", help="fetch http(s) images into the requests")
    batch_out.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    batch_out.set_defaults(handler=batch_export_command)

    batch_in = commands.add_parser("batch-import", help="store the answers of a batch results file in its run "
                                                        f"(exit {EXIT_INCOMPLETE} when lines were unusable or items "
                                                        "are left without a prediction)")
    add_run(batch_in)
    batch_in.add_argument("--results", required=True, type=Path, metavar="FILE", help="the run-batch output JSONL")
    batch_in.set_defaults(handler=batch_import_command)


def _export_arguments(export: argparse.ArgumentParser) -> None:
    from ..export import PICK_HELP  # the rules' wording lives with the rules

    add_run(export)
    export.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="folder to write the bundle in")
    how = export.add_mutually_exclusive_group()
    add_threshold(how, "export at this threshold, from 0 to 1 (default: the run's own)")
    how.add_argument("--pick", metavar="RULE", help=f"pick the threshold by a rule: {PICK_HELP} (quote it)")
    how.add_argument("--transfer-from", metavar="RUN_A", help="export at the threshold that keeps run RUN_A's "
                                                              "operating point (see cope-eval transfer; needs --keep)")
    export.add_argument("--keep", choices=KEEP_CHOICES, help="with --transfer-from: what to keep of RUN_A's "
                                                             "operating point")
    export.add_argument("--threshold-a", type=threshold_flag("--threshold-a"), metavar="T",
                        help="with --transfer-from: RUN_A's threshold (default: RUN_A's own)")
    export.add_argument("--allow-different", action="store_true",
                        help="with --transfer-from: allow a RUN_A of another policy version or golden set")
    export.add_argument("--allow-urls", action="store_true", help="fetch http(s) images to embed them in the "
                                                                  "Zentropi samples")
    export.add_argument("--overwrite", action="store_true", help="replace bundle files already in DIR")


def export_command(args) -> int:
    from ..errors import ConfigError
    from ..export import TransferFrom, export_bundle
    from ..store import Store

    transfer_from = None
    if args.transfer_from is not None:
        if args.keep is None:
            raise ConfigError("--transfer-from needs --keep precision, recall or flag-rate: what to keep of "
                              f"run {args.transfer_from}'s operating point.")
        transfer_from = TransferFrom(args.transfer_from, args.keep, args.threshold_a, args.allow_different)
    else:
        used = [flag for flag, value in (("--keep", args.keep), ("--threshold-a", args.threshold_a),
                                         ("--allow-different", args.allow_different or None)) if value is not None]
        if used:
            raise ConfigError(f"{', '.join(used)} only go with --transfer-from RUN_A.")
    workspace = workspace_from_env()
    with Store(workspace.private_dir) as store:
        bundle = export_bundle(store, args.run, args.out, workspace_root=workspace.root, threshold=args.threshold,
                               pick=args.pick, transfer_from=transfer_from, allow_urls=args.allow_urls,
                               overwrite=args.overwrite, who=current_user())
    card = bundle.card
    m, intervals = card["metrics"], card["confidence_intervals"]["intervals"]
    print(f"{args.run}: bundle written to {args.out}")
    print(f"threshold  {bundle.threshold.value:g} ({bundle.threshold.description})")
    for name in ("precision", "recall", "f1"):
        i = intervals[name]
        print(f"{name.ljust(9)}  {m[name]:.4f} (95% interval {i['low']:.4f} to {i['high']:.4f})")
    held_out = card["test_split"]
    if held_out["has_split"]:
        t, looks = held_out["metrics"], held_out["looks_before_export"]
        print(f"test       precision {t['precision']:.4f}, recall {t['recall']:.4f}, f1 {t['f1']:.4f} on the "
              f"{held_out['items']:,} held-out test items (the figures above: dev); the test split was looked at "
              f"{looks} time{'s' if looks != 1 else ''} before this export")
    else:
        print("test       none: the golden set has no test split (cope-eval split makes one)")
    print(f"files      {', '.join(bundle.files)}")
    for warning in bundle.warnings:
        _say(f"warning: {warning}")
    return 0


def batch_export_command(args) -> int:
    from ..scoring import export_batch
    from ..store import Store

    workspace = workspace_from_env()
    with Store(workspace.private_dir) as store:
        result = export_batch(store, args.run, args.out, workspace_root=workspace.root, include_scored=args.all,
                              allow_urls=args.allow_urls, overwrite=args.overwrite)
        model = store.run(args.run).model
    print(f"{args.run}: {result.lines:,} request(s) for {result.url} written to {args.out}")
    if result.already_scored:
        print(f"{result.already_scored:,} item(s) already have a prediction and were left out (--all includes them)")
    for problem in result.refused[:SHOWN_PROBLEMS]:
        _say(f"left out: {problem}")
    for warning in result.warnings:
        _say(f"warning: {warning}")
    if result.lines:
        print(f"next: vllm run-batch -i {args.out} -o results.jsonl --model {model}\n"
              f"then: python -m cope_eval batch-import --run {args.run} --results results.jsonl")
    return 0


def batch_import_command(args) -> int:
    from ..scoring import import_batch
    from ..store import Store

    workspace = workspace_from_env()
    with Store(workspace.private_dir) as store:
        result = import_batch(store, args.run, args.results)
    print(f"{args.run}: {result.lines:,} line(s) read; stored {result.scored:,} score(s) and {result.errors:,} "
          f"error(s); skipped {result.skipped:,} already scored; run is {result.status}")
    for problem in result.problems[:SHOWN_PROBLEMS]:
        _say(f"unusable: {problem}")
    if result.problem_count > SHOWN_PROBLEMS:
        _say(f"... and {result.problem_count - SHOWN_PROBLEMS:,} more unusable line(s)")
    if result.missing:
        shown = ", ".join(result.missing_ids[:5])
        _say(f"missing: {result.missing:,} item(s) still have no prediction (e.g. {shown}); export them again "
             f"with batch-export, or: python -m cope_eval resume {args.run}")
    return 0 if result.clean else EXIT_INCOMPLETE


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
