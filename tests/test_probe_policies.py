"""The probe texts: inversion swaps Includes and Excludes and keeps the definitions; the rest is wrapped."""

from cope_eval.config import REPO_ROOT
from cope_eval.export._zentropi import criteria_warnings
from cope_eval.insight._probe_policies import (
    INCLUDES_WIN, INVERTED, INVERTED_OVERVIEW, NONE_OF_THE_EXCLUDES, OFF_TOPIC, OFF_TOPIC_POLICY,
    WRAP_AFTER, WRAP_BEFORE, invert_policy, probe_variants
)
from cope_eval.policies import list_versions
from tests.label_reader import label_reader

HARASSMENT = next(v.text for v in list_versions(REPO_ROOT, "harassment"))


def block(text: str, heading: str) -> list[str]:
    """The non-blank lines under ``heading`` up to the next heading."""
    lines = text.split("\n")
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return [line for line in lines[start:end] if line.strip()]


def test_structured_policy_swaps_includes_and_excludes_and_keeps_the_definitions():
    inverted = invert_policy(HARASSMENT)
    includes, excludes = block(HARASSMENT, "#### Includes"), block(HARASSMENT, "#### Excludes")
    assert block(inverted, "#### Includes") == excludes + [NONE_OF_THE_EXCLUDES]
    assert block(inverted, "#### Excludes") == [INCLUDES_WIN] + includes
    for kept in ("## Definition of Terms", "## Interpretation of Language"):
        assert block(inverted, kept) == block(HARASSMENT, kept), f"{kept} kept word for word"
    assert "### Not Harassment (HR)" in inverted and "### Harassment (HR)" not in inverted
    assert block(inverted, "## Overview") == [INVERTED_OVERVIEW] + block(HARASSMENT, "## Overview")
    assert inverted.startswith("# Criteria\n") and inverted.endswith("\n")


def test_a_policy_without_excludes_gets_its_includes_as_excludes():
    inverted = invert_policy("# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats.\n- Insults.\n")
    assert block(inverted, "#### Includes") == [NONE_OF_THE_EXCLUDES]
    assert block(inverted, "#### Excludes") == [INCLUDES_WIN, "- Threats.", "- Insults."]
    assert "## Definition of Label" in inverted, "a section title is not renamed as if it were a label"


def test_crlf_and_continuation_lines_travel_with_their_bullet():
    text = "#### Includes\r\n- Sharing an address, phone\r\n  number or workplace.\r\n#### Excludes\r\n- Jokes.\r\n"
    inverted = invert_policy(text)
    assert block(inverted, "#### Excludes")[1:] == ["- Sharing an address, phone", "  number or workplace."]
    assert "\r" not in inverted


def test_unstructured_and_multi_label_policies_are_wrapped_in_an_explicit_not():
    plain = "Flag threats of violence and insults about a person."
    assert invert_policy(plain) == f"{WRAP_BEFORE}\n\n---\n\n{plain}\n\n---\n\n{WRAP_AFTER}\n"
    two_labels = "### A\n#### Includes\n- x\n### B\n#### Includes\n- y\n"
    wrapped = invert_policy(two_labels)
    assert wrapped.startswith(WRAP_BEFORE) and two_labels.strip() in wrapped
    assert "does NOT meet the criteria below" in WRAP_BEFORE


def test_inversion_is_exact_for_a_reader_of_includes_and_excludes():
    policy = ("# Criteria\n\n#### Includes\n- Threats of violence.\n- Insults aimed at someone.\n"
              "#### Excludes\n- Quoting abuse to condemn it.\n- Jokes between friends.\n")
    contents = ["threats again", "insults everywhere", "quoting threats to condemn", "jokes between friends",
                "a quiet walk", "jokes and insults"]
    for text in (policy, "- Threats of violence.\n- Insults aimed at someone.\n"):
        inverted = invert_policy(text)
        for content in contents:
            assert (label_reader(text, content) >= 0.5) != (label_reader(inverted, content) >= 0.5), content


def test_probe_variants_and_the_off_topic_policy():
    inverted, off_topic = probe_variants(HARASSMENT)
    assert (inverted.role, off_topic.role) == (INVERTED, OFF_TOPIC)
    assert inverted.text == invert_policy(HARASSMENT) and off_topic.text == OFF_TOPIC_POLICY
    assert criteria_warnings(OFF_TOPIC_POLICY) == (), "the off-topic policy is itself Zentropi-style"
    assert "chess" in OFF_TOPIC_POLICY.lower()
