"""A Markdown policy split into clauses: the units an ablation removes one at a time.

A clause is one list item (``- ``, ``* ``, ``+ `` or ``1. ``) with its continuation lines, or
one prose paragraph (the Overview, say): both are statements that can change a decision.
Headings are never clauses: a heading alone states nothing, and removing it would silently
merge its bullets into the section above.

Continuation lines of a list item: any line right after it that is not blank, a heading or a
new item at the same or a shallower indent (Markdown's lazy continuation), and after blank
lines, lines indented deeper than its marker (a second paragraph or a nested list, which stay
part of their parent item). Fenced code blocks get no special treatment; policies have none.

A clause id is ``<section>-<n>``: the nearest heading as a short name (``terms``,
``language``, ``includes``, ``excludes``, ``overview``, else a slug of its title;
``preamble`` before any heading) and the clause's position in that section, from 1. So an
edit in one section never renumbers another. A second section with the same name is prefixed
with its parent heading's name (``hate-speech-hs-includes-1``).

Line numbers count lines of the canonical text (``policies.canonical_text``: CRLF, CR and LF
each end a line), as the policy diff does; ``without`` removes those lines and keeps every
other byte as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import ConfigError

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_ITEM = re.compile(r"([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_SHORT_NAMES = {"definition of terms": "terms", "interpretation of language": "language",
                "definition of label": "label"}
SUMMARY_CHARS = 80


@dataclass(frozen=True)
class Clause:
    """One removable statement of a policy."""

    id: str
    """Stable name, e.g. ``includes-2``: section short name and position in the section."""
    section: str
    """Title of the nearest heading above it; "" before any heading."""
    kind: str
    """``item`` (a list item with its continuation lines) or ``paragraph`` (prose)."""
    text: str
    """Its lines as written, joined by "\\n" (line endings dropped)."""
    first_line: int
    """1-based number of its first line."""
    last_line: int
    """1-based number of its last line (inclusive)."""

    @property
    def summary(self) -> str:
        """One line for menus and labels: marker dropped, spaces collapsed, cut to 80 characters."""
        flat = " ".join(re.sub(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+", "", self.text).split())
        return flat if len(flat) <= SUMMARY_CHARS else flat[:SUMMARY_CHARS - 1] + "…"


def policy_lines(text: str) -> list[str]:
    """The lines of ``text`` with their endings (CRLF, CR or LF), so ``"".join`` gives it back;
    one per line of the canonical text."""
    return _LINE.findall(text)


def split_clauses(text: str) -> list[Clause]:
    """The clauses of ``text`` in reading order (see the module notes for the rules)."""
    lines = [line.rstrip("\r\n") for line in policy_lines(text)]
    splitter = _Splitter(lines)
    for number, line in enumerate(lines):
        splitter.feed(number, line)
    splitter.close()
    return splitter.clauses


def without(text: str, clause: Clause) -> str:
    """``text`` with exactly the clause's lines removed; every other byte is kept."""
    lines = policy_lines(text)
    span = lines[clause.first_line - 1:clause.last_line]
    if "\n".join(line.rstrip("\r\n") for line in span) != clause.text:
        raise ConfigError(f"Clause {clause.id} (lines {clause.first_line}-{clause.last_line}) is not in this "
                          "policy text; split the text again to get its clauses.")
    return "".join(lines[:clause.first_line - 1] + lines[clause.last_line:])


def pick_clauses(clauses: Sequence[Clause], ids: Iterable[str] | None) -> list[Clause]:
    """The clauses named by ``ids`` in policy order; all of them when ``ids`` is None or empty."""
    wanted = list(ids or [])
    known = {c.id for c in clauses}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise ConfigError(f"Unknown clause id {unknown[0]!r}; this policy has: {', '.join(c.id for c in clauses)}.")
    if not clauses:
        raise ConfigError("This policy has no clauses (no list items and no prose) to remove.")
    return [c for c in clauses if not wanted or c.id in wanted]


class _Splitter:
    """Walks the lines once, keeping the open clause and the heading trail."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.clauses: list[Clause] = []
        self.trail: list[tuple[int, str]] = []  # (heading level, section name) from the top
        self.section, self.name, self.used = "", "preamble", {"preamble"}
        self.counts: dict[str, int] = {}
        self.open: tuple[str, int, int] | None = None  # (kind, first line index, marker indent)
        self.last = -1  # index of the open clause's last non-blank line

    def feed(self, number: int, line: str) -> None:
        heading, item = _HEADING.match(line), _ITEM.match(line)
        if heading:
            self.close()
            self.enter(len(heading.group(1)), (heading.group(2) or "").strip())
        elif not line.strip():
            if self.open and self.open[0] == "paragraph":
                self.close()
        elif _RULE.match(line) and not item:
            self.close()
        elif self.continues(line, item, number):
            self.last = number
        else:
            self.close()
            indent = len(item.group(1).expandtabs(4)) if item else 0
            self.open, self.last = ("item" if item else "paragraph", number, indent), number

    def continues(self, line: str, item, number: int) -> bool:
        if self.open is None:
            return False
        kind, _, marker_indent = self.open
        spaced = line.expandtabs(4)
        deeper = len(spaced) - len(spaced.lstrip()) > marker_indent
        if kind == "paragraph":
            return item is None
        if number == self.last + 1:  # no blank line between: lazy continuation or a nested item
            return item is None or len(item.group(1).expandtabs(4)) > marker_indent
        return deeper

    def close(self) -> None:
        if self.open is None:
            return
        kind, first, _ = self.open
        self.counts[self.name] = self.counts.get(self.name, 0) + 1
        self.clauses.append(Clause(f"{self.name}-{self.counts[self.name]}", self.section, kind,
                                   "\n".join(self.lines[first:self.last + 1]), first + 1, self.last + 1))
        self.open = None

    def enter(self, level: int, title: str) -> None:
        while self.trail and self.trail[-1][0] >= level:
            self.trail.pop()
        name = _short_name(title)
        if name in self.used and self.trail:
            name = f"{self.trail[-1][1]}-{name}"
        unique, n = name, 1
        while unique in self.used:
            n += 1
            unique = f"{name}-{n}"
        self.used.add(unique)
        self.trail.append((level, unique))
        self.section, self.name = title, unique


def _short_name(title: str) -> str:
    lowered = " ".join(title.lower().split())
    if lowered in _SHORT_NAMES:
        return _SHORT_NAMES[lowered]
    slug = re.sub(r"[^a-z0-9]+", "-", lowered).strip("-")[:40].strip("-")
    return slug or "section"
