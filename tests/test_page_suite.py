"""The Model card table page: the suite's table from stored runs (figures recomputed with
scikit-learn), side by side, escaping, errors that name the page's controls, and a whole suite
started from the page against the stub server and followed to its table."""

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from cope_eval.export import MEAN_ROW
from cope_eval.insight import SuiteSide, create_suite, suite_golden
from cope_eval.records import Endpoint
from cope_eval.store import Store, run_results
from pages import _state
from tests.apptest import NO_SERVER, messages, open_page, shown, table, texts, until
from tests.stub_server import StubServer
from tests.test_suite import sample_workspace

HOSTILE = "<img src=x onerror=alert(1)>*bold*|[link](evil)"
SCORERS = {"precision": precision_score, "recall": recall_score, "f1": f1_score}


def scored_suite(workspace, sides=("A",), *, limit=40, golden=None, areas=("self-harm", "violence", "drugs")):
    """The suite's runs stored and completed with seeded scores, no model involved."""
    sample_workspace(workspace.root)
    paths = suite_golden(workspace.root, areas=list(areas), golden=golden)
    suite_sides = [SuiteSide(name, Endpoint(NO_SERVER, f"model-{name}")) for name in sides]
    with Store(workspace.private_dir) as store:
        runs = create_suite(store, workspace.root, suite_sides, paths, limit=limit)
        for k, member in enumerate(r for r in runs if r.run_id):
            items = store.golden_set(store.run(member.run_id).golden_hash).items
            rng = np.random.default_rng(k)
            scores = np.clip(items["label"].to_numpy() * 0.35 + rng.random(len(items)) * 0.65, 0, 1)
            store.add_predictions(member.run_id, [(i, float(s), None, "", None, 1.0, 0)
                                                  for i, s in zip(items["id"], scores)])
            store.mark_run(member.run_id, "completed")
    return runs


def show(at, runs, sides=None):
    at.session_state[_state.SUITE_RUNS] = runs
    at.session_state[_state.SUITE_SIDES] = sides or {"A": f"model-A at {NO_SERVER} (cope-b, logprobs)"}
    return at.run()


def expected(workspace, run_id, threshold=None):
    with Store(workspace.private_dir) as store:
        results = run_results(store, run_id)
        threshold = store.run(run_id).threshold if threshold is None else threshold
    ok = results["error"].isna()
    y, predicted = results["label"][ok], (results["score"][ok] >= threshold).astype(int)
    return {m: scorer(y, predicted, zero_division=0) for m, scorer in SCORERS.items()}, int(ok.sum())


def test_an_empty_workspace_renders_and_says_what_to_do(workspace, monkeypatch):
    at = open_page("suite", monkeypatch)

    assert not at.exception
    assert "Choose at least one area" in texts(at) and "No suite in this session yet" in texts(at)
    assert any("Unhealthy" in e.value for e in at.sidebar.error), "the shared sidebar is drawn"


def test_the_table_is_the_stored_runs_figures_with_the_unweighted_mean(workspace, monkeypatch):
    runs = scored_suite(workspace)
    at = show(open_page("suite", monkeypatch), runs)

    assert not at.exception
    figures = table(at, "A precision CI").set_index("area")
    assert list(figures.index) == ["self-harm", "violence", "drugs", MEAN_ROW]
    by_hand = {m: [] for m in SCORERS}
    for member in runs:
        if member.run_id is None:
            continue
        want, n = expected(workspace, member.run_id)
        for metric, title in (("precision", "precision"), ("recall", "recall"), ("f1", "F1")):
            assert figures.loc[member.area, f"A {title}"] == pytest.approx(want[metric])
            by_hand[metric].append(want[metric])
        shown_runs = table(at, "policy version").set_index("area")
        assert (shown_runs.loc[member.area, "run"], shown_runs.loc[member.area, "n"]) == (member.run_id, n)
        assert shown_runs.loc[member.area, "errors"] == 0
    assert figures.loc["drugs", "A status"] == "no sample golden set" and np.isnan(figures.loc["drugs", "A F1"])
    assert figures.loc[MEAN_ROW, "A status"] == "mean over 2 areas"
    assert figures.loc[MEAN_ROW, "A F1"] == pytest.approx(np.mean(by_hand["f1"]))
    low, high = (float(x) for x in figures.loc["violence", "A F1 CI"].strip("[]").split(","))
    assert low <= figures.loc["violence", "A F1"] <= high
    assert "No sample golden set, so no figures: drugs" in texts(at)
    assert "unweighted mean over the areas with figures (areas in it, A: 2)" in texts(at)
    assert len(at.get("download_button")) == 2


def test_a_threshold_for_every_run_and_zero_is_a_threshold(workspace, monkeypatch):
    runs = scored_suite(workspace, areas=("violence",))
    at = show(open_page("suite", monkeypatch), runs)
    at.radio(key=_state.SUITE_THRESHOLD_MODE).set_value("given").run()
    at.number_input(key=_state.SUITE_THRESHOLD).set_value(0.0).run()

    assert not at.exception
    figures = table(at, "A precision CI").set_index("area")
    want, _ = expected(workspace, runs[0].run_id, threshold=0.0)
    assert figures.loc["violence", "A recall"] == 1.0 and figures.loc["violence", "A precision"] == pytest.approx(
        want["precision"])
    assert table(at, "policy version")["threshold"].tolist() == [0.0]
    assert "Threshold 0 for every run" in texts(at)


def test_two_sides_side_by_side(workspace, monkeypatch):
    runs = scored_suite(workspace, sides=("A", "B"), areas=("self-harm", "violence"))
    at = show(open_page("suite", monkeypatch), runs, {"A": "model-A", "B": "model-B"})

    figures = table(at, "B F1 CI").set_index("area")
    for member in runs:
        assert figures.loc[member.area, f"{member.side} F1"] == pytest.approx(expected(workspace, member.run_id)[0]["f1"])
    assert figures.loc[MEAN_ROW, "B status"] == "mean over 2 areas"


def test_hostile_golden_set_names_and_side_descriptions_stay_text(workspace, monkeypatch):
    own = workspace.root / "golden_sets" / f"{HOSTILE}.csv"
    own.write_text(f"text,label\n\"{HOSTILE}\",1\nfine,0\n\"ignore the policy\",1\n")
    runs = scored_suite(workspace, areas=("drugs",), golden={"drugs": own})
    at = show(open_page("suite", monkeypatch), runs, {"A": f"{HOSTILE} at http://x"})

    assert not at.exception
    assert table(at, "policy version")["golden set"].tolist() == [HOSTILE], "in a table: data, shown as is"
    [bar] = at.get("progress")
    assert "\\<img" in bar.proto.text and "<img" not in bar.proto.text.replace("\\<img", "")
    [caption] = [c.value for c in at.main.caption if "onerror" in c.value]
    assert "\\<img" in caption and "\\*bold\\*" in caption and "\\[link\\]" in caption and "\\|" in caption
    assert shown(caption) == f"A: {HOSTILE} at http://x"


@pytest.mark.parametrize("own, control", [
    ("nonsense", "Own golden sets, line 1"),
    ("weapons=x.csv", "Own golden sets, line 1: unknown area"),
    ("drugs=missing.csv", "Own golden sets, line 1: no such file"),
    ("violence=golden_sets/openai-moderation/violence.csv", "Own golden sets names 'violence'"),
])
def test_bad_own_golden_sets_name_the_control(workspace, monkeypatch, own, control):
    sample_workspace(workspace.root)
    at = open_page("suite", monkeypatch)
    at.multiselect(key=_state.SUITE_AREAS).set_value(["self-harm", "drugs"]).run()
    at.text_area(key=_state.SUITE_OWN_GOLDEN).input(own).run()

    assert not at.exception
    assert any(m.startswith(control) for m in messages(at, "error")), messages(at, "error")
    assert at.button(key=_state.SUITE_START).disabled


def _stub_page(monkeypatch, server):
    return open_page("suite", monkeypatch, server=SimpleNamespace(base_url=server.base_url, model="stub",
                                                                    is_local=False))


def test_side_b_the_same_as_a_names_the_b_controls(workspace, monkeypatch):
    sample_workspace(workspace.root)
    with StubServer() as server:
        at = _stub_page(monkeypatch, server)
        at.checkbox(key=_state.SUITE_USE_B).check().run()
        at.button(key=_state.SUITE_START).click().run()
        assert "Side B is the same as side A; give B another server URL, model" in messages(at, "error")[0]
        at.text_input(key=_state.SUITE_B_URL).input("http://127.0.0.1:9/v1").run()
        at.button(key=_state.SUITE_START).click().run()
    assert messages(at, "error")[0].startswith("B server URL: cannot list the models at http://127.0.0.1:9/v1")
    with Store(workspace.private_dir) as store:
        assert store.runs() == [], "nothing is created when a side is wrong"


def test_a_suite_started_on_the_page_runs_in_workers_and_ends_in_its_table(workspace, monkeypatch):
    sample_workspace(workspace.root)
    with StubServer() as server:
        at = _stub_page(monkeypatch, server)
        assert at.multiselect(key=_state.SUITE_AREAS).value == ["self-harm", "violence"], "all with a sample set"
        at.multiselect(key=_state.SUITE_AREAS).set_value(["self-harm", "violence", "drugs"])
        at.number_input(key=_state.SUITE_LIMIT).set_value(6).run()
        assert "12 items per side (self-harm 6, violence 6), 12 requests for 1 side" in texts(at)
        at.button(key=_state.SUITE_START).click().run()
        at = until(at, lambda at: "The card's table" in texts(at), timeout_s=90)
    runs = at.session_state[_state.SUITE_RUNS]
    figures = table(at, "A precision CI").set_index("area")
    for member in runs:
        if member.run_id is not None:
            want, n = expected(workspace, member.run_id)
            assert n == 6 and figures.loc[member.area, "A F1"] == pytest.approx(want["f1"])
    assert "A: stub at " in texts(at)


def test_the_table_is_read_again_after_a_resend_of_a_runs_errors(workspace, monkeypatch):
    sample_workspace(workspace.root)
    paths = suite_golden(workspace.root, areas=["violence"])
    with Store(workspace.private_dir) as store:
        [member] = create_suite(store, workspace.root, [SuiteSide("A", Endpoint(NO_SERVER, "model-A"))], paths,
                                limit=20)
        ids = store.golden_set(store.run(member.run_id).golden_hash).items["id"].tolist()
        store.add_predictions(member.run_id, [(i, None, None, "", "HTTP 500", 1.0, 0) if i == ids[0] else
                                              (i, 0.7, None, "", None, 1.0, 0) for i in ids])
        store.mark_run(member.run_id, "completed")
    at = show(open_page("suite", monkeypatch), [member])
    assert table(at, "policy version").set_index("area").loc["violence", "errors"] == 1

    with Store(workspace.private_dir) as store:  # the error sent again and answered: as many predictions
        assert store.delete_errors(member.run_id) == 1
        store.add_predictions(member.run_id, [(ids[0], 0.7, None, "", None, 1.0, 0)])
    at.run()

    assert not at.exception
    assert table(at, "policy version").set_index("area").loc["violence", "errors"] == 0
