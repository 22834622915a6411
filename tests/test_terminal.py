"""Hostile text printed by the CLIs: nothing in it can move the cursor or reorder the line."""

import math

import pytest

from cope_eval.cli._terminal import terminal_safe


@pytest.mark.parametrize("text, shown", [
    ("plain café ✓", "plain café ✓"),
    ("\x1b[2Jwiped", " [2Jwiped"),
    ("over\rwrite", "over write"),
    ("tab\tand\nnewline", "tab and newline"),
    ("\u202eevil\u202c", " evil "),
    ("a\u2028b\u2066c", "a b c"),
    ("\x9bC1 escape", " C1 escape"),
])
def test_unsafe_characters_become_spaces(text, shown):
    assert terminal_safe(text) == shown


def test_missing_values_and_width():
    assert terminal_safe(None) == "" and terminal_safe(math.nan) == ""
    assert terminal_safe(12345, 3) == "123"
