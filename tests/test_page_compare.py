"""The Compare page: metrics with intervals, live threshold, pickers, categories, flips, diff."""

import time

import numpy as np
import pandas as pd
import pytest

from cope_eval.golden import golden_set_hash
from cope_eval.metrics import best_f1_threshold
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run
from cope_eval.store import Store, run_results
from pages import _state
from tests.apptest import messages, open_page, table, texts
from tests.factories import make_golden

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats.\n"


def scored_run(store, version, golden, scores):
    """A completed run with the given scores (no model involved)."""
    run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
    rows = [(i, float(s), None, "", None, 1.0, 0) for i, s in zip(golden.items["id"], scores)]
    store.add_predictions(run.id, rows)
    store.mark_run(run.id, "completed")
    return run


@pytest.fixture
def two_runs(workspace):
    v1 = save_version(workspace.root, "violence", POLICY, note="v1")
    v2 = save_version(workspace.root, "violence", POLICY + f"- Quoted {HOSTILE}\n", note="v2")
    golden = make_golden(10, texts=["post 0", HOSTILE] + [f"post {i}" for i in range(2, 10)])  # item 1: gold 1
    labels = golden.items["label"].to_numpy()
    with Store(workspace.private_dir) as store:
        a = scored_run(store, v1, golden, np.where(labels == 1, 0.6, 0.4) + np.linspace(-0.3, 0.3, 10))
        b = scored_run(store, v2, golden, np.where(labels == 1, 0.9, 0.1) + np.linspace(-0.05, 0.05, 10)[::-1])
    return a, b, golden


def _metrics(at) -> pd.DataFrame:
    return table(at, "f1 95% CI")


def test_empty_workspace_renders(workspace, monkeypatch):
    at = open_page("compare", monkeypatch)

    assert not at.exception
    assert "No scored runs yet" in texts(at)


def test_one_run_shows_metrics_and_asks_for_a_second(two_runs, monkeypatch):
    a, _, _ = two_runs
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id]).run()

    assert not at.exception
    assert len(_metrics(at)) == 1
    assert "Pick a second run" in texts(at)
    assert table(at, "category").index[0] == "(unweighted mean)"


def test_moving_the_threshold_changes_the_metrics(two_runs, monkeypatch):
    a, b, _ = two_runs
    at = open_page("compare", monkeypatch)
    assert set(at.multiselect(key=_state.COMPARE_RUNS).value) == {a.id, b.id}  # the two newest
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    before = _metrics(at)
    assert before["n"].tolist() == [10, 10]

    at.slider(key=_state.COMPARE_THRESHOLD).set_value(0.8).run()

    assert not at.exception
    after = _metrics(at)
    assert after.iloc[0]["tp"] < before.iloc[0]["tp"] and after.iloc[0]["recall"] < before.iloc[0]["recall"]
    categories = table(at, "category")
    assert categories.index[0] == "(unweighted mean)" and {"a", "b"} <= set(categories.index)
    flips = table(at, "outcome")
    assert set(flips["outcome"]) <= {"fixed", "broken", "both_wrong"} and len(flips) > 0
    deltas = table(at, "B - A")
    assert list(deltas.index) == ["precision", "recall", "f1"]
    [diff] = at.get("html")
    assert "&lt;script&gt;" in diff.proto.body and "<script>" not in diff.proto.body


def test_flips_show_content_escaped_in_a_table(two_runs, monkeypatch):
    a, b, _ = two_runs
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    at.slider(key=_state.COMPARE_THRESHOLD).set_value(0.65).run()

    flips = table(at, "outcome")
    assert HOSTILE in flips["text"].tolist()
    row = flips[flips["text"] == HOSTILE].iloc[0]
    assert {"label", "score_a", "score_b", "thumbnail"} <= set(flips.columns)
    assert (row["label"], row["outcome"]) == (1, "fixed") and row["score_a"] < 0.65 <= row["score_b"]


def test_max_f1_picker_moves_the_slider(two_runs, monkeypatch, workspace):
    a, b, _ = two_runs
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    at.selectbox(key=_state.COMPARE_FOCUS).select_index(0).run()  # run A
    at.button(key=_state.PICK_F1).click().run()

    assert not at.exception
    with Store(workspace.private_dir) as store:
        best = best_f1_threshold(run_results(store, a.id))
    assert at.slider(key=_state.COMPARE_THRESHOLD).value == best.threshold
    assert "highest F1" in texts(at)
    assert _metrics(at).iloc[0]["f1"] == pytest.approx(best.metrics.f1)


def test_a_picked_threshold_survives_a_visit_to_export_and_export_names_its_rule(two_runs, monkeypatch):
    a, b, _ = two_runs
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    at.selectbox(key=_state.COMPARE_FOCUS).select_index(1).run()  # run B
    at.number_input(key=_state.TARGET_PRECISION).set_value(0.8)
    at.button(key=_state.PICK_PRECISION).click().run()
    picked = at.slider(key=_state.COMPARE_THRESHOLD).value
    assert picked != 0.5

    at.switch_page("pages/export.py").run()
    at.selectbox(key=_state.EXPORT_RUN).set_value(b.id).run()
    at.radio(key=_state.EXPORT_MODE).set_value("compare").run()
    assert not at.exception
    assert f"Threshold {picked:.4f}: the Compare page's (Reach precision 0.8 on" in texts(at)

    at.switch_page("pages/compare.py").run()
    assert not at.exception and at.slider(key=_state.COMPARE_THRESHOLD).value == picked


def test_an_unreachable_precision_target_says_so(two_runs, monkeypatch):
    a, b, _ = two_runs
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    at.number_input(key=_state.TARGET_RECALL).set_value(1.0)
    at.button(key=_state.PICK_RECALL).click().run()
    assert "recall >= 1" in texts(at)

    at.selectbox(key=_state.COMPARE_FOCUS).select_index(1).run()
    at.number_input(key=_state.TARGET_PRECISION).set_value(1.0)
    at.button(key=_state.PICK_PRECISION).click().run()
    assert not at.exception and "precision >= 1" in texts(at)


def test_runs_on_different_golden_sets_are_cut_to_shared_items(workspace, monkeypatch):
    version = save_version(workspace.root, "violence", POLICY)
    small, large = make_golden(6), make_golden(10)
    with Store(workspace.private_dir) as store:
        a = scored_run(store, version, small, np.linspace(0, 1, 6))
        b = scored_run(store, version, large, np.linspace(0, 1, 10))
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()

    assert not at.exception
    assert any("shared items only" in w for w in messages(at, "warning"))
    assert _metrics(at)["n"].tolist() == [6, 6]
    assert "same policy text" in texts(at)


def test_two_100k_item_runs_stay_usable(workspace, monkeypatch):
    n = 100_000
    items = pd.DataFrame({"id": [f"i{i:06d}" for i in range(n)], "text": [f"post {i}" for i in range(n)],
                          "label": np.arange(n) % 2, "image": None,
                          "category": np.array(["a", "b", "c"])[np.arange(n) % 3]})
    golden = GoldenSet("big", golden_set_hash(items), items)
    version = save_version(workspace.root, "violence", POLICY)
    rng = np.random.default_rng(0)
    with Store(workspace.private_dir) as store:
        a = scored_run(store, version, golden, rng.random(n))
        b = scored_run(store, version, golden, np.clip(items["label"] * 0.5 + rng.random(n) * 0.5, 0, 1))
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    assert not at.exception

    started = time.perf_counter()
    at.slider(key=_state.COMPARE_THRESHOLD).set_value(0.7).run()
    assert time.perf_counter() - started < 5
    assert not at.exception
    assert _metrics(at)["n"].tolist() == [n, n]
    assert len(table(at, "outcome")) == 25


def test_thresholds_are_picked_on_run_b_by_default(two_runs, monkeypatch, workspace):
    a, b, _ = two_runs
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    assert at.selectbox(key=_state.COMPARE_FOCUS).index == 1, "B, the version being evaluated"

    at.button(key=_state.PICK_F1).click().run()

    assert not at.exception
    with Store(workspace.private_dir) as store:
        best_b, best_a = (best_f1_threshold(run_results(store, r.id)) for r in (b, a))
    assert best_b.threshold != best_a.threshold, "the runs must disagree for this test to tell them apart"
    assert at.slider(key=_state.COMPARE_THRESHOLD).value == best_b.threshold
    assert at.session_state[_state.COMPARE_CHOICE]["run_id"] == b.id

    at.selectbox(key=_state.COMPARE_FOCUS).select_index(0).run()  # an explicit A stays...
    at.run()
    assert at.selectbox(key=_state.COMPARE_FOCUS).index == 0
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id]).run()  # ...until the runs change: A alone,
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()  # then a B to evaluate again
    assert at.selectbox(key=_state.COMPARE_FOCUS).index == 1


def test_flips_open_on_the_items_whose_decision_changed_and_the_diff_is_full_width(two_runs, monkeypatch):
    a, b, _ = two_runs
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    at.slider(key=_state.COMPARE_THRESHOLD).set_value(0.93).run()  # A misses every gold 1; B misses 4 of 5

    shows = at.selectbox(key=_state.FLIPS_OUTCOME)
    assert (shows.value, shows.format_func(shows.value)) == ("changed", "decision changed (1)")
    assert table(at, "outcome")["outcome"].tolist() == ["fixed"]
    at.selectbox(key=_state.FLIPS_OUTCOME).set_value(_state.ALL).run()
    assert table(at, "outcome")["outcome"].value_counts().to_dict() == {"both_wrong": 4, "fixed": 1, "broken": 0,
                                                                        "both_right": 0}
    assert at.get("html") and not any(column.get("html") for column in at.main.columns), "the diff is in no column"


def test_when_b_errored_on_items_a_scored_the_deltas_say_why_a_differs(workspace, monkeypatch):
    version_a = save_version(workspace.root, "violence", POLICY)
    version_b = save_version(workspace.root, "violence", POLICY + "- More.\n")
    golden = make_golden(10)
    scores = np.linspace(0.05, 0.95, 10)
    with Store(workspace.private_dir) as store:
        a = scored_run(store, version_a, golden, scores)
        b = create_run(store, policy=version_b, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
        store.add_predictions(b.id, [(i, None if k < 2 else float(s), None, "", "HTTP 500" if k < 2 else None, 1.0, 0)
                                     for k, (i, s) in enumerate(zip(golden.items["id"], scores))])
        store.mark_run(b.id, "completed")
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()

    assert not at.exception
    assert _metrics(at)["n"].tolist() == [10, 8]
    assert ("A scored 10 items and B 8 (an item with an error has no score): the deltas are on the 8 items both "
            "scored, so their A figures differ from the table above.") in texts(at)


def test_runs_that_scored_the_same_items_need_no_note(two_runs, monkeypatch):
    a, b, _ = two_runs
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    assert "deltas are on the" not in texts(at)


def _visit(at, page: str):
    """Open ``page`` from the sidebar: a browser's address then has no query (AppTest keeps it)."""
    at.query_params.clear()
    return at.switch_page(page).run()


def test_the_runs_compared_are_the_same_after_another_page(workspace, monkeypatch):
    v1 = save_version(workspace.root, "violence", POLICY, note="v1")
    v2 = save_version(workspace.root, "violence", POLICY + f"- Quoted {HOSTILE}\n", note="v2")
    golden = make_golden(10)
    with Store(workspace.private_dir) as store:
        edit_a = scored_run(store, v1, golden, np.linspace(0.1, 0.9, 10))
        edit_b = scored_run(store, v2, golden, np.linspace(0.2, 0.8, 10))
        other_model = scored_run(store, v2, golden, np.linspace(0.3, 0.7, 10))
    at = open_page("compare", monkeypatch)
    for pair in ([edit_b.id, other_model.id],  # not the pair B alone makes: another policy version (edit_a) first
                 [edit_a.id, other_model.id]):
        at.multiselect(key=_state.COMPARE_RUNS).set_value(pair).run()
        for page in ("pages/insight.py", "pages/evaluate.py"):
            _visit(_visit(at, page), "pages/compare.py")
            assert not at.exception
            assert at.multiselect(key=_state.COMPARE_RUNS).value == pair, page

    _visit(at, "pages/evaluate.py")
    at.session_state[_state.CURRENT_RUN] = edit_b.id  # another page made another run current: Compare follows it
    _visit(at, "pages/compare.py")
    assert at.multiselect(key=_state.COMPARE_RUNS).value == [edit_a.id, edit_b.id]
