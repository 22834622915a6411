"""What memory an object holds, piece by piece, so that what several objects hold together is the
union of their pieces: the pages' shared cache (``sized_cache``) keeps values within a memory budget
by it. Compare's matched runs hold the very score frames the cache keeps for each run; counted by
piece, a buffer two values share counts once.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Hashable
from types import FunctionType, ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

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
