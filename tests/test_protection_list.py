"""The protection list (scripts/protection_list.py) stays true to the tree: each snippet is found
exactly once in its file, each mutation still compiles, every named test exists, and names are
unique. ``make protections`` proves that the tests fail without each protection; this keeps the
list from going stale between those runs (a moved line, a renamed test)."""

import ast
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from protection_list import PROTECTIONS  # noqa: E402

MUTATIONS = [(p.name, *m) for p in PROTECTIONS for m in p.mutations()]


def test_names_are_unique():
    names = [p.name for p in PROTECTIONS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name,file,snippet,replacement", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_each_snippet_is_found_once_and_its_mutation_compiles(name, file, snippet, replacement):
    text = (REPO / file).read_text(encoding="utf-8")
    assert text.count(snippet) == 1, f"{name}: snippet found {text.count(snippet)} times in {file}"
    ast.parse(text.replace(snippet, replacement), filename=file)


def test_every_named_test_exists():
    missing = []
    for p in PROTECTIONS:
        for node in p.tests:
            file, _, function = node.partition("::")
            source = (REPO / file).read_text(encoding="utf-8") if (REPO / file).exists() else ""
            if not re.search(rf"^def {re.escape(function.split('[')[0])}\(", source, re.M):
                missing.append(f"{p.name}: {node}")
    assert missing == []
