"""Prove that the tests guarding cope-eval's protections can fail: take each protection out, one
at a time, in a copy of the repository, and check that its tests then fail.

Each protection names a file, an exact snippet of it, a replacement that removes the protection,
and the pytest node ids that must fail without it. The working tree is never touched: its tracked
and untracked (not ignored) files are copied to a temporary folder; the tests run there first
unchanged (a test that fails anyway proves nothing), then once per protection removed. A snippet
that is no longer in its file is reported as such (the protection moved: update the list in
``scripts/protection_list.py``).

    python scripts/check_protections.py                  # all; writes docs/protections.md
    python scripts/check_protections.py --only redact    # names containing "redact"; prints only
    python scripts/check_protections.py --no-browser     # leave out the real-browser tests
    make protections

Some tests need the local vLLM (started by the test session when it is not running).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from protection_list import PROTECTIONS, Protection  # scripts/ is on sys.path when this runs

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "protections.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="check only protections whose name contains this text")
    parser.add_argument("--no-browser", action="store_true", help="leave out the real-browser tests")
    parser.add_argument("--out", type=Path, help=f"write the report here (default {OUT.relative_to(REPO)} for a "
                                                 "full run; nothing for --only/--no-browser)")
    args = parser.parse_args(argv)
    chosen = [p for p in PROTECTIONS if not args.only or args.only.lower() in p.name.lower()]
    if args.no_browser:
        chosen = [dataclasses.replace(p, tests=tuple(t for t in p.tests if "test_browser_" not in t))
                  for p in chosen]  # every layer (``also``) still taken out
        chosen = [p for p in chosen if p.tests]
    if not chosen:
        parser.error(f"no protection matches {args.only!r}")
    out = args.out or (OUT if not args.only and not args.no_browser else None)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cope-protections-") as tmp:
        copy = Path(tmp) / "repo"
        _copy_tree(copy)
        tests = sorted({t for p in chosen for t in p.tests})
        print(f"Baseline: {len(tests)} tests on the unchanged copy...", flush=True)
        baseline = _run_tests(copy, tests, Path(tmp) / "baseline.xml")
        rows = []
        for protection in chosen:
            print(f"Without: {protection.name}...", flush=True)
            outcome = _without(copy, protection, Path(tmp) / "mutant.xml")
            for test in protection.tests:
                rows.append((protection, test, baseline.get(test, "missing"), outcome.get(test, "missing")))
    report = _report(rows, time.monotonic() - started)
    print(report)
    if out is not None:
        out.write_text(report)
        print(f"Wrote {out}")
    return 0 if all(_proven(base, mutant) for _, _, base, mutant in rows) else 1


def _copy_tree(dest: Path) -> None:
    """The working tree as git sees it (tracked and untracked files, not ignored ones)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def _without(copy: Path, protection: Protection, xml: Path) -> dict[str, str]:
    originals: dict[Path, str] = {}
    mutated: dict[Path, str] = {}
    for file, snippet, replacement in protection.mutations():
        path = copy / file
        originals.setdefault(path, path.read_text())
        text = mutated.get(path, originals[path])
        found = text.count(snippet)
        if found != 1:
            state = "snippet not found" if found == 0 else f"snippet found {found} times"
            return {test: f"{state} in {file}" for test in protection.tests}
        mutated[path] = text.replace(snippet, replacement)
    for path, text in mutated.items():
        try:
            compile(text, str(path), "exec")  # a broken file would fail every test, proving nothing
        except SyntaxError:
            return {test: "mutation does not compile" for test in protection.tests}
    try:
        for path, text in mutated.items():
            path.write_text(text)
        return _run_tests(copy, list(protection.tests), xml)
    finally:
        for path, text in originals.items():
            path.write_text(text)


def _run_tests(copy: Path, tests: list[str], xml: Path) -> dict[str, str]:
    """Outcome per node id: passed, failed (any of its cases failed or errored), skipped, missing."""
    xml.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"--junitxml={xml}", *tests], cwd=copy, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=1800)
    cases = []
    if xml.exists():
        for case in ET.parse(xml).iter("testcase"):
            failed = case.find("failure") is not None or case.find("error") is not None
            skipped = case.find("skipped") is not None
            cases.append((case.get("classname", ""), case.get("name", ""),
                          "failed" if failed else "skipped" if skipped else "passed"))
    outcomes = {}
    for test in tests:
        module, _, name = test.partition("::")
        classname = module.removesuffix(".py").replace("/", ".")
        mine = [o for c, n, o in cases if c == classname and (n == name or ("[" not in name and n.startswith(name + "[")))]
        outcomes[test] = ("failed" if "failed" in mine else "passed" if "passed" in mine else
                          "skipped" if mine else "missing")
    return outcomes


def _proven(base: str, mutant: str) -> bool:
    return base == "passed" and mutant == "failed"


def _report(rows, seconds: float) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    proven = sum(_proven(b, m) for _, _, b, m in rows)
    protections = len({p.name for p, _, _, _ in rows})
    lines = [
        "# Protections and the tests that catch their removal",
        "",
        "Generated by `scripts/check_protections.py` (`make protections`); do not edit by hand.",
        f"Last run: {when}, {seconds / 60:.1f} min, {protections} protections, {len(rows)} protection-test pairs, "
        f"{proven} failed as expected.",
        "",
        "Each protection was taken out of a copy of the repository (the snippet replaced as listed in the",
        "script), and each test named for it was run: it must pass on the unchanged copy and fail without",
        "the protection.",
        "",
        "| protection | file | test | passes unchanged | fails without it |",
        "|---|---|---|---|---|",
    ]
    for protection, test, base, mutant in rows:
        failed = "yes" if mutant == "failed" else f"**no** ({mutant})"
        passes = "yes" if base == "passed" else f"**no** ({base})"
        files = ", ".join(f"`{f}`" for f in dict.fromkeys(f for f, _, _ in protection.mutations()))
        lines.append(f"| {protection.name} | {files} | `{test.replace('tests/', '')}` | {passes} | {failed} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
