"""A cache bounded by the memory its values hold, not by how many there are: the app's shared,
read-only objects (a run's scores, two runs matched for Compare, a set's text) are a few hundred
kilobytes for a thousand items and a few hundred megabytes for a million, so a count that bounds the
one thrashes the other when a team compares many small runs at once.

``SizedCache.get(key, build)`` returns the value kept for ``key`` or builds it once, however many
threads ask at the same moment; once the values' sizes pass the budget, the least recently used are
dropped, never the one just built. A value's size is ``deep_size`` of what it holds that no other
kept value holds already: Compare's matched runs keep the very score frames the cache keeps for each
run, and a buffer two values share counts once (``held_memory``).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from types import FunctionType, ModuleType
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

Value = TypeVar("Value")


Region = Hashable
"""One piece of memory a value holds: a buffer's address, or an object's identity."""


def held_memory(value: Any) -> dict[Region, int]:
    """The memory ``value`` holds, piece by piece (region to bytes), following containers,
    dataclasses and attributes: numpy arrays by the buffer they view (a view and its base are one
    region), Arrow data by its buffers' addresses, frames by their columns (each an array or Arrow
    data, so a frame made from an Arrow table without copying holds that table's buffers), any other
    object by its ``sys.getsizeof``. Two values that share a buffer share its region: the union of
    several values' regions is what they hold together. An estimate for a budget: an object array's
    Python objects count with the array, however many arrays share them."""
    held: dict[Region, int] = {}
    seen: dict[int, Any] = {}  # by id, each kept alive: a column's view freed mid-walk would free its id
    pending = [value]
    while pending:
        item = pending.pop()
        if id(item) in seen or isinstance(item, (type, ModuleType, FunctionType)):
            continue  # a class, module or function is the program's, not the value's
        seen[id(item)] = item
        if isinstance(item, pd.DataFrame):
            pending.append(item.index)
            pending.extend(item.iloc[:, column] for column in range(item.shape[1]))
        elif isinstance(item, pd.RangeIndex):
            held[("object", id(item))] = int(item.memory_usage())  # a start, a stop and a step
        elif isinstance(item, (pd.Series, pd.Index)):
            pending.append(item.array)
        elif isinstance(item, pd.arrays.NumpyExtensionArray):
            pending.append(item.to_numpy())  # the array it wraps, not a copy
        elif isinstance(item, pd.Categorical):
            pending.extend((item.codes, item.categories))
        elif isinstance(item, np.ndarray):
            held.update(_numpy_region(item))
        elif hasattr(item, "__arrow_array__") and isinstance(item, pd.api.extensions.ExtensionArray):
            pending.append(item.__arrow_array__())  # Arrow-backed: the same buffers, not a copy
        elif isinstance(item, pd.api.extensions.ExtensionArray):
            held[("object", id(item))] = int(item.nbytes)
        elif isinstance(item, (pa.Table, pa.RecordBatch, pa.ChunkedArray, pa.Array)):
            held.update(_arrow_regions(item))
        else:
            held[("object", id(item))] = sys.getsizeof(item)
            pending.extend(_parts(item))
    return held


def _numpy_region(array: np.ndarray) -> dict[Region, int]:
    """The buffer ``array`` views (its base's, when the base is an array), with an object array's
    Python objects counted with it."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    size = array.nbytes + (sum(map(sys.getsizeof, array.ravel())) if array.dtype == object else 0)
    return {("buffer", array.__array_interface__["data"][0], array.nbytes): size}


def _arrow_regions(data: pa.Table | pa.RecordBatch | pa.ChunkedArray | pa.Array) -> dict[Region, int]:
    """Each buffer of Arrow ``data`` (its columns' chunks, their children's included), by address."""
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        arrays = [chunk for column in data.columns for chunk in getattr(column, "chunks", [column])]
    else:
        arrays = data.chunks if isinstance(data, pa.ChunkedArray) else [data]
    return {("buffer", buffer.address, buffer.size): buffer.size
            for array in arrays for buffer in array.buffers() if buffer is not None}


def deep_size(value: Any) -> int:
    """Bytes ``value`` holds (``held_memory``, summed)."""
    return sum(held_memory(value).values())


def _parts(item: Any) -> list[Any]:
    """What a container or object refers to, for ``held_memory`` to follow."""
    if isinstance(item, (str, bytes, bytearray, int, float, complex, bool)) or item is None:
        return []
    if isinstance(item, dict):
        return [*item.keys(), *item.values()]
    if isinstance(item, (list, tuple, set, frozenset)):
        return list(item)
    if dataclasses.is_dataclass(item):
        return [getattr(item, field.name) for field in dataclasses.fields(item)]
    parts = list(vars(item).values()) if hasattr(item, "__dict__") else []
    for cls in type(item).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if isinstance(slot, str) and hasattr(item, slot):
                parts.append(getattr(item, slot))
    return parts


@dataclasses.dataclass
class CacheStats:
    """What a ``SizedCache`` did since it was made: values found, built and dropped for the budget."""

    hits: int = 0
    builds: int = 0
    evictions: int = 0


class SizedCache:
    """Values by key, kept until the memory they hold together passes ``budget_bytes``;
    thread-safe (see the module)."""

    def __init__(self, budget_bytes: int, measure: Callable[[Any], dict[Region, int]] = held_memory):
        if budget_bytes < 0:
            raise ValueError(f"budget_bytes must be 0 or more, not {budget_bytes}")
        self.budget_bytes = budget_bytes
        self.stats = CacheStats()
        self._measure = measure
        self.churned_bytes = 0
        """Bytes of the values built and dropped since ``take_churn``."""
        self._entries: OrderedDict[Hashable, tuple[Any, dict[Region, int]]] = OrderedDict()
        self._last_size: dict[Hashable, int] = {}
        self._building: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Value], *, kind: Hashable = None) -> Value:
        """The value kept for ``key``, else ``build()``'s, kept. A thread that asks for a key being
        built waits for that build instead of building again; a build that raises keeps nothing.

        ``kind``: what builds values alike (a page function). Before a build, the least recently used
        values make room for as much as the last value of its kind held, so the process never holds a
        new value beside the old ones it will replace (two 1M-item pairs of runs and the build's own
        working memory passed the app's memory bound)."""
        with self._lock:
            if key in self._entries:
                return self._hit(key)
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:  # built while this thread waited
                    return self._hit(key)
                if kind is not None:
                    self._drop_to(self.budget_bytes - self._last_size.get(kind, 0), keep=0)
            try:
                value = build()
                held = self._measure(value)
            finally:
                with self._lock:
                    self._building.pop(key, None)
            with self._lock:
                self._entries[key] = (value, held)
                if kind is not None:
                    self._last_size[kind] = sum(held.values())
                self.churned_bytes += sum(held.values())
                self.stats.builds += 1
                self._drop_to(self.budget_bytes, keep=1)
        return value

    def take_churn(self) -> int:
        """Bytes built and dropped since the last call: how much memory may have just been freed."""
        with self._lock:
            churned, self.churned_bytes = self.churned_bytes, 0
            return churned

    @property
    def held_bytes(self) -> int:
        """The memory the kept values hold together (a buffer two of them share counts once)."""
        with self._lock:
            return self._held_bytes()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def _hit(self, key: Hashable) -> Any:
        self._entries.move_to_end(key)
        self.stats.hits += 1
        return self._entries[key][0]

    def _held_bytes(self) -> int:
        union: dict[Region, int] = {}
        for _, held in self._entries.values():
            union.update(held)
        return sum(union.values())

    def _drop_to(self, limit: int, *, keep: int) -> None:
        """Drop the least recently used values until the rest hold ``limit`` bytes at most, keeping
        at least the ``keep`` newest."""
        while len(self._entries) > keep and self._held_bytes() > limit:
            _, (_, held) = self._entries.popitem(last=False)
            self.churned_bytes += sum(held.values())
            self.stats.evictions += 1
