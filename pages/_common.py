"""What every page shares: the workspace, its store and run manager, cached reads, errors.

The st.cache_* wrappers live here (the UI layer); cope_eval never imports streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd
import streamlit as st

from cope_eval.app import GoldenPage, RunErrors, RunManager, escape_markdown, run_errors
from cope_eval.app import f1_at_half as app_f1_at_half
from cope_eval.app import golden_page as _golden_page
from cope_eval.config import Workspace, workspace_from_env
from cope_eval.errors import CopeEvalError
from cope_eval.store import ItemLookup, Store, run_results, run_scores, score_columns

T = TypeVar("T")

PREVIEW_COLUMN = st.column_config.ImageColumn("preview", width="small",
                                              help="The item's image, or the first frame of its video")
"""How every table shows the ``thumbnail`` column that ``with_thumbnails`` adds."""


def workspace() -> Workspace:
    return workspace_from_env().ensure()


@st.cache_resource(show_spinner=False)
def _store(private_dir: str) -> Store:
    return Store(Path(private_dir))  # one connection per workspace; Store is thread-safe


@st.cache_resource(show_spinner=False)
def _manager(root: str) -> RunManager:
    return RunManager(Workspace(Path(root)))  # one per workspace: it knows the workers this app started


def store() -> Store:
    return _store(str(workspace().private_dir))


def store_at(private_dir: str) -> Store:
    """The shared store of the workspace whose private folder is ``private_dir``."""
    return _store(private_dir)


def run_manager() -> RunManager:
    return _manager(str(workspace().root))


REMEDIES = {
    "text_column": "choose the text column in the Golden sets page's import step",
    "label_column": "choose the label column in the Golden sets page's import step",
    "group_column": "pick a column under “Group items by”",
    "cut": "tick “Each column is a group” and set the cut",
    "no_cut": "or untick “Each column is a group” to make each value a group",
    "min_items": "set “Fewest items a group needs”",
    "replace_draft": "or tick “Replace my draft” and save again",
    "side_b": "give B another server URL, model, template or answer mode",
    "allow_different": "tick “Allow runs of different policy versions or golden sets” to compare them on the "
                       "items both scored",
}
"""How the pages fix what an error's ``options`` name; the import step itself (pages/_golden_import.py)
names its own controls."""


def show_error(error: Exception) -> None:
    """One st.error with the message (and the page's remedies), Markdown escaped (messages quote
    user content)."""
    message = error.with_remedies(REMEDIES) if isinstance(error, CopeEvalError) else str(error)
    st.error(escape_markdown(message), icon=":material/error:")


def attempt(action: Callable[..., T], *args, **kwargs) -> T | None:
    """Call one cope_eval action; a CopeEvalError becomes one st.error and None."""
    try:
        return action(*args, **kwargs)
    except CopeEvalError as error:
        show_error(error)
        return None


@st.cache_resource(show_spinner=False, max_entries=2)
def golden_lookup(private_dir: str, golden_hash: str) -> ItemLookup:
    """A stored set's text, image and video, kept once (read-only, Arrow) for looking up a page of
    items at a time (immutable: keyed by hash)."""
    return _store(private_dir).golden_lookup(golden_hash, ["text", "image", "video", "video_digest"])


@st.cache_data(show_spinner=False, max_entries=8)
def golden_items(private_dir: str, golden_hash: str) -> pd.DataFrame:
    """A stored golden set's items (immutable: keyed by hash)."""
    return _store(private_dir).golden_set(golden_hash).items


@st.cache_data(show_spinner=False, max_entries=8)
def golden_summary(private_dir: str, golden_hash: str) -> pd.DataFrame:
    """A stored set's label, category and split columns only (immutable: keyed by hash)."""
    return _store(private_dir).golden_columns(golden_hash, only=["label", "category", "split"])


@st.cache_data(show_spinner=False, max_entries=16)
def golden_page(private_dir: str, golden_hash: str, page: int, search: str, label: int | None,
                category: str | None) -> GoldenPage:
    """One page of a stored set's matching items (``cope_eval.app.golden_page``): a page, never the set."""
    return _golden_page(_store(private_dir), golden_hash, page, search=search, label=label, category=category)


@st.cache_resource(show_spinner=False, max_entries=4)
def scores(private_dir: str, run_id: str, stored: int) -> pd.DataFrame:
    """``run_scores``: a run's results on its set's dev split (every item when it has none), without
    text or raw replies; ``stored`` (its prediction count) keys a run in progress. A resource, not
    data: Compare, Evaluate's predictions and Insight's triage share the one frame (pickling a million
    rows on every rerun was most of a threshold move), so callers read it and never change it."""
    return run_scores(_store(private_dir), run_id, items_of=lambda golden_hash: _set_columns(private_dir, golden_hash))


@st.cache_resource(show_spinner=False, max_entries=2)
def _set_columns(private_dir: str, golden_hash: str) -> pd.DataFrame:
    """A set's ``score_columns``, read once for every run of it (read-only, shared)."""
    return score_columns(_store(private_dir), golden_hash)


@st.cache_data(show_spinner=False, max_entries=64)
def f1_at_half(private_dir: str, run_id: str, stored: int) -> float:
    """``f1_at_half`` of a run, kept as one number (``stored`` keys a run in progress)."""
    return app_f1_at_half(_store(private_dir), run_id)


@st.cache_data(show_spinner=False, max_entries=8)
def test_results(private_dir: str, run_id: str, stored: int) -> pd.DataFrame:
    """A run's results frame on its test split, for a page that has recorded the reveal
    (pages/_test_reveal.py): reading it records nothing."""
    return run_results(_store(private_dir), run_id, split="test")


@st.cache_data(show_spinner=False, max_entries=16)
def errors(private_dir: str, run_id: str, stored: int, failed: int) -> RunErrors:
    """A run's errors by reason; ``stored`` and ``failed`` (its prediction and error counts) key a
    run still in progress, so a page that polls every second reads the store only when they move."""
    return run_errors(_store(private_dir), run_id)
