"""A cache bounded by the memory its values hold, not by how many there are: the app's shared,
read-only objects (a run's scores, two runs matched for Compare, a set's text) are a few hundred
kilobytes for a thousand items and a few hundred megabytes for a million, so a count that bounds the
one thrashes the other when a team compares many small runs at once.

``SizedCache.get(key, build)`` returns the value kept for ``key`` or builds it once, however many
threads ask at the same moment; once the memory the values hold together (``held_memory``: a buffer
two of them share counts once) passes the budget, the least recently used are dropped, never the
one just built.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from .held_memory import Region, held_memory

Value = TypeVar("Value")


@dataclasses.dataclass
class CacheStats:
    """What a ``SizedCache`` did since it was made: values found, built and dropped for the budget."""

    hits: int = 0
    builds: int = 0
    evictions: int = 0


class SizedCache:
    """Values by key, kept until the memory they hold together passes ``budget_bytes``;
    thread-safe (see the module)."""

    def __init__(self, budget_bytes: int):
        if budget_bytes < 0:
            raise ValueError(f"budget_bytes must be 0 or more, not {budget_bytes}")
        self.budget_bytes = budget_bytes
        self.stats = CacheStats()
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
                held = held_memory(value)
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
