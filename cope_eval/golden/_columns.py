"""Which column of a raw table holds each role (text, label, image, video, id, category): the
user's choice when given, else the first known name present."""

from __future__ import annotations

from ..errors import RowProblem, ValidationError

CANDIDATES = {
    "text": ("content", "content_text", "text", "prompt"),
    "label": ("label", "expected_label", "ground_truth", "gold"),
    "image": ("image", "content_image", "content_image_url"),
    "video": ("video", "content_video", "content_video_url"),
    "id": ("id", "sample_id"),
    "category": ("category", "subgroup"),
}
"""Column names tried, in order, for each role when the ColumnSpec leaves it unset."""


def resolve_columns(columns: list[str], spec, file: str) -> dict[str, str | None]:
    """Map each role to a column: the spec's choice, else the first candidate present.

    A problem names the role's setting in ``options`` (``text_column``...): the CLI offers its
    flag (``--text-column``), the page the renaming of a column."""
    found: dict[str, str | None] = {}
    problems, options = [], []
    guessed = guess_columns(columns)
    shown = ", ".join(columns) or "(none)"
    if len(columns) == 1 and any(d in columns[0] for d in ";\t|,"):
        shown += " (one column: is the file separated by another delimiter?)"
        options.append("delimiter")
    for role in guessed:
        chosen = getattr(spec, role, None) if spec is not None else None
        if chosen is not None:
            if chosen not in columns:
                problems.append(RowProblem(file, None, chosen, None,
                                           f"the {role} column was set to {chosen!r}, which is not in the file; "
                                           f"columns: {shown}"))
                options.append(f"{role}_column")
            found[role] = chosen
            continue
        found[role] = guessed[role]
    if problems:
        raise ValidationError(problems, options=tuple(options))
    if found["text"] is None and found["image"] is None and found["video"] is None:
        problems.append(RowProblem(file, None, "text", None,
                                   "missing column: no content column (looked for "
                                   f"{', '.join(CANDIDATES['text'] + CANDIDATES['image'] + CANDIDATES['video'])}); "
                                   f"columns: {shown}"))
        options.append("text_column")
    if found["label"] is None:
        problems.append(RowProblem(file, None, "label", None,
                                   f"missing column: no label column (looked for {', '.join(CANDIDATES['label'])}); "
                                   f"columns: {shown}"))
        options.append("label_column")
    if problems:
        raise ValidationError(problems, options=tuple(options))
    return found


def guess_columns(columns: list[str]) -> dict[str, str | None]:
    """Each role's column found by name (``CANDIDATES``, exact then case-insensitive), or None."""
    lower = {c.lower(): c for c in reversed(columns)}
    found = {role: next((c for c in names if c in columns), None) or next((lower[c] for c in names if c in lower), None)
             for role, names in CANDIDATES.items()}
    return found
