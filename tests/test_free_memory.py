"""Memory a long-running app freed goes back to the system: glibc's heaps are trimmed, Arrow's
buffers come from the system allocator (so trimming returns them too), a run after the shared cache
built or dropped large objects collects reference cycles first, and Compare's stored callbacks do not
keep a session's matched runs alive after the cache drops them."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pyarrow as pa
import pytest

from cope_eval._util import free_memory
from cope_eval.app import CompareBasis
from cope_eval.policies import save_version
from cope_eval.store import Store
from pages import _shared_cache, _state
from tests.apptest import open_page
from tests.factories import make_golden
from tests.test_page_compare import POLICY, scored_run


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(free_memory._malloc_trim() is None, reason="glibc's malloc_trim only")
def test_trimming_returns_the_free_memory_inside_the_heap():
    blocks = [bytearray(1000) for _ in range(300_000)]  # 300 MB of malloc'd blocks, past pymalloc's 512 bytes
    kept = blocks[::50]  # one block in 50 stays: the heap cannot shrink from its top
    del blocks
    before = rss_bytes()
    assert free_memory.return_free_memory()
    assert before - rss_bytes() > 100 * 10**6
    assert len(kept) == 6000


def test_arrow_buffers_come_from_the_system_allocator_once_asked():
    previous = pa.default_memory_pool()
    try:
        free_memory.arrow_on_the_system_allocator()
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        pa.set_memory_pool(previous)


def test_a_run_after_large_builds_collects_the_cycles_they_left(monkeypatch):
    class Cycle:
        pass

    garbage = Cycle()
    garbage.self, garbage.scores = garbage, np.zeros(10**6)
    gone = weakref.ref(garbage)
    del garbage
    gc.disable()  # only the call under test may collect
    try:
        _shared_cache.kept().churned_bytes = 0
        _shared_cache.free_what_runs_dropped()
        assert gone() is not None, "small builds: no run pays for a full collection"
        _shared_cache.kept().churned_bytes = _shared_cache.COLLECT_AFTER_BYTES
        _shared_cache.free_what_runs_dropped()
        assert gone() is None
        assert _shared_cache.kept().churned_bytes == 0
    finally:
        gc.enable()


def test_compares_callbacks_keep_no_matched_runs_alive_once_the_cache_drops_them(workspace, monkeypatch):
    v1 = save_version(workspace.root, "violence", POLICY, note="v1")
    v2 = save_version(workspace.root, "violence", POLICY + "- Wishing harm.\n", note="v2")
    golden = make_golden(10)
    with Store(workspace.private_dir) as store:
        scored_run(store, v1, golden, np.linspace(0.1, 0.9, 10))
        scored_run(store, v2, golden, np.linspace(0.2, 0.8, 10))
    at = open_page("compare", monkeypatch)
    assert not at.exception and at.session_state[_state.COMPARE_CHOICE]
    at.button(key=_state.PICK_F1).click().run()  # the callbacks work from what they are given
    assert not at.exception and at.session_state[_state.COMPARE_CHOICE]["rule"] == "max_f1"

    _shared_cache.kept.clear()  # the cache drops every pair; the session still shows its page
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, CompareBasis)] == []
    at.slider(key=_state.COMPARE_THRESHOLD).set_value(0.42).run()
    assert not at.exception and at.session_state[_state.COMPARE_CHOICE]["value"] == pytest.approx(0.42)


def test_each_run_of_the_app_starts_by_freeing_what_earlier_runs_dropped(workspace, monkeypatch):
    calls = []
    monkeypatch.setattr(_shared_cache, "free_what_runs_dropped", lambda: calls.append(1))
    open_page("home", monkeypatch)
    assert len(calls) >= 2  # the app's first run and the page's


PAGES = ("home", "policies", "golden_sets", "evaluate", "compare", "suite", "insight", "export")


@pytest.mark.parametrize("page", PAGES)
def test_no_page_script_keeps_its_namespace_alive_after_its_run(page, workspace, monkeypatch):
    """A function defined in a page script holds the script's every object; Streamlit keeps a widget's
    callback and ``format_func`` until the session's next run. So a page's stored callables are
    defined in imported modules and given what they need: after a run, nothing holds the script's
    namespace but its own functions (a cycle the collector frees)."""
    v1 = save_version(workspace.root, "violence", POLICY, note="v1")
    v2 = save_version(workspace.root, "violence", POLICY + "- Wishing harm.\n", note="v2")
    golden = make_golden(10)
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
        scored_run(store, v1, golden, np.linspace(0.1, 0.9, 10))
        scored_run(store, v2, golden, np.linspace(0.2, 0.8, 10))
    at = open_page(page, monkeypatch)
    assert not at.exception
    gc.collect()
    script = f"pages/{page}.py"
    alive = [o for o in gc.get_objects() if isinstance(o, dict) and str(o.get("__file__", "")).endswith(script)
             and o.get("__name__") == "__main__"]
    assert alive == [], f"{script}'s namespace is kept after its run"
