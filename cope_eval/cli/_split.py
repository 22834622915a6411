"""``python -m cope_eval split GOLDEN``: draw a dev / test split of a golden set, stored as a new version.

GOLDEN is a golden-set file (read by its usual column names and stored first, as ``run`` stores
one) or a stored set: its hash, the start of its hash, or its name (``golden.find_golden_set``).
``--out FILE`` writes the split version, so ``run --golden FILE`` scores it (the file's ``split``
column loads back as the split). The output counts items, never scores: no test figure is shown.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError, CopeEvalError
from ..records import SPLIT_VALUES, short_id
from ._options import DefaultsHelpFormatter, add_json
from ._output import print_json
from ._terminal import terminal_safe


def add_commands(commands) -> None:
    split = commands.add_parser("split", help="split a golden set into dev and test (a new version)",
                                arguments=_split_arguments, formatter_class=DefaultsHelpFormatter)
    split.set_defaults(handler=split_command)


def _split_arguments(split: argparse.ArgumentParser) -> None:
    from ..golden import DEFAULT_SEED, DEFAULT_TEST_FRACTION

    split.add_argument("golden", metavar="GOLDEN",
                       help="a golden-set file, or a stored set's hash, start of its hash, or name "
                            "(an existing file is read first)")
    split.add_argument("--test-fraction", type=_test_fraction_flag, default=DEFAULT_TEST_FRACTION, metavar="F",
                       help="share of items kept for test, between 0 and 1 (stratified by label and category)")
    split.add_argument("--seed", type=_seed_flag, default=DEFAULT_SEED, metavar="N",
                       help="seed of the draw: the same set, fraction and seed give the same split")
    split.add_argument("--out", type=Path, metavar="FILE",
                       help="also write the split version to FILE (.csv, .jsonl or .parquet) for run --golden")
    split.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    add_json(split, "print the new version and its counts as JSON")


def _test_fraction_flag(value: str) -> float:
    from ..golden import check_test_fraction  # the library only once a value is given

    return check_test_fraction(value, source="--test-fraction")


def _seed_flag(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"--seed must be a whole number, not {value!r}.") from None


def split_command(args) -> int:
    from ..config import workspace_from_env
    from ..golden import split_golden_set, write_golden_set
    from ..store import Store

    workspace = workspace_from_env().ensure()
    with Store(workspace.private_dir) as store:
        golden_hash = _stored(store, args.golden, workspace.root)
        result = split_golden_set(store, golden_hash, test_fraction=args.test_fraction, seed=args.seed)
    written = write_golden_set(result.golden, args.out, overwrite=args.overwrite) if args.out else None
    if args.json:
        print_json({**result.to_dict(), "written": str(written) if written else None})
        return 0
    print(_report(result, written))
    return 0


def _stored(store, reference: str, root: Path) -> str:
    """The hash of the set GOLDEN names: a file is loaded and stored first, else the store is searched."""
    from ..golden import add_golden_set, find_golden_set, load_golden_set

    path = Path(reference)
    if not path.is_file():
        return find_golden_set(store, reference)
    try:
        loaded = load_golden_set(path, root)
    except CopeEvalError as exc:  # its remedies name run's column flags, which split does not have
        raise ConfigError(f"{exc} (split reads a file by its usual column names: store it with run --golden "
                          "and its column flags, then split it by hash)") from None
    return add_golden_set(store, loaded, origin=f"file {path}").hash


def _report(result, written: Path | None) -> str:
    golden = result.golden
    counts = result.counts
    lines = [f"split {terminal_safe(golden.name)!r} into dev and test: test fraction {result.test_fraction:g}, "
             f"seed {result.seed}",
             f"new version  {golden.hash}",
             f"parent       {result.parent}",
             "",
             f"{'split':<7}{'items':>9}{'label 0':>9}{'label 1':>9}"]
    for split in SPLIT_VALUES:
        rows = counts[counts["split"] == split]
        by_label = rows.groupby("label")["items"].sum()
        lines.append(f"{split:<7}{int(rows['items'].sum()):>9,}{int(by_label.get(0, 0)):>9,}"
                     f"{int(by_label.get(1, 0)):>9,}")
    if "category" in counts.columns:
        lines += ["", f"{'category':<28}{'split':<7}{'label 0':>9}{'label 1':>9}"]
        table = counts.pivot_table(index=["category", "split"], columns="label", values="items", aggfunc="sum",
                                   fill_value=0, dropna=False, observed=True)
        for (category, split), row in table.iterrows():
            shown = "(none)" if category != category or category is None else terminal_safe(category, 27)
            lines.append(f"{shown:<28}{split:<7}{int(row.get(0, 0)):>9,}{int(row.get(1, 0)):>9,}")
    if result.other_splits:
        listed = ", ".join(short_id(h) for h in result.other_splits)
        lines += ["", f"note: {len(result.other_splits)} other split(s) of this parent are stored ({listed}); "
                      "report figures from one split only, the one you committed to first"]
    lines.append("")
    if written:
        lines.append(f"written to {written}: score it with run --golden {written}")
    else:
        lines.append("score it from a file: write one with --out FILE, then run --golden FILE")
    return "\n".join(lines)
