"""Policy store: versions on disk, ids, slugs, atomic and concurrent saves, import/export."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cope_eval.errors import ConfigError, NotFoundError, ValidationError
from cope_eval.policies import (
    canonical_text, export_policy, get_version, import_policy, latest_version, list_policies,
    list_versions, policy_bytes, read_policy_file, save_version, scan_policy, slugify, validate_slug,
    version_id
)
from cope_eval.policies._versions import MAX_POLICY_BYTES

TEXT = "# Criteria\n\n## Overview\n\nFlag hateful content.\n"


def test_version_id_is_sha256_of_canonical_text():
    text = "line one\r\nline two\rline three\n"
    expected = hashlib.sha256(b"line one\nline two\nline three\n").hexdigest()
    assert canonical_text(text) == "line one\nline two\nline three\n"
    assert version_id(text) == f"sha256:{expected}"
    # Nothing else is normalised: trailing spaces, tabs, a BOM and NFC/NFD differences count.
    assert version_id("a \n") != version_id("a\n")
    assert version_id("\ufeffa") != version_id("a")
    assert version_id("caf\u00e9") != version_id("cafe\u0301")


def test_save_writes_readable_markdown_and_metadata(tmp_path):
    v = save_version(tmp_path, "hate-speech", TEXT, note="first", author="Ana", created="2025-02-01T10:00:00+01:00")
    stem = v.id[7:23]
    folder = tmp_path / "policies" / "hate-speech"
    assert sorted(p.name for p in folder.iterdir()) == [f"{stem}.json", f"{stem}.md"]
    assert (folder / f"{stem}.md").read_bytes() == TEXT.encode("utf-8")
    meta = json.loads((folder / f"{stem}.json").read_text("utf-8"))
    assert meta == {
        "format": "cope-eval/policy-version@1",
        "id": v.id,
        "policy": "hate-speech",
        "parent": None,
        "note": "first",
        "author": "Ana",
        "created": "2025-02-01T09:00:00.000000Z",
        "text_file": f"{stem}.md",
    }
    assert (v.policy, v.text, v.parent, v.note, v.author) == ("hate-speech", TEXT, None, "first", "Ana")


def test_versions_list_get_latest_and_parent(tmp_path):
    v1 = save_version(tmp_path, "violence", TEXT, created="2025-01-01T00:00:00Z")
    v2 = save_version(tmp_path, "violence", TEXT + "More.\n", parent=v1.id, created="2025-01-02T00:00:00Z")
    v3 = save_version(tmp_path, "violence", TEXT + "Less.\n", parent=v1.id[7:20], created="2025-01-03T00:00:00Z")
    assert [v.id for v in list_versions(tmp_path, "violence")] == [v1.id, v2.id, v3.id]
    assert latest_version(tmp_path, "violence") == v3
    assert v2.parent == v1.id and v3.parent == v1.id  # a prefix is resolved to the full id
    assert get_version(tmp_path, "violence", v2.id) == v2
    assert get_version(tmp_path, "violence", v2.id[7:15]) == v2
    assert list_policies(tmp_path) == ["violence"]
    assert list_versions(tmp_path, "drugs") == []


def test_saving_identical_text_returns_the_existing_version(tmp_path):
    v1 = save_version(tmp_path, "drugs", TEXT, note="original", author="a")
    again = save_version(tmp_path, "drugs", TEXT, note="ignored", author="b")
    crlf = save_version(tmp_path, "drugs", TEXT.replace("\n", "\r\n"))
    assert again == v1 and crlf == v1
    assert len(list_versions(tmp_path, "drugs")) == 1
    assert len(list((tmp_path / "policies" / "drugs").iterdir())) == 2


def test_not_found_errors(tmp_path):
    save_version(tmp_path, "drugs", TEXT)
    with pytest.raises(NotFoundError, match="No policy named 'nope'"):
        latest_version(tmp_path, "nope")
    with pytest.raises(NotFoundError, match="Policy 'drugs' has no version 'sha256:0000'"):
        get_version(tmp_path, "drugs", "sha256:0000")
    with pytest.raises(NotFoundError, match="has no version 'abcdef12'"):
        save_version(tmp_path, "drugs", "other text", parent="abcdef12")


def _texts_sharing_a_prefix(digits: int = 6) -> tuple[str, str, str]:
    seen = {}
    for k in range(1_000_000):
        text = f"policy text {k}\n"
        prefix = version_id(text)[7 : 7 + digits]
        if prefix in seen:
            return seen[prefix], text, prefix
        seen[prefix] = text
    raise AssertionError("no shared prefix found")


def test_ambiguous_and_short_prefixes(tmp_path):
    first, second, prefix = _texts_sharing_a_prefix()
    a = save_version(tmp_path, "p", first)
    b = save_version(tmp_path, "p", second)
    with pytest.raises(NotFoundError, match=f"Version prefix '{prefix}' of policy 'p' is ambiguous"):
        get_version(tmp_path, "p", prefix)
    assert get_version(tmp_path, "p", a.id[7:30]) == a
    assert get_version(tmp_path, "p", b.id) == b
    with pytest.raises(NotFoundError, match="has no version 'abc'"):
        get_version(tmp_path, "p", "abc")  # under 6 hex digits is never a prefix lookup


@pytest.mark.parametrize(
    "text, message",
    [("", "policy text is empty"), ("  \n\t", "policy text is empty"),
     ("bad \ud800 surrogate", "cannot be stored as UTF-8 at position 4")],
)
def test_rejected_texts(tmp_path, text, message):
    with pytest.raises(ValidationError) as info:
        save_version(tmp_path, "p", text)
    assert message in str(info.value)
    assert not (tmp_path / "policies" / "p").exists()


def test_rejected_created_time(tmp_path):
    with pytest.raises(ValidationError, match="not an ISO 8601 time"):
        save_version(tmp_path, "p", TEXT, created="yesterday")


# --- slugs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "slug, reason",
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("../etc", "it contains a path separator"),
        ("..", "it contains '..'"),
        ("a..b", "it contains '..'"),
        ("/etc/passwd", "it is an absolute path"),
        ("\\\\server\\share", "it is an absolute path"),
        ("C:evil", "it is an absolute path"),
        ("a/b", "it contains a path separator"),
        ("a\\b", "it contains a path separator"),
        ("bad\x00name", "it contains a control character"),
        ("line\nbreak", "it contains a control character"),
        ("tab\there", "it contains a control character"),
        ("esc\x1b[31m", "it contains a control character"),
        (".hidden", "it starts with '.' (hidden and reserved names are not allowed)"),
        (".cope_eval", "it starts with '.' (hidden and reserved names are not allowed)"),
        ("con", "it is a reserved device name on Windows"),
        ("NUL", "it is a reserved device name on Windows"),
        ("com1.md", "it is a reserved device name on Windows"),
        ("lpt9", "it is a reserved device name on Windows"),
        ("x" * 65, "it is longer than 64 characters"),
        ("Hate-Speech", "it contains characters that are not allowed"),
        ("hate speech", "it contains characters that are not allowed"),
        ("-dash-first", "it must start with a lowercase letter or digit"),
        ("_under", "it must start with a lowercase letter or digit"),
        ("caf\u00e9", "it contains characters that are not allowed"),
        ("trailing.", "it ends with '.'"),
    ],
)
def test_slug_attacks_are_rejected(tmp_path, slug, reason):
    with pytest.raises(ValidationError) as info:
        save_version(tmp_path, slug, TEXT)
    message = str(info.value)
    assert message.startswith(f"Invalid policy name {slug!r}: {reason};")
    assert "use 1-64 lowercase letters, digits, '-', '_' or '.'" in message
    assert info.value.problems[0].problem == reason
    # Nothing was written anywhere, inside or outside the workspace.
    assert not (tmp_path / "policies").exists()


@pytest.mark.parametrize("slug", ["hate-speech", "v2", "a", "self_harm.v3", "x" * 64, "console", "com10"])
def test_good_slugs(slug):
    assert validate_slug(slug) == slug


def test_slug_check_applies_to_every_entry_point(tmp_path):
    for call in (
        lambda: list_versions(tmp_path, "../x"),
        lambda: latest_version(tmp_path, "../x"),
        lambda: get_version(tmp_path, "../x", "sha256:00"),
        lambda: import_policy(tmp_path, "../x", b"text"),
    ):
        with pytest.raises(ValidationError, match="path separator"):
            call()


def test_slugify():
    assert slugify("Hate Speech (v2)") == "hate-speech-v2"
    assert slugify("  Café / Drogas ") == "cafe-drogas"
    with pytest.raises(ValidationError, match="it is empty"):
        slugify("!!!")


def sha8(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:8]


@pytest.mark.parametrize("name, slug", [
    ("con", "con-policy"), ("CON", "con-policy"), ("aux", "aux-policy"), ("nul", "nul-policy"),
    ("com1", "com1-policy"), ("LPT9", "lpt9-policy"), ("console", "console"),
    ("日本語", f"policy-{sha8('日本語')}"), ("日本語 policy", f"policy-{sha8('日本語 policy')}"),
    ("Straße", f"strae-{sha8('Straße')}"), ("Ｈate", "hate"), ("x" * 80 + "語", "x" * 55 + "-" + sha8("x" * 80 + "語")),
])
def test_names_that_are_no_folder_name_get_a_safe_slug_not_a_refusal(tmp_path, name, slug):
    """Windows device names get a suffix; letters with no ASCII form become a hash of the name, so
    "日本語" and "中文" never share a folder. The slug is a valid one, and saving under it works."""
    assert slugify(name) == slug
    assert save_version(tmp_path, slugify(name), TEXT).policy == slug
    assert slugify("中文") != slugify("日本語")


def test_list_policies_ignores_stray_entries(tmp_path):
    save_version(tmp_path, "drugs", TEXT)
    root = tmp_path / "policies"
    (root / "README.md").write_text("notes")
    (root / "Not A Slug").mkdir()
    (root / "empty").mkdir()
    assert list_policies(tmp_path) == ["drugs"]


# --- atomic and concurrent saves -----------------------------------------------------------------


def test_existing_files_are_never_rewritten(tmp_path):
    v1 = save_version(tmp_path, "p", TEXT)
    folder = tmp_path / "policies" / "p"
    before = {p.name: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}
    for k in range(5):
        save_version(tmp_path, "p", TEXT, note=f"again {k}")
        save_version(tmp_path, "p", f"{TEXT}v{k}\n", parent=v1.id)
    after = {p.name: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert {k: after[k] for k in before} == before
    assert len(after) == 12
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left


def test_crash_before_metadata_leaves_no_visible_version(tmp_path, monkeypatch):
    real_link = os.link
    calls = []

    def crash_on_metadata(src, dst, *args, **kwargs):
        calls.append(Path(dst).name)
        if str(dst).endswith(".json"):
            raise KeyboardInterrupt("power cut")
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", crash_on_metadata)
    with pytest.raises(KeyboardInterrupt):
        save_version(tmp_path, "p", TEXT)
    folder = tmp_path / "policies" / "p"
    assert [p.suffix for p in folder.iterdir()] == [".md"]  # text landed, temp file cleaned up
    assert list_versions(tmp_path, "p") == []
    assert list_policies(tmp_path) == []
    monkeypatch.setattr(os, "link", real_link)
    v = save_version(tmp_path, "p", TEXT, note="retry")  # the retry completes the version
    assert list_versions(tmp_path, "p") == [v]
    assert v.note == "retry"


def test_filesystem_without_hard_links_still_never_overwrites(tmp_path, monkeypatch):
    def no_links(src, dst, *args, **kwargs):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    v1 = save_version(tmp_path, "p", TEXT)
    v2 = save_version(tmp_path, "p", TEXT + "x\n", parent=v1.id)
    assert save_version(tmp_path, "p", TEXT) == v1
    assert {v.id for v in list_versions(tmp_path, "p")} == {v1.id, v2.id}
    assert not [p for p in (tmp_path / "policies" / "p").iterdir() if p.name.startswith(".")]


def test_concurrent_thread_saves_all_survive(tmp_path):
    n = 24
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def worker(k):
        try:
            barrier.wait()
            # Half the threads save the same text, half a text of their own.
            text = TEXT if k % 2 else f"{TEXT}variant {k}\n"
            results[k] = save_version(tmp_path, "p", text, note=f"thread {k}")
        except BaseException as ex:  # noqa: BLE001 - surfaced by the assert below
            errors.append(ex)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = list_versions(tmp_path, "p")
    assert len(versions) == n // 2 + 1
    assert {v.id for v in versions} == {r.id for r in results}
    shared = {r for k, r in enumerate(results) if k % 2}
    assert len(shared) == 1  # every thread saving the same text got the same version back
    for v in versions:
        assert version_id(v.text) == v.id


def _save_in_process(args):
    root, k, start = args
    while time.time() < start:
        time.sleep(0.001)
    out = []
    for j in range(8):
        text = f"{TEXT}process {k} edit {j}\n" if j % 2 else f"{TEXT}shared edit {j}\n"
        out.append(save_version(Path(root), "p", text, author=f"proc-{k}").id)
    return out


def test_concurrent_process_saves_all_survive(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    start = time.time() + 3.0
    with ctx.Pool(4) as pool:
        results = pool.map(_save_in_process, [(str(tmp_path), k, start) for k in range(4)])
    expected = {i for ids in results for i in ids}
    versions = list_versions(tmp_path, "p")
    assert {v.id for v in versions} == expected
    assert len(versions) == 4 * 4 + 4  # 4 own texts per process + 4 shared texts
    assert all(version_id(v.text) == v.id for v in versions)
    assert not [p for p in (tmp_path / "policies" / "p").iterdir() if p.name.startswith(".")]


# --- import / export and hand edits --------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"# Criteria\r\n\r\n## Overview\r\nWindows line endings\r\n",
        b"\xef\xbb\xbf# With a BOM\n",
        b"no trailing newline   \t",
        "mixed \u00e9\u4e2d\U0001f600\rold mac\n".encode("utf-8"),
        b"\n\n\nleading blank lines\n\n\n",
    ],
)
def test_import_export_round_trip_is_byte_for_byte(tmp_path, data):
    src = tmp_path / "in.md"
    src.write_bytes(data)
    v = import_policy(tmp_path, "p", src, author="me")
    assert v.note == "imported from in.md"
    assert policy_bytes(v) == data
    out = export_policy(v, tmp_path / "out.md")
    assert out.read_bytes() == data
    reloaded = get_version(tmp_path, "p", v.id)
    assert export_policy(reloaded, tmp_path / "again.md").read_bytes() == data
    assert import_policy(tmp_path, "p", data, filename="upload.md") == v  # same text, same version


def test_import_rejects_non_utf8(tmp_path):
    with pytest.raises(ValidationError) as info:
        import_policy(tmp_path, "p", b"caf\xe9 policy", filename="latin.md")
    assert str(info.value.problems[0]) == (
        "latin.md: not valid UTF-8 at byte 3; save the policy as UTF-8 and import it again "
        "(value \"b'\\\\xe9 policy'\")"
    )


def test_import_missing_file(tmp_path):
    with pytest.raises(NotFoundError, match="Cannot read policy file '.*nope.md'"):
        import_policy(tmp_path, "p", tmp_path / "nope.md")


def test_export_refuses_to_overwrite_unless_asked(tmp_path):
    v = save_version(tmp_path, "p", TEXT)
    dest = tmp_path / "out.md"
    dest.write_text("keep me")
    with pytest.raises(ConfigError, match="already exists"):
        export_policy(v, dest)
    assert dest.read_text() == "keep me"
    export_policy(v, dest, overwrite=True)
    assert dest.read_bytes() == TEXT.encode()


def test_hand_edited_text_is_reported_not_trusted(tmp_path):
    v = save_version(tmp_path, "p", TEXT)
    md = tmp_path / "policies" / "p" / f"{v.id[7:23]}.md"
    md.write_text(TEXT + "sneaky edit\n")
    with pytest.raises(ConfigError, match="was changed after it was saved"):
        list_versions(tmp_path, "p")


def test_corrupt_metadata_is_reported(tmp_path):
    v = save_version(tmp_path, "p", TEXT)
    (tmp_path / "policies" / "p" / f"{v.id[7:23]}.json").write_text("<<<<<<< HEAD\n")
    with pytest.raises(ConfigError, match="is not valid policy version metadata"):
        list_versions(tmp_path, "p")


def test_sample_policies_in_repo_load_and_follow_zentropi_layout():
    repo = Path(__file__).resolve().parents[1]
    slugs = list_policies(repo)
    assert slugs == ["drugs", "harassment", "hate-speech", "self-harm", "sexual-content", "toxic-speech", "violence"]
    for slug in slugs:
        versions = list_versions(repo, slug)
        for v in versions:
            for heading in ("# Criteria", "## Overview", "## Definition of Terms", "## Interpretation of Language",
                            "## Definition of Label", "#### Includes", "#### Excludes"):
                assert f"\n{heading}\n" in f"\n{v.text}", (slug, heading)
            excludes = v.text.split("#### Excludes", 1)[1]
            assert excludes.count("\n- ") >= 4, slug
        if len(versions) > 1:
            assert versions[1].parent == versions[0].id
    assert sum(len(list_versions(repo, s)) > 1 for s in slugs) >= 3


def test_library_does_not_import_streamlit():
    code = "import sys, cope_eval.policies, cope_eval.golden; " \
           "print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"



# --- the size limit, one check for the page and the CLI --------------------------------------------


def test_policy_size_limit_is_one_check_for_saving_and_reading_a_file(tmp_path):
    big = "# Criteria\n" + "x" * MAX_POLICY_BYTES
    with pytest.raises(ValidationError, match=r"policy text is 2,097,163 bytes, over the limit of 2,097,152 bytes"):
        save_version(tmp_path, "p", big)
    path = tmp_path / "big.md"
    path.write_text("# Criteria\n" + "x" * 3_300_000)
    with pytest.raises(ValidationError, match=r"big.md: policy text is 3,300,011 bytes, over the limit"):
        read_policy_file(path)
    with pytest.raises(ValidationError, match="over the limit"):
        import_policy(tmp_path, "p", path)
    path.write_text("# Criteria\n" + "x" * (MAX_POLICY_BYTES - 11))
    assert len(read_policy_file(path).encode()) == MAX_POLICY_BYTES  # exactly the limit is allowed
    assert not (tmp_path / "policies").exists()


# --- stray entries in a policy folder ------------------------------------------------------------


@pytest.mark.parametrize("stray, make", [
    ("notes.txt", lambda p: p.write_text("to do")),
    ("notes.json", lambda p: p.write_text("not json")),
    ("draft.json", lambda p: p.write_bytes(b"\xff\xfe not utf-8")),
    ("old", lambda p: p.mkdir()),
    ("0123456789abcdef.json", lambda p: p.mkdir()),  # a folder with a version's name
])
def test_stray_entries_do_not_hide_the_versions(tmp_path, stray, make):
    v = save_version(tmp_path, "p", TEXT)
    make(tmp_path / "policies" / "p" / stray)
    assert list_policies(tmp_path) == ["p"] and list_versions(tmp_path, "p") == [v]
    assert scan_policy(tmp_path, "p") == ([v], [f"policies/p/{stray} is not a policy version file; it is ignored"])


def test_scan_reports_a_damaged_version_and_keeps_the_others(tmp_path):
    good = save_version(tmp_path, "p", TEXT)
    bad = save_version(tmp_path, "p", TEXT + "more\n")
    (tmp_path / "policies" / "p" / f"{bad.id[7:23]}.md").write_text("edited by hand\n")
    versions, problems = scan_policy(tmp_path, "p")
    assert versions == [good] and len(problems) == 1 and "was changed after it was saved" in problems[0]
