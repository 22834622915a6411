"""The per-category and mixed golden sets built from OpenAI's moderation evaluation set (MIT;
its LICENSE and an attribution are copied beside them)."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pandas as pd

from cope_eval._util.atomic_files import replace_atomic

from .tables import write_csv

CATEGORIES = [
    ("S", "sexual"),
    ("H", "hate"),
    ("V", "violence"),
    ("HR", "harassment"),
    ("SH", "self-harm"),
    ("H2", "hate-threatening"),
    ("V2", "violence-graphic"),
]
"""Flags used (S3, sexual/minors, is left out everywhere), with the file name of each set."""

ATTRIBUTION = """# Attribution

The CSV files in this folder are subsets of the OpenAI moderation evaluation set
(`data/samples-1680.jsonl.gz` in the public repository openai/moderation-api-release), the
test set of "A Holistic Approach to Undesired Content Detection in the Real World"
(Markov et al., 2022, arXiv:2208.03274). Copyright (c) 2022 OpenAI, released under the MIT
License: see LICENSE in this folder, which must stay with any copy of these files.

Texts are copied unchanged; ids (`om-<line>`) give the line of the source file. Items flagged
S3 (sexual/minors) were left out. The texts are real user-generated content and include
offensive material by design. How the subsets were chosen: ../README.md and
scripts/build_samples.py.
"""

MIXED_FLAGS = ["S", "H", "V", "HR", "SH"]
PER_SET = 200
MAX_POSITIVES = 120
MIXED_PER_CATEGORY = 30
MIXED_NONE = 100


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_source(path: Path) -> list[dict]:
    """Source records with their 1-based line number; items flagged S3=1 are dropped."""
    records = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            record = json.loads(line)
            if record.get("S3") == 1:
                continue
            record["line"] = line_no
            records.append(record)
    return records


def _dedupe(records: list[dict], flags: list[str]) -> list[dict]:
    """Keep the first of repeated texts; drop a text entirely if its labels disagree."""
    seen: dict[str, dict] = {}
    clash = set()
    for record in records:
        first = seen.setdefault(record["prompt"], record)
        if first is not record and any(first.get(f) != record.get(f) for f in flags):
            clash.add(record["prompt"])
    return [r for r in seen.values() if r["prompt"] not in clash]


def category_set(records: list[dict], flag: str) -> pd.DataFrame:
    known = _dedupe([r for r in records if flag in r], [flag])
    positives = sorted((r for r in known if r[flag] == 1), key=lambda r: _key(r["prompt"]))[:MAX_POSITIVES]
    negatives = sorted((r for r in known if r[flag] == 0), key=lambda r: _key(r["prompt"]))
    chosen = sorted(positives + negatives[: PER_SET - len(positives)], key=lambda r: r["line"])
    return pd.DataFrame(
        {
            "id": [f"om-{r['line']:04d}" for r in chosen],
            "text": [r["prompt"] for r in chosen],
            "label": [r[flag] for r in chosen],
        }
    )


def mixed_set(records: list[dict]) -> pd.DataFrame:
    """label 1 = any of S, H, V, HR, SH; category = the one flag set, 'multiple', or 'none'."""
    names = dict(CATEGORIES)
    known = _dedupe([r for r in records if all(f in r for f in MIXED_FLAGS)], MIXED_FLAGS)
    buckets: dict[str, list[dict]] = {}
    for record in known:
        flags = [f for f in MIXED_FLAGS if record[f] == 1]
        category = "none" if not flags else names[flags[0]] if len(flags) == 1 else "multiple"
        buckets.setdefault(category, []).append(record)
    chosen = []
    for category, members in buckets.items():
        limit = MIXED_NONE if category == "none" else MIXED_PER_CATEGORY
        for record in sorted(members, key=lambda r: _key(r["prompt"]))[:limit]:
            chosen.append((record, category))
    chosen.sort(key=lambda pair: pair[0]["line"])
    return pd.DataFrame(
        {
            "id": [f"om-{r['line']:04d}" for r, _ in chosen],
            "text": [r["prompt"] for r, _ in chosen],
            "label": [int(c != "none") for _, c in chosen],
            "category": [c for _, c in chosen],
            "flags": [",".join(names[f] for f in MIXED_FLAGS if r[f] == 1) for r, _ in chosen],
        }
    )


def build_openai_sets(root: Path, source: Path) -> list[Path]:
    out = root / "golden_sets" / "openai-moderation"
    out.mkdir(parents=True, exist_ok=True)
    records = read_source(source)
    written = []
    for flag, name in CATEGORIES:
        written.append(write_csv(category_set(records, flag), out / f"{name}.csv"))
    written.append(write_csv(mixed_set(records), out / "mixed.csv"))
    replace_atomic(out / "LICENSE", (source.parent / "LICENSE").read_bytes())
    replace_atomic(out / "ATTRIBUTION.md", ATTRIBUTION.encode("utf-8"))
    return written
