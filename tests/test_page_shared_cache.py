"""The pages' shared objects are kept by the memory they hold, for every session: a team whose
analysts each look at their own small runs keeps every analyst's runs' scores and matched pairs (a
count of 2 or 4, as before, rebuilt them on every click of the third analyst), and the budget the
setting gives is the one applied."""

from __future__ import annotations

import pytest

from cope_eval.store import Store
from pages import _cached, _compare_data, _shared_cache
from tests.factories import make_golden
from tests.test_agreement import stored_run


@pytest.fixture
def team_runs(workspace):
    """Six completed runs of one four-item set: two for each of three analysts."""
    golden = make_golden(texts=["calm", "threat", "quiet", "walk"])
    with Store(workspace.private_dir) as store:
        runs = [stored_run(store, golden, [0.1 * k, 0.9, 0.2, 0.3], model=f"model-{k}") for k in range(6)]
        versions = [store.predictions_version(run.id) for run in runs]
    return str(workspace.private_dir), [run.id for run in runs], versions


@pytest.fixture
def fresh_cache():
    _shared_cache.kept.clear()
    yield
    _shared_cache.kept.clear()


def test_every_analysts_runs_and_pairs_stay_kept_while_a_team_works(team_runs, fresh_cache):
    private, run_ids, versions = team_runs
    first_scores = _cached.scores(private, run_ids[0], versions[0])
    pairs = [(run_ids[i:i + 2], versions[i:i + 2]) for i in (0, 2, 4)]
    first_pair = _compare_data.basis(private, tuple(pairs[0][0]), tuple(pairs[0][1]), ("A", "B"))
    for ids, vs in pairs[1:]:  # the other two analysts compare their own pairs
        _compare_data.basis(private, tuple(ids), tuple(vs), ("A", "B"))
    for run_id, version in zip(run_ids, versions):
        _cached.scores(private, run_id, version)

    assert _cached.scores(private, run_ids[0], versions[0]) is first_scores
    assert _compare_data.basis(private, tuple(pairs[0][0]), tuple(pairs[0][1]), ("A", "B")) is first_pair
    assert _shared_cache.kept().stats.evictions == 0


def test_the_budget_is_the_settings(team_runs, fresh_cache, monkeypatch):
    monkeypatch.setenv("COPE_EVAL_PAGE_CACHE_MB", "0")  # keeps only the newest object
    private, run_ids, versions = team_runs
    first = _cached.scores(private, run_ids[0], versions[0])
    _cached.scores(private, run_ids[1], versions[1])
    assert _cached.scores(private, run_ids[0], versions[0]) is not first
    assert _shared_cache.kept().budget_bytes == 0 and len(_shared_cache.kept()) == 1
