"""Policy hunks: the diff A -> B in blocks of changed lines, each revertible alone, byte-exact."""

import pytest

from cope_eval.errors import ConfigError
from cope_eval.policies import Hunk, diff_hunks, diff_texts, revert_hunk

OLD = "# Criteria\n\n#### Includes\n- Insults about someone.\n- Threats of violence.\n\n#### Excludes\n- Satire pieces.\n"
NEW = "# Criteria\n\n#### Includes\n- Doxxing addresses.\n- Threats of violence.\n- Cooking recipes.\n\n#### Excludes\n"


def test_hunks_are_the_changed_line_blocks_with_old_and_new_lines():
    hunks = diff_hunks(OLD, NEW)
    assert hunks == [
        Hunk("hunk-1", 4, ("- Insults about someone.",), 4, ("- Doxxing addresses.",)),
        Hunk("hunk-2", 6, (), 6, ("- Cooking recipes.",)),
        Hunk("hunk-3", 8, ("- Satire pieces.",), 9, ()),
    ]
    assert [h.kind for h in hunks] == ["changed", "added", "removed"]
    assert [h.where for h in hunks] == ["old 4 → new 4", "old (before 6) → new 6", "old 8 → new (before 9)"]


def test_hunk_line_numbers_match_the_policy_diff_rows():
    rows = [r for r in diff_texts(OLD, NEW).rows if r.kind != "equal"]
    hunks = diff_hunks(OLD, NEW)
    assert {r.old_line for r in rows} - {None} == {h.old_first + k for h in hunks for k in range(len(h.old_lines))}
    assert {r.new_line for r in rows} - {None} == {h.new_first + k for h in hunks for k in range(len(h.new_lines))}


def test_reverting_one_hunk_changes_only_its_lines():
    one, two, three = diff_hunks(OLD, NEW)
    assert revert_hunk(OLD, NEW, one) == NEW.replace("- Doxxing addresses.\n", "- Insults about someone.\n")
    assert revert_hunk(OLD, NEW, two) == NEW.replace("- Cooking recipes.\n", "")
    assert revert_hunk(OLD, NEW, three) == NEW + "- Satire pieces.\n"


def test_reverting_keeps_each_side_s_line_endings():
    old, new = "a\r\nold\r\nz", "a\nnew\nz\n"
    [hunk] = diff_hunks(old, new)
    assert revert_hunk(old, new, hunk) == "a\nold\r\nz\n"
    old, new = "a\nq", "a\nb\nc\n"
    [hunk] = diff_hunks(old, new)
    assert revert_hunk(old, new, hunk) == "a\nq", "an unterminated old last line ends the text again"


def test_same_lines_give_no_hunk_even_when_line_endings_differ():
    assert diff_hunks("a\nb\n", "a\r\nb") == []


def test_a_hunk_of_other_texts_is_refused():
    hunk = diff_hunks(OLD, NEW)[0]
    with pytest.raises(ConfigError, match="hunk-1 .* does not belong"):
        revert_hunk(OLD, NEW.replace("Doxxing", "Stalking"), hunk)
