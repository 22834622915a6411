"""The pages' shared cache is bounded by the memory its values hold, not by their count: values stay
until the memory they hold together passes the budget, then the least recently used go first (never
the newest); a buffer two values share counts once; threads asking for one key build it once; the
budget's setting is refused in its own name when it is not a number of megabytes."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cope_eval._util.held_memory import held_memory
from cope_eval._util.sized_cache import SizedCache
from cope_eval.config import PAGE_CACHE_MB, page_cache_bytes
from cope_eval.errors import ConfigError

MB = 10**6


def deep_size(value) -> int:
    """Bytes ``value`` holds, every piece once."""
    return sum(held_memory(value).values())


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"item_id": [f"item-{i:07d}" for i in range(n)], "score": rng.random(n),
                         "label": rng.integers(0, 2, n)})


def test_a_frame_holds_what_pandas_counts_deeply_and_its_columns_views_are_its_own():
    data = frame(50_000)
    data["words"] = data["item_id"].astype(object)  # Python strings
    counted = int(data.memory_usage(index=True, deep=True).sum())
    assert abs(deep_size(data) - counted) <= 0.01 * counted
    assert abs(deep_size([data, data["score"], data["score"].to_numpy()[::2]]) - counted) <= 0.01 * counted


def test_views_of_one_buffer_are_one_region_and_arrow_data_is_its_buffers():
    base = np.zeros(1_000_000)
    assert base.nbytes <= deep_size((base, base[10:], base.reshape(1000, 1000))) < base.nbytes + 1000  # + the tuple
    table = pa.table({"text": [f"text {i}" for i in range(10_000)]})
    assert deep_size(table) == table.get_total_buffer_size()
    assert table.get_total_buffer_size() <= deep_size([table, table.slice(5)]) < table.get_total_buffer_size() + 1000


def test_a_dataclass_holds_its_fields_and_an_object_array_its_objects():
    @dataclass
    class Basis:
        scores: np.ndarray
        names: np.ndarray

    scores = np.ones(10_000)
    names = np.array([f"a fairly long name {i}" for i in range(1000)], dtype=object)
    held = deep_size(Basis(scores, names))
    assert held >= scores.nbytes + names.nbytes + 1000 * len("a fairly long name 000")


def test_values_stay_until_their_memory_passes_the_budget_then_the_least_recently_used_go():
    cache = SizedCache(budget_bytes=int(3.5 * MB))
    arrays = {key: np.zeros(MB // 8) for key in "abcd"}  # 1 MB each
    for key in "abc":
        assert cache.get(key, lambda key=key: arrays[key]) is arrays[key]
    assert len(cache) == 3 and cache.stats.evictions == 0
    assert cache.get("a", lambda: pytest.fail("a is kept")) is arrays["a"]  # a is now the most recent
    cache.get("d", lambda: arrays["d"])
    assert "b" not in cache and all(key in cache for key in "acd")
    assert cache.stats == type(cache.stats)(hits=1, builds=4, evictions=1)
    assert cache.held_bytes == 3 * MB


def test_a_thousand_small_values_fit_where_two_large_ones_do():
    cache = SizedCache(budget_bytes=600 * MB)
    for key in range(1000):
        cache.get(key, lambda key=key: frame(100, seed=key))
    assert len(cache) == 1000 and cache.stats.evictions == 0


def test_a_value_over_the_budget_is_kept_alone_and_the_newest_is_never_dropped():
    cache = SizedCache(budget_bytes=MB)
    cache.get("small", lambda: np.zeros(10))
    big = cache.get("big", lambda: np.zeros(MB))  # 8 MB
    assert "big" in cache and "small" not in cache and len(cache) == 1
    assert cache.get("big", lambda: pytest.fail("kept")) is big
    cache = SizedCache(budget_bytes=0)
    cache.get("one", lambda: np.zeros(10))
    cache.get("two", lambda: np.zeros(10))
    assert list(key for key in ("one", "two") if key in cache) == ["two"]


def test_a_buffer_two_values_share_counts_once():
    cache = SizedCache(budget_bytes=int(1.5 * MB))
    scores = np.zeros(MB // 8)  # 1 MB
    cache.get("scores", lambda: scores)
    cache.get("matched", lambda: {"A": scores[: MB // 16], "B": scores})  # views of the kept scores
    assert len(cache) == 2 and MB <= cache.held_bytes < MB + 1000  # + the dict


def test_threads_asking_for_one_key_at_once_build_it_once():
    cache = SizedCache(budget_bytes=100 * MB)
    builds = []
    start = threading.Barrier(6)

    def build():
        builds.append(threading.get_ident())
        time.sleep(0.2)
        return np.arange(10)

    results = []

    def ask():
        start.wait()
        results.append(cache.get("matched", build))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and len(results) == 6 and all(result is results[0] for result in results)
    assert cache.stats.builds == 1 and cache.stats.hits == 5


def test_a_build_that_raises_keeps_nothing_and_the_next_ask_builds_again():
    cache = SizedCache(budget_bytes=MB)

    def fail():
        raise ValueError("the store is busy")

    with pytest.raises(ValueError, match="busy"):
        cache.get("k", fail)
    assert "k" not in cache and cache.get("k", lambda: 7) == 7
    with pytest.raises(ValueError, match="0 or more"):
        SizedCache(budget_bytes=-1)


def test_the_budget_is_read_from_its_setting_in_megabytes(monkeypatch):
    monkeypatch.delenv("COPE_EVAL_PAGE_CACHE_MB", raising=False)
    assert page_cache_bytes() == PAGE_CACHE_MB * MB
    monkeypatch.setenv("COPE_EVAL_PAGE_CACHE_MB", " 2500 ")
    assert page_cache_bytes() == 2500 * MB
    monkeypatch.setenv("COPE_EVAL_PAGE_CACHE_MB", "0")
    assert page_cache_bytes() == 0
    for bad in ("lots", "-1", "nan", "inf", "1e999"):
        monkeypatch.setenv("COPE_EVAL_PAGE_CACHE_MB", bad)
        with pytest.raises(ConfigError, match=r"COPE_EVAL_PAGE_CACHE_MB=.* is not a number of megabytes"):
            page_cache_bytes()


def test_a_build_finds_room_made_for_as_much_as_the_last_of_its_kind_held():
    cache = SizedCache(budget_bytes=int(2.5 * MB))
    cache.get("pair 1", lambda: np.zeros(MB // 8), kind="pair")
    cache.get("pair 2", lambda: np.zeros(MB // 8), kind="pair")
    seen = []

    def build():
        seen.append(("pair 1" in cache, "pair 2" in cache))
        return np.zeros(MB // 8)

    cache.get("pair 3", build, kind="pair")
    assert seen == [(False, True)], "the oldest pair goes before the new one is built, not after"
    cache.get("note", lambda: np.zeros(10))  # no kind: nothing is made room for
    assert "pair 2" in cache and "pair 3" in cache
