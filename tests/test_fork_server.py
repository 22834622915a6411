"""The fork server: processes forked from an interpreter that imported their libraries once behave
as ``Popen(start_new_session=True)``'s did (own session, own log, own environment, exit status),
outlive the server, and are refused rather than forked from a threaded process."""

import os
import signal
import time

import pytest

from cope_eval._util.fork_server import UNKNOWN_STATUS, ForkServer
from cope_eval._util.pids import pid_alive

ENTRIES = "tests.fork_server_entries"


@pytest.fixture
def server():
    forks = ForkServer((ENTRIES,), f"{ENTRIES}:echo")
    yield forks
    forks.close()


def test_a_forked_process_runs_the_entry_with_its_arguments_environment_log_and_exit_status(server, tmp_path):
    log = tmp_path / "a.log"
    process = server.start(["3", "x"], env={"FORK_TEST": "given"}, log=log)

    assert process is not None and process.wait(30) == 3 and process.poll() == 3
    line, err = log.read_text().splitlines()
    *argv, env, pid, parent, session = line.split()
    assert (argv, env, int(pid)) == (["3", "x"], "given", process.pid)
    assert int(parent) != os.getpid(), "forked by the server, not by the caller"
    assert int(session) == process.pid, "a session of its own: the app's Ctrl-C or restart leaves it running"
    assert err == "to stderr"
    second = server.start(["0"], env={}, log=log)
    assert second.wait(30) == 0 and second.pid != process.pid, "one server, a process per start"


def test_a_forked_process_outlives_the_server_and_its_end_is_still_seen(tmp_path):
    forks = ForkServer((ENTRIES,), f"{ENTRIES}:sleep")
    process = forks.start(["1.5"], env={}, log=tmp_path / "b.log")
    forks.close()  # the app is gone
    assert process.poll() is None and pid_alive(process.pid), "still running without its server"
    assert process.wait(30) == UNKNOWN_STATUS, "exited; how, nobody saw"


def test_a_signal_reaches_the_forked_process(server, tmp_path):
    forks = ForkServer((ENTRIES,), f"{ENTRIES}:sleep")
    try:
        process = forks.start(["60"], env={}, log=tmp_path / "c.log")
        time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == -signal.SIGTERM, "Popen's returncode for a signal"
    finally:
        forks.close()


def test_a_server_with_a_thread_refuses_to_fork(tmp_path, monkeypatch):
    monkeypatch.setenv("FORK_TEST_THREAD", "1")  # the preload starts a thread in the server
    forks = ForkServer((ENTRIES,), f"{ENTRIES}:echo")
    try:
        assert forks.start(["0"], env={}, log=tmp_path / "d.log") is None, "the caller starts a plain process"
    finally:
        forks.close()


def test_a_preload_that_prints_leaves_the_servers_answers_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("FORK_TEST_PRINT", "1")
    forks = ForkServer((ENTRIES,), f"{ENTRIES}:echo")
    try:
        process = forks.start(["0"], env={}, log=tmp_path / "e.log")
        assert process is not None and process.wait(30) == 0
    finally:
        forks.close()
