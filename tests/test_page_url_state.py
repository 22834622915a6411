"""A page's runs live in its address: a session that starts on ``/evaluate?run=<id>`` (a tab
reconnecting after a restart, a reload, a copied link) follows that run, one on
``/compare?runs=<a>,<b>`` compares those runs; the page writes its choice back; an id this
workspace does not have is named in a caption and left out, never an exception."""

import pytest
from streamlit.testing.v1 import AppTest

from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _state, _url_state
from tests.apptest import APP, NO_SERVER, navigation_only, texts
from tests.test_page_evaluate import _populate


@pytest.fixture
def runs(workspace):
    """Three completed runs, oldest first (v1, v2, v1): a new session's defaults are the newest."""
    v1, v2, golden = _populate(workspace, n_items=6)
    ids = []
    with Store(workspace.private_dir) as store:
        for version in (v1, v2, v1):
            run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
            store.add_predictions(run.id, [(i, 0.9, None, "1", None, 1.0, 0) for i in golden.items["id"]])
            store.mark_run(run.id, "completed")
            ids.append(run.id)
    return ids


def _session(monkeypatch, page: str, **params: str) -> AppTest:
    """A new browser session whose first request is ``/<page>?<params>``."""
    navigation_only(monkeypatch)
    monkeypatch.setenv("COPE_BASE_URL", NO_SERVER)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params)
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _address(at: AppTest, param: str) -> str | None:
    """The parameter's value in the session's address (AppTest keeps a value read from the first
    request as a list, one the script set as a string)."""
    value = at.query_params.get(param)
    return value[-1] if isinstance(value, list) else value


def _followed(at: AppTest) -> str:
    [picker] = [s for s in at.selectbox if s.key == _state.EVAL_RUN]
    return picker.value


def test_evaluate_follows_the_run_its_address_names(runs, monkeypatch):
    oldest = runs[0]
    at = _session(monkeypatch, "evaluate", run=oldest)

    assert _followed(at) == oldest, "the address's run, not the newest"
    assert oldest in "\n".join(p.proto.text for p in at.get("progress"))
    assert _address(at, _url_state.RUN) == oldest


def test_evaluate_writes_the_run_it_follows_into_the_address(runs, monkeypatch):
    at = _session(monkeypatch, "evaluate")
    assert _address(at, _url_state.RUN) == runs[-1], "a new session's run, in the address"

    at.selectbox(key=_state.EVAL_RUN).set_value(runs[1]).run()
    assert _followed(at) == runs[1] and _address(at, _url_state.RUN) == runs[1]


def test_evaluate_ignores_a_run_the_workspace_does_not_have(runs, monkeypatch):
    at = _session(monkeypatch, "evaluate", run="run-from-another-workspace")

    assert _followed(at) == runs[-1], "the usual default"
    assert "The address names a run this workspace does not have, left out: run-from-another-workspace." in texts(at)
    assert _address(at, _url_state.RUN) == runs[-1]


def test_compare_opens_on_the_runs_its_address_names(runs, monkeypatch):
    a, b = runs[0], runs[1]
    at = _session(monkeypatch, "compare", runs=f"{b},{a}")

    assert at.multiselect(key=_state.COMPARE_RUNS).value == [b, a], "the address's runs, in its order"
    assert _address(at, _url_state.RUNS) == f"{b},{a}"


def test_compare_writes_its_runs_and_a_change_is_not_undone_by_the_old_address(runs, monkeypatch):
    at = _session(monkeypatch, "compare", runs=f"{runs[0]},{runs[1]}")
    at.multiselect(key=_state.COMPARE_RUNS).set_value([runs[2]]).run()

    assert not at.exception, at.exception
    assert at.multiselect(key=_state.COMPARE_RUNS).value == [runs[2]]
    assert _address(at, _url_state.RUNS) == runs[2]


def test_compare_ignores_unknown_runs_with_a_caption(runs, monkeypatch):
    at = _session(monkeypatch, "compare", runs=f"nope,{runs[0]},also-nope")

    assert at.multiselect(key=_state.COMPARE_RUNS).value == [runs[0]]
    assert "The address names scored runs this workspace does not have, left out: nope, also-nope." in texts(at)
