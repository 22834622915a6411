"""`python -m cope_eval app` with a configured server: starts nothing local, serves, stops cleanly."""

import os
import signal
import subprocess
import sys
import time
import urllib.request

from tests.browser import free_port
from tests.conftest import REPO_ROOT
from tests.stub_server import StubServer


def test_app_command_uses_the_configured_server_and_stops_its_child(workspace):
    port = free_port()
    with StubServer() as server:
        env = {**os.environ, "COPE_BASE_URL": server.base_url, "COPE_MODEL": "stub", "COPE_LOCAL_PORT": "9"}
        launcher = subprocess.Popen([sys.executable, "-m", "cope_eval", "app", "--port", str(port)], cwd=REPO_ROOT,
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                        assert reply.status == 200
                        break
                except OSError:
                    assert launcher.poll() is None and time.monotonic() < deadline, launcher.stderr.read()
                    time.sleep(0.3)
            launcher.send_signal(signal.SIGTERM)
            launcher.wait(timeout=30)
        finally:
            launcher.kill()
    stderr = launcher.stderr.read().decode()
    assert "Starting the local vLLM" not in stderr, "COPE_BASE_URL set: nothing local is started"
    time.sleep(0.5)
    with __import__("socket").socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the app stopped with its launcher"
