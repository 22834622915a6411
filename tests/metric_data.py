"""Run results for the metric tests: a hypothesis strategy, named edge cases, a frame builder."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

TIED_SCORES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
CATEGORIES = ("drugs", "hate", "violence")


def frame(label, score, errored=None, *, category=None, ids=None) -> pd.DataFrame:
    """Results as the engine writes them: errored rows get an error text and a NaN score."""
    label = np.asarray(label, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    errored = np.zeros(len(label), bool) if errored is None else np.asarray(errored, bool)
    data = {
        "item_id": ids if ids is not None else [f"item-{i}" for i in range(len(label))],
        "label": label,
        "score": np.where(errored, np.nan, score),
        "error": np.where(errored, "timeout", None),
    }
    if category is not None:
        data["category"] = category
    return pd.DataFrame(data)


@st.composite
def runs(draw, max_size: int = 40):
    """(label, score, errored, category) arrays: ties likely, errors sometimes."""
    n = draw(st.integers(0, max_size))
    label = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    scores = st.one_of(st.sampled_from(TIED_SCORES), st.floats(0.0, 1.0))
    score = draw(arrays(np.float64, n, elements=scores))
    errored = draw(arrays(np.bool_, n, elements=st.sampled_from([False, False, False, True])))
    category = draw(arrays(object, n, elements=st.sampled_from(CATEGORIES)))
    return label, score, errored, category


def edge_cases() -> dict[str, tuple]:
    """Named (label, score, errored, category) inputs every metric must handle by its rule."""
    rng = np.random.default_rng(7)
    cat = np.array(CATEGORIES * 4, dtype=object)
    s12 = rng.random(12)
    return {
        "empty": ([], [], [], np.array([], dtype=object)),
        "all_errors": ([0, 1, 1], [0.2, 0.8, 0.5], [True] * 3, cat[:3]),
        "only_negatives": ([0] * 12, s12, [False] * 12, cat),
        "only_positives": ([1] * 12, s12, [False] * 12, cat),
        "one_item": ([1], [0.7], [False], cat[:1]),
        "all_same_score": ([0, 1] * 6, [0.5] * 12, [False] * 12, cat),
        "ties": ([0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1],
                 [0.1, 0.1, 0.5, 0.5, 0.5, 0.9, 0.9, 0.9, 1.0, 0.0, 0.0, 0.5], [False] * 12,
                 cat),
        "nothing_predicted": ([0, 1] * 6, s12 * 0.4, [False] * 12, cat),
        "some_errors": ([0, 1] * 6, s12, [i % 5 == 0 for i in range(12)], cat),
    }
