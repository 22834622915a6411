"""Policy clauses: every list item and prose paragraph, stable ids, removal that keeps every other byte."""

from pathlib import Path

import pytest

from cope_eval.errors import ConfigError
from cope_eval.policies import Clause, pick_clauses, split_clauses, without
from cope_eval.policies._clauses import policy_lines

SAMPLES = sorted(Path(__file__).resolve().parent.parent.joinpath("policies").glob("*/*.md"))

HARASSMENT = """# Criteria

## Overview

This policy identifies harassment.
It protects individuals.

## Definition of Terms

- **Target**: an identifiable person, named, tagged, or addressed as
  "you" in a reply to them.
- **Pile-on**: asking others to mock a target.

## Definition of Label

### Harassment (HR)

#### Includes

- Insults aimed at a person.
- Threats against a target.

#### Excludes

- Criticism of public figures.
"""


def test_a_zentropi_policy_splits_into_items_and_paragraphs_with_sections_and_lines():
    clauses = split_clauses(HARASSMENT)
    assert [(c.id, c.section, c.kind, c.first_line, c.last_line) for c in clauses] == [
        ("overview-1", "Overview", "paragraph", 5, 6),
        ("terms-1", "Definition of Terms", "item", 10, 11),
        ("terms-2", "Definition of Terms", "item", 12, 12),
        ("includes-1", "Includes", "item", 20, 20),
        ("includes-2", "Includes", "item", 21, 21),
        ("excludes-1", "Excludes", "item", 25, 25),
    ]
    assert clauses[1].text == '- **Target**: an identifiable person, named, tagged, or addressed as\n  "you" in a reply to them.'
    assert clauses[1].summary == '**Target**: an identifiable person, named, tagged, or addressed as "you" in a r…'


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem[:6]}")
def test_every_sample_policy_splits_into_clauses_whose_removal_is_exact(path):
    text = path.read_text(encoding="utf-8")
    clauses = split_clauses(text)
    ids = [c.id for c in clauses]
    assert len(ids) == len(set(ids)), "ids are unique"
    assert {"overview-1", "includes-1", "excludes-1"} <= set(ids)
    assert split_clauses(text) == clauses, "the same text gives the same clauses"
    lines = policy_lines(text)
    for clause in clauses:
        assert lines[clause.first_line - 1].lstrip().startswith("- ") == (clause.kind == "item")
        removed = without(text, clause)
        assert removed == "".join(lines[:clause.first_line - 1] + lines[clause.last_line:])
        assert len(policy_lines(removed)) == len(lines) - (clause.last_line - clause.first_line + 1)
    covered = {n for c in clauses for n in range(c.first_line, c.last_line + 1)}
    rest = [line for n, line in enumerate(lines, start=1) if n not in covered]
    assert all(not line.strip() or line.startswith("#") for line in rest), "only headings and blanks are no clause"


def test_ids_of_a_section_do_not_move_when_another_section_is_edited():
    before = {c.id: c.text for c in split_clauses(HARASSMENT)}
    edited = HARASSMENT.replace("- **Pile-on**: asking others to mock a target.\n", "")
    after = {c.id: c.text for c in split_clauses(edited)}
    assert "terms-2" not in after
    assert {k: v for k, v in before.items() if k != "terms-2"} == after


def test_continuation_lines_lazy_indented_after_a_blank_and_nested_items_stay_with_their_item():
    text = ("#### Includes\n"
            "- First item\n"
            "lazily continued.\n"
            "\n"
            "  Second paragraph of the first item.\n"
            "  - a nested item\n"
            "- Second item\n"
            "  continued.\n"
            "\n"
            "Prose after the list.\n")
    clauses = split_clauses(text)
    assert [(c.id, c.kind, c.first_line, c.last_line) for c in clauses] == [
        ("includes-1", "item", 2, 6), ("includes-2", "item", 7, 8), ("includes-3", "paragraph", 10, 10)]
    assert without(text, clauses[0]) == "#### Includes\n- Second item\n  continued.\n\nProse after the list.\n"


def test_removal_keeps_crlf_endings_and_a_missing_final_newline():
    text = "# Criteria\r\n\r\n#### Includes\r\n- Threats.\r\n- Insults\r\n  and mockery."
    first, second = split_clauses(text)
    assert (second.first_line, second.last_line, second.text) == (5, 6, "- Insults\r\n  and mockery.".replace("\r", ""))
    assert without(text, first) == "# Criteria\r\n\r\n#### Includes\r\n- Insults\r\n  and mockery."
    assert without(text, second) == "# Criteria\r\n\r\n#### Includes\r\n- Threats.\r\n"


def test_numbered_and_star_items_and_rules():
    text = "## Rules\n1. One.\n2) Two.\n* Three.\n+ Four.\n\n---\n\nAfter the rule.\n"
    assert [(c.id, c.kind, c.text) for c in split_clauses(text)] == [
        ("rules-1", "item", "1. One."), ("rules-2", "item", "2) Two."), ("rules-3", "item", "* Three."),
        ("rules-4", "item", "+ Four."), ("rules-5", "paragraph", "After the rule.")]


def test_a_policy_without_items_is_paragraphs_and_one_without_headings_is_a_preamble():
    text = "Flag threats of violence.\nAlso wishes of harm.\n\nNothing else.\n"
    clauses = split_clauses(text)
    assert [(c.id, c.section, c.kind, c.first_line, c.last_line) for c in clauses] == [
        ("preamble-1", "", "paragraph", 1, 2), ("preamble-2", "", "paragraph", 4, 4)]
    assert without(text, clauses[1]) == "Flag threats of violence.\nAlso wishes of harm.\n\n"
    assert split_clauses("# Criteria\n\n## Overview\n") == []
    assert split_clauses("") == []


def test_repeated_section_names_take_their_parent_heading():
    text = ("## Definition of Label\n### Threats (TH)\n#### Includes\n- A.\n"
            "### Insults (IN)\n#### Includes\n- B.\n#### Includes\n- C.\n")
    assert [c.id for c in split_clauses(text)] == ["includes-1", "insults-in-includes-1", "insults-in-includes-2-1"]


def test_without_refuses_a_clause_of_another_text():
    clause = split_clauses(HARASSMENT)[3]
    with pytest.raises(ConfigError, match="includes-1 .* is not in this policy text"):
        without(HARASSMENT.replace("Insults aimed", "Insults made"), clause)


def test_pick_clauses_keeps_policy_order_and_names_the_valid_ids():
    clauses = split_clauses(HARASSMENT)
    assert [c.id for c in pick_clauses(clauses, ["excludes-1", "terms-1"])] == ["terms-1", "excludes-1"]
    assert pick_clauses(clauses, None) == clauses
    with pytest.raises(ConfigError, match="Unknown clause id 'includes-9'; this policy has: overview-1, terms-1"):
        pick_clauses(clauses, ["includes-9"])
    with pytest.raises(ConfigError, match="no clauses"):
        pick_clauses([], None)


def test_summary_drops_the_marker_and_cuts_long_text():
    clause = Clause("x-1", "X", "item", "- " + "word " * 40, 1, 1)
    assert not clause.summary.startswith("-") and len(clause.summary) == 80 and clause.summary.endswith("…")
