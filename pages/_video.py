"""Play one item's video from the page of a table just shown (Golden sets, Evaluate's predictions).

Only the chosen item's footage is read, when the expander is open; an http(s) URL is never
fetched (``cope_eval.app.playable_video`` says why)."""

import pandas as pd
import streamlit as st

from cope_eval.app import escape_markdown, playable_video, video_items
from pages import _state


def draw(ids, items: pd.DataFrame, workspace, key: str) -> None:
    """An expander to play the video of one of ``ids`` (the items on the page just shown; ``items``:
    the golden items); nothing when none of them has a video. ``key``: the item picker's session key."""
    videos = video_items(items, ids)
    if videos.empty:
        return
    with st.expander(f"Play a video from this page ({len(videos)})", icon=":material/movie:"):
        _state.keep_valid(key, range(len(videos)))
        index = st.selectbox("Item", range(len(videos)), key=key, format_func=lambda i: videos["id"].iat[i])
        ref, digest = videos["video"].iat[index], videos["video_digest"].iat[index]
        clip = playable_video(ref, None if pd.isna(digest) else digest, workspace)
        if clip.problem is not None:
            shown = escape_markdown(videos["id"].iat[index])
            st.warning(f"Item {shown}: {escape_markdown(clip.problem)}", icon=":material/block:")
        else:
            st.video(clip.data, format=clip.mime, width=480)
