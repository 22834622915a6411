"""Time ``load_golden_set`` on 1M text rows (CSV and Parquet) against plain pandas reads.

Usage: python bench/bench_golden_load.py [--rows N] [--repeat R]

Writes the files to a temporary folder, then for each format reports the best of R runs of
the baseline (``pandas.read_csv`` / ``pandas.read_parquet`` of the same file, default options)
and of the loader (all validation and hashing included), and their ratio. Two CSV variants are
timed: with an ``id`` column, and without one (ids generated from content).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cope_eval.golden import load_golden_set

WORDS = (
    "the a policy content user post reply thread you they we people group threat joke report "
    "moderator review label kill hate love never always maybe really very not just like"
).split()


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Synthetic items: unique texts of 8-24 words, balanced labels, three categories, a source."""
    rng = np.random.default_rng(seed)
    words = np.array(WORDS)
    lengths = rng.integers(8, 25, rows)
    picks = words[rng.integers(0, len(words), lengths.sum())]
    splits = np.split(picks, np.cumsum(lengths)[:-1])
    texts = [" ".join(s) + f" #{i}" for i, s in enumerate(splits)]
    return pd.DataFrame(
        {
            "id": [f"item-{i:07d}" for i in range(rows)],
            "text": texts,
            "label": rng.integers(0, 2, rows),
            "category": rng.choice(["hate", "violence", "harassment"], rows),
            "source": rng.choice(["forum", "chat"], rows),
        }
    )


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        frame = make_frame(args.rows)
        csv_path, noid_path, pq_path = root / "set.csv", root / "noid.csv", root / "set.parquet"
        frame.to_csv(csv_path, index=False)
        frame.drop(columns="id").to_csv(noid_path, index=False)
        frame.to_parquet(pq_path, index=False)
        size = csv_path.stat().st_size / 1e6
        print(f"{args.rows:,} rows; CSV {size:.1f} MB; best of {args.repeat} runs")
        cases = [
            ("csv (with ids)", csv_path, pd.read_csv),
            ("csv (ids generated)", noid_path, pd.read_csv),
            ("parquet (with ids)", pq_path, pd.read_parquet),
        ]
        print(f"{'case':<22}{'baseline s':>12}{'loader s':>12}{'ratio':>8}")
        for label, path, baseline in cases:
            base = best_of(args.repeat, lambda: baseline(path))
            result = {}
            ours = best_of(args.repeat, lambda: result.update(r=load_golden_set(path, root)))
            assert len(result["r"].golden_set) == args.rows
            print(f"{label:<22}{base:>12.2f}{ours:>12.2f}{ours / base:>8.2f}")


if __name__ == "__main__":
    main()
