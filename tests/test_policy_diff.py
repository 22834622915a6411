"""Policy diffs: aligned rows, word-level marks, HTML escaping, unified diff for export."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from cope_eval.policies import diff_texts, diff_versions, save_version
from cope_eval.policies._diff import DIFF_CSS, diff_rows, side_by_side_html, unified_diff

OLD = """# Criteria
## Definition of Label
#### Includes
- Slurs used to demean people.
- Calls to exclude a protected group.
#### Excludes
- Counter-speech quoting slurs.
"""

NEW = """# Criteria
## Definition of Label
#### Includes
- Slurs, including coded slurs, used to demean people.
- Calls to exclude a protected group.
- Stereotypes stated as fact.
#### Excludes
"""


def kinds(rows):
    return [r.kind for r in rows]


def test_rows_align_and_count_changes():
    diff = diff_texts(OLD, NEW)
    assert kinds(diff.rows) == ["equal", "equal", "equal", "change", "equal", "insert", "equal", "delete"]
    assert (diff.added, diff.removed, diff.changed, diff.identical) == (1, 1, 1, False)
    change = diff.rows[3]
    assert (change.old_line, change.new_line) == (4, 4)
    inserted, deleted = diff.rows[5], diff.rows[7]
    assert (inserted.old_line, inserted.new_line, inserted.old_html) == (None, 6, "")
    assert (deleted.old_line, deleted.new_line, deleted.new_html) == (7, None, "")


def test_word_level_highlights_inside_a_changed_line():
    row = diff_rows("- Slurs used to demean people.", "- Slurs, including coded slurs, used to demean people.")[0]
    assert row.kind == "change"
    assert row.old_html == "- Slurs used to demean people."
    assert row.new_html == "- Slurs<ins>, including coded slurs,</ins> used to demean people."
    row = diff_rows("threats of violence", "threats of serious harm")[0]
    assert row.old_html == "threats of <del>violence</del>"
    assert row.new_html == "threats of <ins>serious harm</ins>"


def test_similar_lines_are_paired_even_when_blocks_differ_in_size():
    old = "alpha beta gamma\nunrelated line one\n"
    new = "totally new first line\nalpha beta gamma delta\n"
    rows = diff_rows(old, new)
    change = [r for r in rows if r.kind == "change"]
    assert len(change) == 1
    assert change[0].old_html == "alpha beta gamma" and change[0].new_html == "alpha beta gamma<ins> delta</ins>"
    assert sorted(kinds(rows)) == ["change", "delete", "insert"]


def test_everything_is_html_escaped():
    old = 'Ban <script>alert("x")</script> & friends\n'
    new = 'Ban <script>alert("y")</script> & friends\n'
    diff = diff_texts(old, new, old_label="<b>old</b>", new_label='"new"')
    assert "<script>" not in diff.html
    assert "&lt;script&gt;alert(&quot;" in diff.html
    assert "&amp; friends" in diff.html
    assert "&lt;b&gt;old&lt;/b&gt;" in diff.html and "&quot;new&quot;" in diff.html
    body = diff.html.replace(DIFF_CSS, "")
    tags = set(re.findall(r"</?([a-z]+)", body))
    assert tags <= {"table", "thead", "tbody", "tr", "th", "td", "del", "ins"}


def test_line_endings_alone_are_not_a_change():
    diff = diff_texts(OLD, OLD.replace("\n", "\r\n"))
    assert diff.identical
    assert set(kinds(diff.rows)) == {"equal"}
    assert diff.unified == ""


def test_trailing_newline_difference_shows_only_in_unified():
    diff = diff_texts("a\nb\n", "a\nb")
    assert not diff.identical
    assert set(kinds(diff.rows)) == {"equal"}
    assert diff.unified.endswith("-b\n+b\n\\ No newline at end of file\n")


def test_unchanged_runs_are_collapsed_around_changes():
    old = "".join(f"line {i}\n" for i in range(1, 31))
    new = old.replace("line 15\n", "line fifteen\n")
    html = diff_texts(old, new, context=2).html
    assert html.count("… 12 unchanged lines …") == 1  # lines 1-12 hidden
    assert html.count("… 13 unchanged lines …") == 1  # lines 18-30 hidden
    assert html.count('<tr class="equal">') == 4
    full = diff_texts(old, new, context=None).html
    assert "unchanged" not in full and full.count('<tr class="equal">') == 29
    assert '<td class="ln">15</td><td class="old">line <del>15</del></td>' in full


def test_css_can_be_left_out():
    rows = diff_rows("a", "b")
    assert side_by_side_html(rows).startswith(DIFF_CSS)
    assert side_by_side_html(rows, include_css=False).startswith('<table class="policy-diff">')


def test_unified_diff_format():
    text = unified_diff(OLD, NEW, old_label="v1", new_label="v2")
    assert text.splitlines()[:3] == ["--- v1", "+++ v2", "@@ -1,7 +1,7 @@"]
    assert "-- Slurs used to demean people.\n+- Slurs, including coded slurs, used to demean people.\n" in text
    assert "+- Stereotypes stated as fact.\n" in text
    assert "-- Counter-speech quoting slurs.\n" in text


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs the patch tool")
def test_unified_diff_applies_with_patch(tmp_path):
    cases = [(OLD, NEW), ("a\nb\n", "a\nb"), ("x", "x\ny\n"), ("", "new\n"), ("form\x0cfeed\nline\u2028sep\n", "z\n")]
    for k, (old, new) in enumerate(cases):
        target = tmp_path / f"policy{k}.md"
        target.write_bytes(old.encode())
        patch = unified_diff(old, new, old_label=target.name, new_label=target.name)
        subprocess.run(["patch", "-s", str(target)], input=patch.encode(), check=True)
        assert target.read_bytes() == new.encode(), (old, new)


def test_diff_versions_labels_and_identity(tmp_path):
    from cope_eval.policies import version_labels

    v1 = save_version(tmp_path, "hate-speech", OLD, created="2025-01-01T00:00:00Z")
    v2 = save_version(tmp_path, "hate-speech", NEW, parent=v1.id, created="2025-01-02T00:00:00Z")
    diff = diff_versions(v1, v2)
    assert f"--- hate-speech ({v1.id[7:15]}), 2025-01-01T00:00:00.000000Z" in diff.unified
    assert f"hate-speech ({v2.id[7:15]}), 2025-01-02T00:00:00.000000Z</th>" in diff.html
    labelled = diff_versions(v1, v2, labels=version_labels(tmp_path, "hate-speech"))
    assert f"--- hate-speech v1 ({v1.id[7:15]}), 2025-01-01" in labelled.unified
    assert f"hate-speech v2 ({v2.id[7:15]}), 2025-01-02T00:00:00.000000Z</th>" in labelled.html
    assert diff_versions(v1, v1).identical


def test_sample_policy_versions_have_real_diffs():
    from pathlib import Path

    from cope_eval.policies import list_versions

    repo = Path(__file__).resolve().parents[1]
    for slug in ("harassment", "hate-speech", "violence"):
        v1, v2 = list_versions(repo, slug)[:2]
        diff = diff_versions(v1, v2)
        assert diff.changed + diff.added >= 1, slug
        assert "<ins>" in diff.html, slug


def test_large_replace_blocks_stay_fast():
    old = "\n".join(f"old line number {i} with words" for i in range(400))
    new = "\n".join(f"new line number {i} with other words" for i in range(400))
    diff = diff_texts(old, new)
    assert diff.changed + diff.added + diff.removed >= 400
