"""The edit from one policy text to another, cut into hunks that can be undone one at a time.

A hunk is a block of consecutive changed lines: lines removed from the old text, added in the
new, or both. Lines are matched as the policy diff matches them (canonical lines, difflib
without its junk heuristic), so hunk line numbers are those the Compare page's diff shows.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..errors import ConfigError
from ._clauses import policy_lines


@dataclass(frozen=True)
class Hunk:
    """One contiguous block of changed lines between an old and a new policy text."""

    id: str
    """``hunk-1``, ``hunk-2``... in the order of the new text."""
    old_first: int
    """1-based number of its first old line; for a pure insertion, the old line it comes before."""
    old_lines: tuple[str, ...]
    """The old text's lines it replaces (line endings dropped); empty for a pure insertion."""
    new_first: int
    """1-based number of its first new line; for a pure deletion, the new line it would come before."""
    new_lines: tuple[str, ...]
    """The new text's lines (line endings dropped); empty for a pure deletion."""

    @property
    def kind(self) -> str:
        """``added``, ``removed`` or ``changed``."""
        return "added" if not self.old_lines else "removed" if not self.new_lines else "changed"

    @property
    def where(self) -> str:
        """Where it sits, for a label: ``old 12-13 → new 12-14``."""
        return f"old {_span(self.old_first, len(self.old_lines))} → new {_span(self.new_first, len(self.new_lines))}"

    def patch(self) -> str:
        """Its old lines marked ``-`` and new lines marked ``+``, as a unified diff shows them."""
        return "\n".join([f"-{line}" for line in self.old_lines] + [f"+{line}" for line in self.new_lines])


def diff_hunks(old_text: str, new_text: str) -> list[Hunk]:
    """The hunks that turn ``old_text`` into ``new_text``; [] when their lines are the same (a
    difference in the final newline alone is not a hunk)."""
    old, new = _bare(old_text), _bare(new_text)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    changed = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    return [Hunk(f"hunk-{n}", i1 + 1, tuple(old[i1:i2]), j1 + 1, tuple(new[j1:j2]))
            for n, (_, i1, i2, j1, j2) in enumerate(changed, start=1)]


def revert_hunk(old_text: str, new_text: str, hunk: Hunk) -> str:
    """``new_text`` with this one hunk put back as it was in ``old_text``; every other byte of
    ``new_text`` is kept."""
    old, new = policy_lines(old_text), policy_lines(new_text)
    i1, j1 = hunk.old_first - 1, hunk.new_first - 1
    i2, j2 = i1 + len(hunk.old_lines), j1 + len(hunk.new_lines)
    if _bare_of(old[i1:i2]) != list(hunk.old_lines) or _bare_of(new[j1:j2]) != list(hunk.new_lines):
        raise ConfigError(f"{hunk.id} ({hunk.where}) does not belong to these two texts; diff them again.")
    # Only an old text's last line can lack its line ending, and a hunk holding it ends both
    # texts (lines after it would be equal lines after it in the old text): no line is glued.
    return "".join(new[:j1] + old[i1:i2] + new[j2:])


def _bare(text: str) -> list[str]:
    return _bare_of(policy_lines(text))


def _bare_of(lines: list[str]) -> list[str]:
    return [line.rstrip("\r\n") for line in lines]


def _span(first: int, count: int) -> str:
    if count == 0:
        return f"(before {first})"
    return str(first) if count == 1 else f"{first}-{first + count - 1}"
