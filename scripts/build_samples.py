"""Build the sample data shipped in the repo: policies/ and golden_sets/. Deterministic.

Usage: python scripts/build_samples.py [--root DIR] [--source samples-1680.jsonl.gz]

- policies/: one policy per harm area of the CoPE model card, written for cope-eval (original
  wording), saved through the policy store with fixed creation times; harassment, hate-speech
  and violence have a second version.
- golden_sets/openai-moderation/: per-category sets and a mixed set built from OpenAI's
  moderation evaluation set (MIT; LICENSE and attribution copied beside them).
- golden_sets/images/: a small labeled image set drawn with Pillow.
- golden_sets/videos/: a small labeled video set: Pillow frames encoded with PyAV.

Re-running with the same inputs rewrites byte-identical files (same Python, pandas, Pillow,
FreeType, zlib and PyAV's FFmpeg, x264 and libvpx) and adds no policy versions; changing a
policy text below adds a version.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cope_eval.golden import load_golden_set  # noqa: E402
from cope_eval.policies import save_version  # noqa: E402
from samples.images import build_images  # noqa: E402  (scripts/samples/: one module per kind of sample)
from samples.openai_sets import build_openai_sets  # noqa: E402
from samples.policy_texts import AUTHOR, POLICIES  # noqa: E402
from samples.videos import build_videos  # noqa: E402


def build_policies(root: Path) -> None:
    for slug, versions in POLICIES:
        parent = None
        for created, note, text in versions:
            version = save_version(root, slug, text, parent=parent, note=note, author=AUTHOR, created=created)
            parent = version.id
            print(f"policy  {slug:<16} {version.id[:19]}  {note}")


def _default_source() -> Path | None:
    for base in (REPO / "shared", REPO.parent / "shared"):
        path = base / "data" / "openai-moderation" / "samples-1680.jsonl.gz"
        if path.exists():
            return path
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the sample policies and golden sets.")
    parser.add_argument("--root", type=Path, default=REPO, help="workspace to write into (default: the repo)")
    parser.add_argument("--source", type=Path, default=_default_source(), help="samples-1680.jsonl.gz")
    args = parser.parse_args()
    if args.source is None or not args.source.exists():
        parser.error("cannot find samples-1680.jsonl.gz; pass --source")
    root = args.root.resolve()
    build_policies(root)
    sets = build_openai_sets(root, args.source)
    sets.append(build_images(root))
    sets.append(build_videos(root))
    for path in sets:
        result = load_golden_set(path, root)
        items = result.golden_set.items
        size = path.stat().st_size / 1024
        print(f"golden  {path.relative_to(root)!s:<48} {len(items):>4} items {int(items['label'].sum()):>4} pos "
              f"{size:6.1f} KB  {result.golden_set.hash[:19]}")


if __name__ == "__main__":
    main()
