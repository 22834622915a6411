"""Giving the memory a long-running process has freed back to the system.

Neither allocator the app uses returns freed memory by itself: glibc's malloc keeps free chunks
inside its heaps (one per thread that allocated, and every Streamlit rerun is a thread) for reuse,
and mimalloc, Arrow's default pool, keeps freed pages for a while. An app whose pages build and drop
the objects of 1M-item runs for a team (two sessions comparing two pairs in turn, in one process)
kept 0.74 GB live at an RSS of 1.6 GB; with Arrow on the system allocator and ``malloc_trim`` after
each run, 1.0 GB. The served app (benchmark 16, with the other changes it lists) fell from 2.62 to
1.43-1.45 GB.
"""

from __future__ import annotations

import ctypes
import functools
import sys

import pyarrow as pa


def arrow_on_the_system_allocator() -> None:
    """Arrow's buffers from the system's malloc, so ``return_free_memory`` returns them too."""
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def return_free_memory() -> bool:
    """glibc's ``malloc_trim(0)``: free memory in every heap goes back to the system (1-7 ms with a
    gigabyte in use). False where there is no glibc (macOS, musl): nothing is done."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, looked up once; None without glibc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
