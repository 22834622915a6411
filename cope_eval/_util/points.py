"""Which points of a long curve to keep: evenly spaced, the first and last always among them."""

from __future__ import annotations

import numpy as np


def evenly_spaced(n: int, at_most: int) -> np.ndarray:
    """Indices into ``n`` points, ascending: all of them when ``n <= at_most``, else ``at_most``
    evenly spaced ones (fewer only if rounding makes two coincide), ``0`` and ``n - 1`` included."""
    if n <= at_most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, at_most).round().astype(np.int64))
