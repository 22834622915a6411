"""What every page shares: the workspace, its store and run manager, and how a library error
is shown. The cached reads of the store are in ``_cached``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import streamlit as st

from cope_eval.app import RunManager, escape_markdown
from cope_eval.config import Workspace, workspace_from_env
from cope_eval.errors import CopeEvalError
from cope_eval.store import Store

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


def dash_for_none(value) -> str:
    """A select box's label for its "nothing chosen" option (None): "—". A ``format_func`` lives
    here, not as a lambda in a page script: Streamlit keeps it until the session's next run, and a
    lambda would keep the script's every object with it."""
    return "—" if value is None else str(value)
