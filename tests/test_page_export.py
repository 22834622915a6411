"""The Export page: a run's bundle at a chosen threshold, downloaded or written to a folder."""

import json
import subprocess
import sys

import numpy as np
import streamlit

from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _state
from tests.apptest import messages, open_page, table, texts
from tests.factories import make_golden
from tests.test_page_compare import POLICY, scored_run, two_runs  # noqa: F401 (a fixture)


def _run(workspace, scores=np.linspace(0.05, 0.95, 10)):
    version = save_version(workspace.root, "violence", POLICY, note="v1")
    golden = make_golden(10)  # gold labels alternate 0, 1, 0, ...
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
        return scored_run(store, version, golden, scores)


def test_empty_workspace_renders(workspace, monkeypatch):
    at = open_page("export", monkeypatch)

    assert not at.exception
    assert "No scored runs yet" in texts(at)


def test_bundle_at_the_highest_f1_written_to_a_folder(workspace, monkeypatch):
    run = _run(workspace)
    at = open_page("export", monkeypatch)
    assert not at.exception
    assert at.selectbox(key=_state.EXPORT_RUN).value == run.id
    assert "policy.md" in table(at, "file")["file"].tolist()

    at.radio(key=_state.EXPORT_MODE).set_value("max_f1").run()
    assert "picked for the highest F1" in texts(at)
    at.text_input(key=_state.EXPORT_DEST).input("out/bundle")
    at.button(key=_state.EXPORT_WRITE).click().run()

    assert not at.exception
    card = json.loads((workspace.root / "out" / "bundle" / "card.json").read_text())
    assert card["threshold"]["method"] == "max_f1" and card["run"]["id"] == run.id
    assert (workspace.root / "out" / "bundle" / "policy.md").read_text() == POLICY
    assert any("Wrote" in s.value for s in at.success)
    assert len(at.get("download_button")) == 1


def test_a_threshold_set_by_hand_and_one_from_the_compare_page(workspace, monkeypatch):
    _run(workspace)
    at = open_page("export", monkeypatch)
    at.radio(key=_state.EXPORT_MODE).set_value("given").run()
    at.number_input(key=_state.EXPORT_VALUE).set_value(0.7).run()
    assert "set by hand to 0.7" in texts(at)

    at.session_state[_state.COMPARE_CHOICE] = {"value": 0.25, "rule": None, "target": None, "run_id": None}
    at.radio(key=_state.EXPORT_MODE).set_value("compare").run()
    assert not at.exception and "Threshold 0.2500" in texts(at)


def test_the_download_and_the_suggested_folder_are_named_after_the_policy_version(workspace, monkeypatch):
    run = _run(workspace)
    names = []
    real = streamlit.download_button
    monkeypatch.setattr(streamlit, "download_button",
                        lambda *a, **kw: names.append(kw["file_name"]) or real(*a, **kw))
    at = open_page("export", monkeypatch)
    assert not at.exception

    expected = f"violence-{run.policy_version_id[7:15]}"
    assert names[-1] == f"{expected}.zip", "not a metric's name (it was accuracy.zip)"
    assert at.text_input(key=_state.EXPORT_DEST).placeholder == f"exports/{expected}"
    at.button(key=_state.EXPORT_WRITE).click().run()
    assert not at.exception and (workspace.root / "exports" / expected / "card.json").is_file()


def test_the_compare_pages_threshold_is_the_one_compare_picked_with_its_rule(two_runs,  # noqa: F811
                                                                             monkeypatch):
    a, b, _ = two_runs
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    at.selectbox(key=_state.COMPARE_FOCUS).select_index(0).run()  # run A
    at.button(key=_state.PICK_F1).click().run()
    picked = at.slider(key=_state.COMPARE_THRESHOLD).value
    assert picked != 0.5

    at.switch_page("pages/export.py").run()
    at.selectbox(key=_state.EXPORT_RUN).set_value(a.id).run()
    at.radio(key=_state.EXPORT_MODE).set_value("compare").run()
    assert not at.exception
    shown = texts(at)
    assert f"Threshold {picked:.4f}" in shown and "Max F1" in shown and "set by hand" not in shown

    at.selectbox(key=_state.EXPORT_RUN).set_value(b.id).run()  # picked on A, exported for B
    assert not at.exception and f"Threshold {picked:.4f}" in texts(at) and "Max F1 on" in texts(at)


def test_a_rule_that_picks_another_value_on_the_runs_results_now_says_so(workspace, monkeypatch):
    run = _run(workspace)
    at = open_page("export", monkeypatch)
    at.session_state[_state.COMPARE_CHOICE] = {"value": 0.123, "rule": "max_f1", "target": None,
                                               "run_id": run.id}
    at.radio(key=_state.EXPORT_MODE).set_value("compare").run()

    assert not at.exception
    [warning] = [m for m in messages(at, "warning") if "Compare page picked" in m]
    assert "picked 0.1230 on the results it had" in warning and "the threshold exported" in warning


def test_an_unreachable_target_and_an_occupied_folder_are_one_error_each(workspace, monkeypatch):
    _run(workspace, scores=np.linspace(0.95, 0.05, 10))  # the top score is a gold 0: precision stays < 1
    at = open_page("export", monkeypatch)
    at.radio(key=_state.EXPORT_MODE).set_value("min_precision").run()
    at.number_input(key=_state.EXPORT_VALUE).set_value(1.0).run()
    assert not at.exception
    assert len(messages(at, "error")) == 1 and "No threshold of run" in messages(at, "error")[0]

    at.radio(key=_state.EXPORT_MODE).set_value("run").run()
    (workspace.root / "exports" / "taken").mkdir(parents=True)
    (workspace.root / "exports" / "taken" / "policy.md").write_text("mine")
    at.text_input(key=_state.EXPORT_DEST).input("exports/taken")
    at.button(key=_state.EXPORT_WRITE).click().run()

    assert not at.exception
    assert len(messages(at, "error")) == 1 and "already holds" in messages(at, "error")[0]
    assert (workspace.root / "exports" / "taken" / "policy.md").read_text() == "mine"


def test_the_page_says_whether_the_run_was_probed_and_rebuilds_when_a_probe_completes(workspace, monkeypatch):
    from cope_eval.insight import create_probe_study
    from cope_eval.insight import execute_study
    from tests.label_reader import label_reader
    from tests.policy_stub import policy_following
    from tests.stub_server import StubServer
    from tests.test_probes import base_run

    with StubServer(policy_following(label_reader)) as server, Store(workspace.private_dir) as store:
        base, endpoint = base_run(store, workspace, server, n=40)
        at = open_page("export", monkeypatch)
        assert f"Steerability: not probed: run `python -m cope_eval probe {base.id}`" in texts(at)

        study = create_probe_study(store, base.id)
        execute_study(store, study.id, endpoint, workspace_root=workspace.root)
        at.run()
    assert f"Steerability probe {study.id}: inverting the policy flipped 100% of 40 decisions" in texts(at)
    assert not [m for m in messages(at, "warning") if m.startswith("Steerability probe:")]


def test_a_run_still_scoring_is_bundled_only_when_asked_and_its_test_split_not_looked_at_before(workspace,
                                                                                                 monkeypatch):
    version = save_version(workspace.root, "violence", POLICY, note="v1")
    golden = make_golden(10)
    scorer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a live worker's pid
    try:
        with Store(workspace.private_dir) as store:
            store.put_golden_set(golden)
            run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
            store.add_predictions(run.id, [(i, 0.7, None, "", None, 1.0, 0) for i in golden.items["id"][:4]])
            store.add_predictions(run.id, [(golden.items["id"][4], None, None, "", "HTTP 503", None, 0)])
            store.mark_run(run.id, "running", pid=scorer.pid)
        at = open_page("export", monkeypatch)
        assert not at.exception
        assert f"Run {run.id} is still scoring: 4 of 10 items have an answer so far (1 more failed)" in texts(at)
        assert not list((workspace.private_dir / "exports").glob("*.zip")), "built on a visit, unasked"
        assert not at.get("download_button")

        at.button(key=_state.EXPORT_BUILD_PARTIAL).click().run()
        assert not at.exception
        assert len(list((workspace.private_dir / "exports").glob("*.zip"))) == 1
        assert any("5 of 10 items have no prediction" in w.value for w in at.warning), [w.value for w in at.warning]
        assert len(at.get("download_button")) == 1
        at.run()  # a later visit while it still scores: built again from what is stored then
        assert not at.exception and len(at.get("download_button")) == 1
    finally:
        scorer.kill()
        scorer.wait()
