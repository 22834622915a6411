"""Helpers for real-browser tests: run the app with `streamlit run`, drive Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from cope_eval.app._launcher import streamlit_command

CHROMIUM = "/usr/bin/chromium"
# As root the sandbox must be off; the networking flags stop Chromium calling home on a
# machine with no network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]
REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class App:
    """The app in a child process, started as ``make run`` starts it (``streamlit_command``: the
    warm start, no Deploy button), its output going to a file."""

    def __init__(self, env: dict[str, str], *, log_path: Path | None = None, timeout_s: float = 60.0,
                 port: int | None = None):
        port = free_port() if port is None else port  # a given port: a restart, where open tabs reconnect
        command = streamlit_command(port=port, address="127.0.0.1", extra_args=["--server.headless", "true"])
        # A file, not a pipe: nobody reads a pipe while the test runs, and a full pipe blocks the app.
        self._log = open(log_path, "ab") if log_path else tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, env={**os.environ, **env}, cwd=REPO_ROOT, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout_s
        while not _answers(f"{self.url}/_stcore/health"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.output()
                self.stop()
                raise RuntimeError(f"streamlit did not start:\n{output}")
            time.sleep(0.3)

    def output(self) -> str:
        """Everything the app printed so far (stdout and stderr)."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would end it; reaped, so its pid is gone."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # busy machine: do not fail the test over a slow shutdown
                self.kill()
        self._log.close()


FAILED_APP_OUTPUT: list[str] = []
"""The end of what an app printed, kept when a test's exception left its ``app_process``: the
failed test's report carries it (tests/conftest.py), then it is cleared."""


@contextmanager
def app_process(env: dict[str, str], *, log_path: Path | None = None, timeout_s: float = 60.0,
                port: int | None = None):
    """Yield a started ``App`` with ``env`` added (on ``port``, else a free one); stop it after
    (unless the test killed it)."""
    app = App(env, log_path=log_path, timeout_s=timeout_s, port=port)
    try:
        yield app
    except BaseException:
        FAILED_APP_OUTPUT.append(app.output()[-6000:])
        raise
    finally:
        app.stop()


@contextmanager
def running_app(env: dict[str, str], timeout_s: float = 60.0):
    """Yield the URL of `streamlit run app.py` started with ``env`` added; stop it after."""
    with app_process(env, timeout_s=timeout_s) as app:
        yield app.url


WAIT = 60_000
"""Milliseconds a browser test waits for the app to show something."""


def goto(page, title: str) -> None:
    """Open a page from the sidebar and wait for its heading."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=WAIT)


CONNECTION_CLOSED = "Connection closed"
"""What Streamlit's frontend shows on a button whose request to the app was cut off by its websocket
closing (it reconnects by itself)."""


def download(page, button, *, timeout_ms: int = WAIT):
    """Click a download ``button``; Playwright's Download. A deferred download (the file is made on
    click) is a request over the app's websocket: if the frontend reports that request's connection
    closed, the click is made once more after the page reconnects. A transport hiccup, seen once in a
    full suite (``test_browser_export``); any other failure to download still fails."""
    for attempt in (1, 2):
        started: list = []
        page.once("download", lambda file: started.append(file))
        button.click()
        deadline = time.monotonic() + timeout_ms / 1000
        while not started and time.monotonic() < deadline:
            if attempt == 1 and page.get_by_text(CONNECTION_CLOSED, exact=True).count():
                break
            page.wait_for_timeout(200)
        if started:
            return started[0]
        if attempt == 2 or not page.get_by_text(CONNECTION_CLOSED, exact=True).count():
            raise AssertionError(f"no download within {timeout_ms / 1000:g} s of clicking {button}")
        idle(page)


def idle(page) -> None:
    """Wait for the current script run to finish (the status widget disappears)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=WAIT)


def options_of(page, name: str) -> list[str]:
    """The options the picker ``name`` offers (opened, read, closed)."""
    page.get_by_role("combobox", name=name, exact=True).click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=WAIT)
    shown = options.all_inner_texts()
    page.keyboard.press("Escape")
    return shown


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox ``label``; a rerun that redraws the box while it opens
    closes it, so open it again."""
    from playwright.sync_api import TimeoutError, expect

    box, choice = page.get_by_role("combobox", name=label, exact=True), page.get_by_role("option", name=option,
                                                                                         exact=True)
    for _ in range(5):
        idle(page)
        box.click()
        try:
            choice.click(timeout=5_000)
            break
        except TimeoutError:
            page.keyboard.press("Escape")
    else:
        choice.click(timeout=WAIT)
    expect(box).to_have_value(option, timeout=WAIT)


def save_screenshot(page, name: str, tmp_path: Path) -> Path:
    """The whole page as a PNG, under docs/screenshots when COPE_SAVE_SCREENSHOTS=1. Streamlit
    scrolls inside its main block, so the viewport grows to fit it first."""
    idle(page)
    height = page.evaluate('document.querySelector(\'[data-testid="stMainBlockContainer"]\').scrollHeight')
    page.set_viewport_size({"width": 1400, "height": max(900, int(height) + 120)})
    page.wait_for_timeout(800)  # charts and tables re-layout
    folder = SCREENSHOTS if os.environ.get("COPE_SAVE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    return path


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
