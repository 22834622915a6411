"""Diffs between two policy texts: side by side with word-level highlights, and unified.

Both sides are compared as canonical text (line endings normalised, see
``policies.canonical_text``), so a CRLF/LF difference alone shows as no change. Every piece of
policy text placed in HTML goes through ``html.escape``; the unified diff is plain text for
export (a ``.diff`` file or ``st.code``), not HTML.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..records import PolicyVersion
from ._labels import version_title
from ._versions import canonical_text

_TOKEN_RE = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
_NEWLINE_SPLIT = re.compile(r"[^\n]*\n|[^\n]+$")
"""Lines with their LF; unlike str.splitlines, no split on form feeds or U+2028."""
_PAIR_CUTOFF = 0.5
_MAX_PAIRING = 40
"""Replace blocks with more lines than this on a side pair lines by position (cost is n*m)."""

DIFF_CSS = """<style>
table.policy-diff{border-collapse:collapse;width:100%;font-family:ui-monospace,monospace;font-size:0.85em}
table.policy-diff th{text-align:left;padding:4px;border-bottom:1px solid #ccc}
table.policy-diff td{vertical-align:top;padding:1px 4px;white-space:pre-wrap;word-break:break-word}
table.policy-diff td.ln{color:#888;text-align:right;width:3em;user-select:none}
table.policy-diff tr.delete td.old, table.policy-diff tr.change td.old{background:#fdecea}
table.policy-diff tr.insert td.new, table.policy-diff tr.change td.new{background:#e8f5e9}
table.policy-diff del{background:#f5b7b1;text-decoration:none}
table.policy-diff ins{background:#a9dfbf;text-decoration:none}
table.policy-diff tr.skip td{color:#888;text-align:center;background:#f6f6f6}
</style>"""
"""Default styling for ``PolicyDiff.html``; pass ``include_css=False`` to style it yourself."""


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff."""

    kind: str
    """``equal``, ``change`` (line edited), ``delete`` (old only) or ``insert`` (new only)."""
    old_line: int | None
    """1-based line number on the old side; None for an inserted line."""
    new_line: int | None
    """1-based line number on the new side; None for a deleted line."""
    old_html: str
    """Escaped old line; changed words wrapped in ``<del>``. Empty when absent."""
    new_html: str
    """Escaped new line; changed words wrapped in ``<ins>``. Empty when absent."""


@dataclass(frozen=True)
class PolicyDiff:
    """Everything a page needs to show or export the difference between two texts."""

    rows: tuple[DiffRow, ...]
    """Every line of both texts, aligned."""
    identical: bool
    """True when the canonical texts are equal. A difference in the final newline alone makes
    this False and shows in ``unified`` but in no row."""
    added: int
    """Lines only in the new text."""
    removed: int
    """Lines only in the old text."""
    changed: int
    """Lines present on both sides but edited."""
    html: str
    """Side-by-side HTML table (unchanged runs collapsed to ``context`` lines around changes)."""
    unified: str
    """Unified diff, plain text; empty when the texts are identical."""


def diff_versions(
    old: PolicyVersion, new: PolicyVersion, *, context: int | None = 3, include_css: bool = True,
    labels: Mapping[str, str] | None = None,
) -> PolicyDiff:
    """Diff two saved versions; each side is headed by the version's title (``version_title``,
    with its "v3" from ``labels`` when given: version id -> label) and its creation time."""
    labels = {} if labels is None else labels
    return diff_texts(
        old.text,
        new.text,
        old_label=_heading(old, labels.get(old.id)),
        new_label=_heading(new, labels.get(new.id)),
        context=context,
        include_css=include_css,
    )


def diff_texts(
    old_text: str,
    new_text: str,
    *,
    old_label: str = "old",
    new_label: str = "new",
    context: int | None = 3,
    include_css: bool = True,
) -> PolicyDiff:
    """Diff two texts. ``context=None`` shows every unchanged line in the HTML table."""
    rows = tuple(diff_rows(old_text, new_text))
    counts = {kind: sum(1 for r in rows if r.kind == kind) for kind in ("insert", "delete", "change")}
    return PolicyDiff(
        rows=rows,
        identical=canonical_text(old_text) == canonical_text(new_text),
        added=counts["insert"],
        removed=counts["delete"],
        changed=counts["change"],
        html=side_by_side_html(rows, old_label=old_label, new_label=new_label, context=context,
                               include_css=include_css),
        unified=unified_diff(old_text, new_text, old_label=old_label, new_label=new_label,
                             context=3 if context is None else context),
    )


def diff_rows(old_text: str, new_text: str) -> list[DiffRow]:
    """Align the lines of two texts; edited lines carry word-level ``<del>``/``<ins>`` marks."""
    a = _lines(old_text)
    b = _lines(new_text)
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [DiffRow("equal", i + 1, j + 1, _esc(a[i]), _esc(b[j])) for i, j in zip(range(i1, i2), range(j1, j2))]
        elif tag == "delete":
            rows += [DiffRow("delete", i + 1, None, _esc(a[i]), "") for i in range(i1, i2)]
        elif tag == "insert":
            rows += [DiffRow("insert", None, j + 1, "", _esc(b[j])) for j in range(j1, j2)]
        else:
            rows += _replace_block(a, b, i1, i2, j1, j2)
    return rows


def side_by_side_html(
    rows: list[DiffRow] | tuple[DiffRow, ...],
    *,
    old_label: str = "old",
    new_label: str = "new",
    context: int | None = 3,
    include_css: bool = True,
) -> str:
    """Render rows as an HTML table; runs of unchanged lines beyond ``context`` are collapsed."""
    keep = _visible(rows, context)
    out = [DIFF_CSS] if include_css else []
    out.append('<table class="policy-diff"><thead><tr>')
    out.append(f'<th colspan="2">{_esc(old_label)}</th><th colspan="2">{_esc(new_label)}</th>')
    out.append("</tr></thead><tbody>")
    hidden = 0
    for row, shown in zip(rows, keep):
        if not shown:
            hidden += 1
            continue
        if hidden:
            out.append(_skip_row(hidden))
            hidden = 0
        old_no = "" if row.old_line is None else str(row.old_line)
        new_no = "" if row.new_line is None else str(row.new_line)
        out.append(
            f'<tr class="{row.kind}"><td class="ln">{old_no}</td><td class="old">{row.old_html}</td>'
            f'<td class="ln">{new_no}</td><td class="new">{row.new_html}</td></tr>'
        )
    if hidden:
        out.append(_skip_row(hidden))
    out.append("</tbody></table>")
    return "".join(out)


def unified_diff(
    old_text: str, new_text: str, *, old_label: str = "old", new_label: str = "new", context: int = 3
) -> str:
    """A standard unified diff (``patch`` can apply it); empty when the texts are identical."""
    a = _NEWLINE_SPLIT.findall(canonical_text(old_text))
    b = _NEWLINE_SPLIT.findall(canonical_text(new_text))
    out = []
    for line in difflib.unified_diff(a, b, fromfile=old_label, tofile=new_label, n=context):
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def _replace_block(a, b, i1, i2, j1, j2) -> list[DiffRow]:
    """Pair similar lines of a replaced block (as difflib.Differ does); the rest are del/ins."""
    if i1 >= i2 or j1 >= j2:
        return [DiffRow("delete", i + 1, None, _esc(a[i]), "") for i in range(i1, i2)] + [
            DiffRow("insert", None, j + 1, "", _esc(b[j])) for j in range(j1, j2)
        ]
    if (i2 - i1) > _MAX_PAIRING or (j2 - j1) > _MAX_PAIRING:
        best = None
    else:
        best = _best_pair(a, b, i1, i2, j1, j2)
    if best is None:
        if (i2 - i1) > _MAX_PAIRING or (j2 - j1) > _MAX_PAIRING:
            n = min(i2 - i1, j2 - j1)
            rows = [_changed(a[i1 + k], b[j1 + k], i1 + k, j1 + k) for k in range(n)]
            return rows + _replace_block(a, b, i1 + n, i2, j1 + n, j2)
        return _replace_block(a, b, i1, i2, j1, j1) + _replace_block(a, b, i2, i2, j1, j2)
    bi, bj = best
    return (
        _replace_block(a, b, i1, bi, j1, bj)
        + [_changed(a[bi], b[bj], bi, bj)]
        + _replace_block(a, b, bi + 1, i2, bj + 1, j2)
    )


def _best_pair(a, b, i1, i2, j1, j2):
    best, best_ratio = None, _PAIR_CUTOFF
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    for j in range(j1, j2):
        matcher.set_seq2(b[j])
        for i in range(i1, i2):
            matcher.set_seq1(a[i])
            if (
                matcher.real_quick_ratio() > best_ratio
                and matcher.quick_ratio() > best_ratio
                and matcher.ratio() > best_ratio
            ):
                best, best_ratio = (i, j), matcher.ratio()
    return best


def _changed(old: str, new: str, i: int, j: int) -> DiffRow:
    ta, tb = _TOKEN_RE.findall(old), _TOKEN_RE.findall(new)
    old_parts, new_parts = [], []
    for tag, a1, a2, b1, b2 in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        a_chunk, b_chunk = _esc("".join(ta[a1:a2])), _esc("".join(tb[b1:b2]))
        if tag == "equal":
            old_parts.append(a_chunk)
            new_parts.append(b_chunk)
            continue
        if a_chunk:
            old_parts.append(f"<del>{a_chunk}</del>")
        if b_chunk:
            new_parts.append(f"<ins>{b_chunk}</ins>")
    return DiffRow("change", i + 1, j + 1, "".join(old_parts), "".join(new_parts))


def _visible(rows, context: int | None) -> list[bool]:
    if context is None:
        return [True] * len(rows)
    changed = [i for i, r in enumerate(rows) if r.kind != "equal"]
    keep = [False] * len(rows)
    for i in changed:
        for k in range(max(0, i - context), min(len(rows), i + context + 1)):
            keep[k] = True
    return keep


def _skip_row(n: int) -> str:
    word = "line" if n == 1 else "lines"
    return f'<tr class="skip"><td colspan="4">… {n} unchanged {word} …</td></tr>'


def _lines(text: str) -> list[str]:
    lines = canonical_text(text).split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _heading(version: PolicyVersion, label: str | None) -> str:
    return f"{version_title(version, label)}, {version.created or 'unsaved'}"
