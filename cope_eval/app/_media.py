"""The videos a page can play: one item's footage as bytes for ``st.video``, or why not.

Only footage already in hand is played: a workspace path or a data URL, read and checked as a
request reads it (``golden.load_video_bytes``), its bytes matching the digest the golden-set
version holds. An http(s) URL is never fetched for playing: a hostile row would otherwise make
the analyst's browser (or this app) call any server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ValidationError
from ..golden import image_kind, load_video_bytes, video_digest


@dataclass(frozen=True)
class Playable:
    """A video ready for ``st.video``, or the reason it cannot be played."""

    data: bytes | None
    """The video's bytes; None when it cannot be played."""
    mime: str | None
    """``video/mp4`` or ``video/webm``, from the probed bytes."""
    problem: str | None
    """Why it cannot be played, in an analyst's words; None when it can."""


def video_items(items: pd.DataFrame, ids) -> pd.DataFrame:
    """The golden ``items`` among ``ids`` (one page of a table) that carry a video, in the order of
    ``ids``: ``id``, ``video``, ``video_digest``."""
    wanted = pd.Index(pd.Series(list(ids), dtype="str")).unique()
    found = items.set_index("id").reindex(wanted)[["video", "video_digest"]]
    return found[found["video"].notna()].rename_axis("id").reset_index()


def playable_video(ref: str, digest: str | None, workspace: Path) -> Playable:
    """The footage of one item (its ``video`` and ``video_digest``), checked as a request would be."""
    if image_kind(ref) == "url":
        return Playable(None, None, "an http(s) video URL is never fetched for playing here; open it yourself "
                                    "if you trust it")
    try:
        mime, data = load_video_bytes(ref, workspace)
    except ValidationError as exc:
        return Playable(None, None, exc.problems[0].problem)
    if digest is not None and video_digest(data) != digest:
        return Playable(None, None, "the video's bytes changed since this golden-set version was loaded (its "
                                    "sha256 no longer matches); load the golden set again")
    return Playable(data, mime, None)
