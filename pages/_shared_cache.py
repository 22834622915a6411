"""The pages' shared, read-only objects (a run's scores, Compare's matched runs and curves, a set's
text), one per key for every session, kept within a memory budget (``COPE_EVAL_PAGE_CACHE_MB``):
``st.cache_resource`` bounds by count, and a count that keeps two 1M-item runs' objects under the
app's memory bound is one that a team comparing a few small runs each evicts on every click.

``@shared()`` and ``@shared("Matching the runs' items…")`` (a spinner while it builds) replace
``st.cache_resource``; arguments are the key, as they were there, and values are never changed.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from cope_eval._util import free_memory
from cope_eval._util.sized_cache import SizedCache
from cope_eval.config import page_cache_bytes

T = TypeVar("T")


@st.cache_resource(show_spinner=False)
def kept() -> SizedCache:
    """The one cache every page and session shares."""
    return SizedCache(page_cache_bytes())


def shared(spinner: str | None = None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Keep what the decorated function returns, by its arguments, in the pages' shared cache."""
    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        name = f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def cached(*args) -> T:
            def build() -> T:
                if spinner is None:
                    return function(*args)
                with st.spinner(spinner):
                    return function(*args)
            return kept().get((name, args), build, kind=name)
        return cached
    return decorate


COLLECT_AFTER_BYTES = 50 * 10**6
"""Built and dropped since the last run, the shared objects that make the next run collect cycles
first: below it (a team's small runs), no run pays for a full collection."""


def free_what_runs_dropped() -> None:
    """Before a run: when the shared cache has built or dropped large objects since the last one, a
    full garbage collection (a page's objects in reference cycles are freed by nothing else, and
    ``runner.postScriptGC`` is off: ``cope_eval.app._launcher``), then the freed memory back to the
    system (``free_memory``). Two analysts comparing pairs of 1M-item runs in turn (benchmark 16): the
    app's peak fell from 2.33 to 1.79 GB with the collection, the rest of the way to 1.45 GB once
    Compare's callbacks stopped holding their pairs (``pages/_compare_picks.py``)."""
    if kept().take_churn() >= COLLECT_AFTER_BYTES:
        gc.collect()
    free_memory.return_free_memory()
