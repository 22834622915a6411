"""`python -m cope_eval app`: starts nothing local with a configured server, serves, stops cleanly, and
listens on 127.0.0.1 only unless an address is given (with a warning when that exposes an app
without sign-in)."""

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cope_eval.app._launcher import app_address, exposure_warning, open_to_all, streamlit_command
from tests.browser import free_port
from tests.conftest import REPO_ROOT
from tests.stub_server import StubServer


AUTH = """[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "not-a-real-secret-but-long-enough"
client_id = "cope-eval"
client_secret = "not-real"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
"""


class _App:
    """The launcher in a child process, its stderr in a file; ``wait_healthy`` waits for the app to answer."""

    def __init__(self, args: list[str], env: dict, tmp_path: Path):
        self.port = free_port()
        self.stderr_path = tmp_path / f"launcher-{self.port}.err"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))  # any working dir
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen([sys.executable, "-m", "cope_eval", "app", "--port", str(self.port), *args],
                                            cwd=env.pop("_CWD", REPO_ROOT), env=env, stdout=subprocess.DEVNULL,
                                            stderr=stderr)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def wait_healthy(self, host: str = "127.0.0.1") -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://{host}:{self.port}/_stcore/health", timeout=2) as reply:
                    assert reply.status == 200
                    return
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline, self.stderr
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _listening(port: int) -> list:
    """The addresses this machine listens on at ``port``, from /proc/net/tcp and tcp6 (state 0A, LISTEN)."""
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port or len(address) != width:
                continue
            # each 32-bit word is in the kernel's (little-endian) byte order
            raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, width, 8))
            found.append(ipaddress.ip_address(raw))
    return found


def _non_loopback_address() -> str | None:
    """An address of this machine that other machines would use, or None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))  # TEST-NET-1: picks the outgoing interface, sends nothing
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback else address


@pytest.fixture
def stub_env(workspace):
    with StubServer() as server:
        # HOME and the working directory hold no secrets of this machine's user
        yield {**os.environ, "COPE_BASE_URL": server.base_url, "COPE_MODEL": "stub", "COPE_LOCAL_PORT": "9"}


def test_app_command_uses_the_configured_server_and_stops_its_child(stub_env, tmp_path):
    app = _App([], {**stub_env, "COPE_ADDRESS": ""}, tmp_path)
    try:
        app.wait_healthy()
        listening = _listening(app.port)
        assert listening and all(address.is_loopback for address in listening), listening
        outside = _non_loopback_address()
        if outside is not None:
            with socket.socket() as probe:
                probe.settimeout(5)
                assert probe.connect_ex((outside, app.port)) != 0, f"the app answers on {outside}"
        app.stop()
    finally:
        app.process.kill()
    assert "Starting the local vLLM" not in app.stderr, "COPE_BASE_URL set: nothing local is started"
    assert "warning" not in app.stderr
    time.sleep(0.5)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", app.port)) != 0, "the app stopped with its launcher"


def test_an_exposed_app_without_sign_in_warns_at_start(stub_env, tmp_path):
    app = _App(["--address", "0.0.0.0"], {**stub_env, "HOME": str(tmp_path), "_CWD": tmp_path}, tmp_path)
    try:
        app.wait_healthy(_non_loopback_address() or "127.0.0.1")  # reachable from outside, as asked
        assert ipaddress.ip_address("0.0.0.0") in _listening(app.port)
    finally:
        app.stop()
    assert (f"warning: the app listens on 0.0.0.0:{app.port} without sign-in: anyone who can reach "
            f"0.0.0.0:{app.port} can edit policies, start runs and make the server fetch URLs. Configure [auth]"
            ) in app.stderr


def test_an_exposed_app_with_sign_in_does_not_warn(stub_env, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(AUTH)
    env = {**stub_env, "HOME": str(tmp_path), "_CWD": tmp_path, "STREAMLIT_SECRETS_FILES": str(secrets),
           "COPE_ADDRESS": "0.0.0.0"}
    app = _App([], env, tmp_path)
    try:
        app.wait_healthy()
        assert ipaddress.ip_address("0.0.0.0") in _listening(app.port), "COPE_ADDRESS is used"
    finally:
        app.stop()
    assert "warning" not in app.stderr, app.stderr


def test_the_address_is_the_flag_else_cope_address_else_loopback():
    assert app_address(None, {}) == "127.0.0.1"
    assert app_address(None, {"COPE_ADDRESS": " "}) == "127.0.0.1"
    assert app_address(None, {"COPE_ADDRESS": "0.0.0.0"}) == "0.0.0.0"
    assert app_address("10.1.2.3", {"COPE_ADDRESS": "0.0.0.0"}) == "10.1.2.3"
    command = streamlit_command(port=8501, address=app_address(None, {}))
    assert command[command.index("--server.address") + 1] == "127.0.0.1"


def test_the_app_server_loads_the_pages_libraries_before_it_answers():
    """A fresh server's first visitor must not wait for pandas, plotly and scikit-learn to import
    (issue 16: a 7.8 s first page); bench/bench_first_page.py measures the difference."""
    command = streamlit_command(port=8501, address="127.0.0.1")
    assert command[1:3] == [str(REPO_ROOT / "pages" / "_warm_start.py"), "run"]
    probe = (f"import runpy, sys\nsys.argv = [{command[1]!r}, 'version']\ntry:\n"
             f"    runpy.run_path({command[1]!r}, run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "print(' '.join(sorted(sys.modules)))")  # the launcher's own command, then what it loaded
    started = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert started.returncode == 0 and "Streamlit, version" in started.stdout, started.stderr[-2000:]
    loaded = set(started.stdout.split())
    assert {"pyarrow", "plotly.graph_objects", "sklearn.metrics", "cope_eval.app", "cope_eval.charts"} <= loaded


def test_the_warm_start_runs_its_own_checkouts_library_not_an_installed_one(tmp_path):
    """A checkout's pages run with that checkout's cope_eval, even when the package is installed from
    another (here: this repository). Python puts pages/ first on the path, not the checkout."""
    checkout = tmp_path / "checkout"
    (checkout / "pages").mkdir(parents=True)
    (checkout / "pages" / "_warm_start.py").write_text((REPO_ROOT / "pages" / "_warm_start.py").read_text())
    library = checkout / "cope_eval"
    library.mkdir()
    (library / "__init__.py").write_text("print('cope_eval from', __file__)\n")
    for name in ("store", "policies", "golden", "metrics", "scoring", "insight", "charts", "export", "app"):
        (library / f"{name}.py").write_text("")
    started = subprocess.run([sys.executable, str(checkout / "pages" / "_warm_start.py"), "version"],
                             capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert started.returncode == 0 and "Streamlit, version" in started.stdout, started.stderr[-2000:]
    assert f"cope_eval from {library / '__init__.py'}" in started.stdout


def test_the_warm_start_freezes_what_its_imports_made():
    """Streamlit collects garbage fully after every script run; frozen, the libraries' objects are not
    walked each time. Only the hand-off to Streamlit's command line is replaced here."""
    hand_off = ("import gc, runpy, sys; import streamlit.web.cli as cli; "
                "cli.main = lambda **_: print('frozen', gc.get_freeze_count()) or 0; "
                "sys.argv = ['_warm_start.py', 'version']; runpy.run_path('pages/_warm_start.py', run_name='__main__')")
    started = subprocess.run([sys.executable, "-c", hand_off], capture_output=True, text=True, timeout=120,
                             cwd=REPO_ROOT)
    assert started.returncode == 0, started.stderr[-2000:]
    [frozen] = [int(line.split()[1]) for line in started.stdout.splitlines() if line.startswith("frozen ")]
    assert frozen > 50_000, f"only {frozen} objects frozen: pandas, plotly and scikit-learn alone make more"


def test_the_app_has_no_deploy_button():
    from streamlit import config

    command = streamlit_command(port=8501, address="127.0.0.1")
    mode = command[command.index("--client.toolbarMode") + 1]
    assert mode == "minimal"  # "auto" shows Deploy and the developer menu on localhost
    config.get_option("client.toolbarMode")  # loads the options
    assert '"minimal"' in config._config_options["client.toolbarMode"].description  # a known mode


def test_no_full_garbage_collection_after_every_script_run():
    from streamlit import config

    command = streamlit_command(port=8501, address="127.0.0.1")
    assert command[command.index("--runner.postScriptGC") + 1] == "false"  # a known option: else no start
    assert config.get_option("runner.postScriptGC") is True, "Streamlit's default, which the flag turns off"


@pytest.mark.parametrize("address, warns", [
    ("127.0.0.1", False), ("127.0.0.2", False), ("localhost", False), ("::1", False), ("[::1]", False),
    ("0.0.0.0", True), ("::", True), ("192.168.1.20", True), ("evals.example.org", True), ("", True),
])
def test_only_an_address_other_machines_can_reach_warns(tmp_path, address, warns):
    warning = exposure_warning(address, 8501, {}, cwd=tmp_path, home=tmp_path, app_dir=tmp_path)
    assert (warning is not None) == warns
    if warns:
        assert "anyone who can reach" in warning and "[auth]" in warning and "README" in warning


def test_sign_in_is_found_where_streamlit_reads_the_secrets(tmp_path):
    folders = {name: tmp_path / name for name in ("home", "cwd", "app_dir")}
    for folder in folders.values():
        (folder / ".streamlit").mkdir(parents=True)
    assert open_to_all({}, **folders)
    (folders["cwd"] / ".streamlit" / "secrets.toml").write_text('COPE_API_KEY = "x"\n')
    assert open_to_all({}, **folders), "secrets without [auth]: sign-in is off"
    for where in ("home", "cwd", "app_dir"):  # each place Streamlit reads; app_dir: beside app.py
        secrets = folders[where] / ".streamlit" / "secrets.toml"
        kept = secrets.read_text() if secrets.exists() else ""
        secrets.write_text(kept + AUTH)
        assert not open_to_all({}, **folders), where
        secrets.write_text(kept)
    (folders["home"] / ".streamlit" / "secrets.toml").write_text(AUTH)
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text("")
    (folders["cwd"] / ".streamlit" / "config.toml").write_text(f'[secrets]\nfiles = ["{elsewhere}"]\n')
    assert open_to_all({}, **folders), "config.toml's [secrets] files replace the defaults"
    assert not open_to_all({"STREAMLIT_SECRETS_FILES": str(folders["home"] / ".streamlit" / "secrets.toml")}, **folders)
    elsewhere.write_text("[auth]\nredirect_uri = ")  # unreadable: the app stays closed, so it is not open
    assert not open_to_all({}, **folders)
    elsewhere.write_text("[auth]\nclient_id = 'x'\n")  # unusable [auth]: the app stays closed too
    assert not open_to_all({}, **folders)
