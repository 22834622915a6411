"""Runs named in a page's address (``?run=<id>``, ``?runs=<a>,<b>``): read back and checked, so a
tab that reconnects after a restart, a reload or a copied link opens on the same runs.

An address is typed, pasted and shared, so it is input like any other: an id this workspace does
not have (a typo, a run deleted, a link from another deployment) is left out and named in a note,
never followed and never an error.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ._views import escape_markdown

SEPARATOR = ","
"""Between the ids of one parameter: run ids never hold one (``run-<date>-<time>-<hex>``)."""
SHOWN_UNKNOWN = 3
"""Unknown ids a note names; the rest are counted."""
SHOWN_CHARS = 40
"""Characters of an unknown id a note shows: an address can hold anything, of any length."""


@dataclass(frozen=True)
class LinkedRuns:
    """What one address parameter names."""

    runs: list[str]
    """The ids this workspace has, in the address's order, each once, at most ``most`` of them."""
    unknown: list[str]
    """The ids it does not have, in the address's order, each once."""

    def note(self, kind: str = "run") -> str | None:
        """One line (Markdown, escaped) naming the unknown ids, or None when there are none; ``kind``
        says what the page looked for ("run", "scored run")."""
        if not self.unknown:
            return None
        shown = ", ".join(escape_markdown(_clip(i)) for i in self.unknown[:SHOWN_UNKNOWN])
        more = len(self.unknown) - SHOWN_UNKNOWN
        rest = f" and {more:,} more" if more > 0 else ""
        named = f"{kind}s" if len(self.unknown) > 1 else f"a {kind}"
        return f"The address names {named} this workspace does not have, left out: {shown}{rest}."


def linked_runs(value: str | None, known: Collection[str], *, most: int) -> LinkedRuns:
    """The run ids of one address parameter (``link_value``'s form; None: not in the address),
    split into those in ``known`` (the page's own list of runs; kept to the first ``most``) and
    the rest."""
    runs: list[str] = []
    unknown: list[str] = []
    for part in (value or "").split(SEPARATOR):
        run_id = part.strip()
        if not run_id or run_id in runs or run_id in unknown:
            continue
        (runs if run_id in known else unknown).append(run_id)
    return LinkedRuns(runs[:most], unknown)


def link_value(run_ids: Sequence[str | None]) -> str | None:
    """The parameter's value for ``run_ids`` (Nones left out), or None when no run is left: the
    parameter then goes from the address."""
    ids = [i for i in run_ids if i is not None]
    return SEPARATOR.join(ids) if ids else None


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"
