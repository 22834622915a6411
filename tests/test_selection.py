"""The current selection carries across pages (issue 16, point 5): the policy just saved or picked,
the golden set just saved or picked and the run just started or picked are what the next page's
pickers open on, not the first in their lists. And the first page's helpers (point 12)."""

from datetime import datetime, timedelta, timezone

import pytest

from cope_eval.app import ago, next_step, pair_ending_with, recent_runs, scored_runs, summarise
from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.metrics import metrics_at_threshold
from cope_eval.store import Store, run_results
from pages import _insight_triage, _state
from tests.apptest import open_page
from tests.factories import POLICY_TEXT, make_golden

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("then", "words"), [
    (NOW, "just now"), (NOW - timedelta(seconds=59), "just now"), (NOW + timedelta(minutes=5), "just now"),
    (NOW - timedelta(minutes=1), "1 min ago"), (NOW - timedelta(minutes=59, seconds=59), "59 min ago"),
    (NOW - timedelta(hours=2, minutes=30), "2 h ago"), (NOW - timedelta(hours=23, minutes=59), "23 h ago"),
    (NOW - timedelta(days=1), "1 day ago"), (NOW - timedelta(days=30), "30 days ago"),
    (NOW - timedelta(days=31), "2026-10-31"),
])
def test_ago_says_times_in_the_readers_words(then, words):
    assert ago(then, NOW) == words
    assert ago(then.isoformat(), NOW) == words, "an ISO string from the store reads the same"


def test_ago_reads_a_time_without_a_zone_as_utc():
    assert ago("2026-12-01T10:00:00", NOW) == "2 h ago"


def _scored_run(store, version, golden, scores, *, status="completed"):
    run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://h/v1", "m"))
    ids = golden.items["id"].tolist()
    store.add_predictions(run.id, [(i, s, int(s >= 0.5), "1" if s >= 0.5 else "0", None, 1.0, 0)
                                   for i, s in zip(ids, scores)])
    store.mark_run(run.id, status)
    return run


def _workspace(workspace, *, runs=True):
    """Policies drugs and violence (two versions), two golden sets, and runs of violence v1 and v2 on
    the second set and of drugs on the first."""
    drugs = save_version(workspace.root, "drugs", POLICY_TEXT)
    v1 = save_version(workspace.root, "violence", POLICY_TEXT)
    v2 = save_version(workspace.root, "violence", POLICY_TEXT + "- More.\n", parent=v1.id)
    first, second = make_golden(4, name="first"), make_golden(4, name="second", texts=["a", "b", "c", "d"])
    with Store(workspace.private_dir) as store:
        store.put_golden_set(first)
        store.put_golden_set(second)
        made = []
        if runs:
            made = [_scored_run(store, v1, second, [0.9, 0.1, 0.8, 0.2]),
                    _scored_run(store, drugs, first, [0.9, 0.9, 0.9, 0.9]),
                    _scored_run(store, v2, second, [0.9, 0.6, 0.2, 0.2])]
    return first, second, made


def test_evaluate_opens_on_the_policy_and_set_picked_on_other_pages(workspace, monkeypatch):
    first, _, _ = _workspace(workspace, runs=False)
    at = open_page("policies", monkeypatch)
    at.selectbox(key=_state.POLICY_SLUG).select("violence").run()
    at = at.switch_page("pages/golden_sets.py").run()
    at.selectbox(key=_state.GOLDEN_HASH).select(first.hash).run()

    at = at.switch_page("pages/evaluate.py").run()

    assert not at.exception
    assert at.selectbox(key=_state.EVAL_POLICY).value == "violence", "not drugs, the first in the list"
    assert at.selectbox(key=_state.EVAL_GOLDEN).value == first.hash, "not the newest set, listed first"


def test_a_golden_set_picked_on_evaluate_is_the_one_golden_sets_opens_on(workspace, monkeypatch):
    first, _, _ = _workspace(workspace, runs=False)
    at = open_page("evaluate", monkeypatch)
    at.selectbox(key=_state.EVAL_GOLDEN).select(first.hash).run()

    at = at.switch_page("pages/golden_sets.py").run()

    assert at.selectbox(key=_state.GOLDEN_HASH).value == first.hash


def test_the_run_picked_on_evaluate_is_the_one_export_compare_and_insight_open_on(workspace, monkeypatch):
    _, _, (v1_run, drugs_run, v2_run) = _workspace(workspace)
    at = open_page("evaluate", monkeypatch)
    assert at.selectbox(key=_state.EVAL_RUN).value == v2_run.id, "the newest first"
    at.selectbox(key=_state.EVAL_RUN).select(v1_run.id).run()

    at = at.switch_page("pages/export.py").run()
    assert at.selectbox(key=_state.EXPORT_RUN).value == v1_run.id
    at.session_state[_state.INSIGHT_TAB] = _insight_triage.TITLE
    at = at.switch_page("pages/insight.py").run()
    assert not at.exception
    assert at.selectbox(key=_state.TRIAGE_RUN).value == v1_run.id
    at = at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert at.multiselect(key=_state.COMPARE_RUNS).value == [v2_run.id, v1_run.id], "B is the run picked"


def test_compare_pairs_the_current_run_with_another_version_on_the_same_items(workspace):
    _, _, (v1_run, drugs_run, v2_run) = _workspace(workspace)
    with Store(workspace.private_dir) as store:
        runs = scored_runs(store)

    assert pair_ending_with(runs, v1_run.id) == [v2_run.id, v1_run.id]
    assert pair_ending_with(runs, drugs_run.id) == [drugs_run.id], "no other run scored its items"
    assert pair_ending_with(runs, None) == pair_ending_with(runs, "run-gone") == [drugs_run.id, v2_run.id]


def test_recent_runs_have_f1_at_one_half_and_their_version_and_set(workspace):
    _, _, (_, drugs_run, v2_run) = _workspace(workspace)
    with Store(workspace.private_dir) as store:
        runs = recent_runs(store, limit=2)
        cached = recent_runs(store, f1=lambda run_id, stored: metrics_at_threshold(
            run_results(store, run_id), threshold=0.5).f1, limit=2)
    assert [r.f1 for r in cached] == [r.f1 for r in runs]  # the lean read: the same figure

    assert [r.run_id for r in runs] == [v2_run.id, drugs_run.id]
    newest = runs[0]
    # make_golden labels alternate 0, 1, 0, 1: v2 predicts 1, 1, 0, 0 -> tp 1, fp 1, fn 1
    assert newest.f1 == pytest.approx(0.5)
    assert newest.version.startswith("violence v2 ") and newest.golden_set == "second"
    assert newest.status == "completed"


def test_next_step_follows_the_workspace(workspace):
    with Store(workspace.private_dir) as store:
        assert next_step(summarise(workspace), store).page == "policies"
        save_version(workspace.root, "drugs", POLICY_TEXT)
        violence = save_version(workspace.root, "violence", POLICY_TEXT)
        (workspace.golden_sets_dir / "violence.csv").write_text("text,label\nhi,1\n")
        step = next_step(summarise(workspace), store)
        assert (step.page, step.policy) == ("golden_sets", "violence")
        assert "violence.csv" in step.text

        golden = make_golden(4, name="violence")
        store.put_golden_set(make_golden(3, name="other"))
        store.put_golden_set(golden)
        step = next_step(summarise(workspace), store)
        assert (step.page, step.policy, step.golden_hash) == ("evaluate", "violence", golden.hash)
        assert step.text == "Run the policy violence on the golden set violence."

        _scored_run(store, violence, golden, [0.9, 0.1, 0.8, 0.2])
        step = next_step(summarise(workspace), store)
        assert (step.page, step.policy, step.golden_hash) == ("policies", "violence", golden.hash)
        assert "second version" in step.text

        v2 = save_version(workspace.root, "violence", POLICY_TEXT + "- More.\n", parent=violence.id)
        _scored_run(store, v2, golden, [0.9, 0.1, 0.8, 0.2])
        assert next_step(summarise(workspace), store).page == "compare"
