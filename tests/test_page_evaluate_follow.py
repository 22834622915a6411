"""Evaluate follows this analyst's own work: the run a session started, from the script run of
its Start on, never another session's; a new session opens on its own latest run (the signed-in
user's, from any session), with everyone's runs one click away.

Each session is an AppTest of its own on one workspace, as analysts in separate browser tabs.
"""

from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from cope_eval.app import EVERYONES_RUNS, MY_RUNS
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _state
from tests.apptest import APP, navigation_only, texts
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer, instant
from tests.test_auth_pages import ADA, AUTH
from tests.test_page_evaluate import _populate

BOB = {"is_logged_in": True, "email": "bob@example.org", "name": "Bob", "sub": "u-2"}
CAROL = {"is_logged_in": True, "email": "carol@example.org", "name": "Carol", "sub": "u-3"}


def _slow(path, body):
    return Reply(body=FIXED_CHAT_REPLY, delay_s=0.05) if "chat" in path else instant(path, body)


@pytest.fixture
def server(monkeypatch):
    with StubServer(_slow) as stub:
        monkeypatch.setenv("COPE_BASE_URL", stub.base_url)
        monkeypatch.setenv("COPE_MODEL", "stub")
        monkeypatch.setenv("COPE_LOCAL_SERVER", "0")
        yield SimpleNamespace(base_url=stub.base_url, model="stub")


@pytest.fixture
def other_run(workspace):
    """A workspace with a policy, a golden set of 20 items and someone's completed run over it."""
    v1, _, golden = _populate(workspace, n_items=20)
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=v1, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
        store.add_predictions(run.id, [(i, 0.9, None, "1", None, 1.0, 0) for i in golden.items["id"]])
        store.mark_run(run.id, "completed")
    return run


def _session(monkeypatch, user: dict | None = None) -> AppTest:
    """A new browser session on the Evaluate page; ``user``: signed in with sign-in on."""
    navigation_only(monkeypatch)
    at = AppTest.from_file(APP, default_timeout=60)
    if user is not None:
        at.secrets.update(AUTH)
        at.user = user
    at.run()
    assert not at.exception, at.exception
    at = at.switch_page("pages/evaluate.py").run()
    assert not at.exception, at.exception
    return at


def _start(at: AppTest) -> str:
    """Press Start (one version, concurrency 1); the id of the run it started."""
    at.number_input(key=_state.EVAL_CONCURRENCY).set_value(1)
    before = set(at.session_state[_state.EVAL_STARTED])
    at.button(key=_state.EVAL_START).click().run()
    assert not at.exception, at.exception
    [started] = set(at.session_state[_state.EVAL_STARTED]) - before
    return started


def _followed(at: AppTest) -> tuple[str | None, str]:
    """The picker's run (None: no picker, or nothing picked) and the status line beside the progress
    bar ('' when none is shown)."""
    pickers = [s for s in at.selectbox if s.key == _state.EVAL_RUN]
    return pickers[0].value if pickers else None, "\n".join(p.proto.text for p in at.get("progress"))


def _shows_only(at: AppTest, run_id: str, *others: str) -> None:
    picked, status = _followed(at)
    assert picked == run_id, f"the picker follows {picked}, not {run_id}"
    assert status.startswith(f"{run_id} · "), f"the status line is another run's: {status!r}"
    assert not any(other in status for other in others), status


def test_each_session_follows_the_run_it_started_from_the_start_on(other_run, server, monkeypatch):
    a = _session(monkeypatch)
    _shows_only(a, other_run.id)  # sign-in off, no run of its own: the workspace's newest
    assert "completed · 20 / 20 items" in _followed(a)[1]

    a_run = _start(a)
    _shows_only(a, a_run, other_run.id)  # the script run of the Start press itself
    assert "completed" not in _followed(a)[1], "the other run's status beside this run's progress"

    b = _session(monkeypatch)
    b_run = _start(b)
    _shows_only(b, b_run, a_run, other_run.id)
    for _ in range(3):  # the page's polls, while both run
        a.run()
        b.run()
        _shows_only(a, a_run, b_run, other_run.id)
        _shows_only(b, b_run, a_run, other_run.id)


def test_a_session_keeps_the_run_it_follows_when_a_newer_one_starts(other_run, server, monkeypatch):
    a = _session(monkeypatch)
    _shows_only(a, other_run.id)

    b_run = _start(_session(monkeypatch))
    a.run()

    _shows_only(a, other_run.id, b_run)  # never moved to the workspace's newest by a poll
    assert b_run in at_options(a), "listed, to be picked"
    a.selectbox(key=_state.EVAL_RUN).select(b_run).run()
    _shows_only(a, b_run)  # a pick is followed


def at_options(at: AppTest) -> list[str]:
    """The runs the "Follow run" picker offers; [] when it is not shown (nothing to offer)."""
    return [o for s in at.selectbox if s.key == _state.EVAL_RUN for o in s.options]


def test_a_new_signed_in_session_opens_on_that_users_latest_run(other_run, server, monkeypatch):
    ada_run = _start(_session(monkeypatch, ADA))
    bob_run = _start(_session(monkeypatch, BOB))  # newer, and someone else's

    ada = _session(monkeypatch, ADA)  # Ada again, in a new tab
    assert ada.radio(key=_state.EVAL_SCOPE).value == MY_RUNS
    _shows_only(ada, ada_run, bob_run, other_run.id)
    assert at_options(ada) == [ada_run], "My runs: hers alone"

    ada.radio(key=_state.EVAL_SCOPE).set_value(EVERYONES_RUNS).run()  # one click
    assert at_options(ada) == [bob_run, ada_run, other_run.id], "everyone's, newest first"
    _shows_only(ada, ada_run, bob_run, other_run.id)

    carol = _session(monkeypatch, CAROL)  # signed in, no run of her own: none followed, never Bob's
    assert _followed(carol) == (None, "")
    assert at_options(carol) == [] and f"No runs of yours yet: {EVERYONES_RUNS}" in texts(carol)
    carol.radio(key=_state.EVAL_SCOPE).set_value(EVERYONES_RUNS).run()
    assert at_options(carol) == [bob_run, ada_run, other_run.id] and _followed(carol) == (None, "")


def test_sign_in_off_my_runs_are_this_sessions(other_run, server, monkeypatch):
    a = _session(monkeypatch)
    assert a.radio(key=_state.EVAL_SCOPE).value == EVERYONES_RUNS, "no identity: everyone's"
    a_run = _start(a)
    b_run = _start(_session(monkeypatch))
    a.radio(key=_state.EVAL_SCOPE).set_value(MY_RUNS).run()

    assert at_options(a) == [a_run]
    _shows_only(a, a_run, b_run)
