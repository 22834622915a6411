"""Helpers for the page tests (AppTest): open the app on one page, read what it shows."""

from __future__ import annotations

import re
import time

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT

APP = str(REPO_ROOT / "app.py")
NO_SERVER = "http://127.0.0.1:9/v1"
"""A URL nothing answers: pages must still render (and say there is no server)."""


def navigation_only(monkeypatch) -> None:
    """Make every AppTest run go through app.py's st.navigation, as the real server does.

    AppTest resets Streamlit's "this app has a pages/ folder" flag before each run, so without
    this only the first run executes app.py and later runs execute the page file alone (no
    sidebar). The real server clears the flag for good once st.navigation has run.
    """
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


def open_page(page: str, monkeypatch, *, server=None, timeout: float = 60, tabs: dict[str, str] | None = None) -> AppTest:
    """The app after its first run, switched to ``pages/<page>.py`` and run again; ``tabs`` opens
    tabs by widget key and label (``pages/_tabs.py``: only the open tab is drawn)."""
    navigation_only(monkeypatch)
    if server is None:
        monkeypatch.setenv("COPE_BASE_URL", NO_SERVER)
        monkeypatch.delenv("COPE_MODEL", raising=False)
    else:
        monkeypatch.setenv("COPE_BASE_URL", server.base_url)
        monkeypatch.setenv("COPE_MODEL", server.model)
        monkeypatch.setenv("COPE_LOCAL_SERVER", "1" if server.is_local else "0")
    at = AppTest.from_file(APP, default_timeout=timeout).run()
    assert not at.exception, at.exception
    for key, label in (tabs or {}).items():
        at.session_state[key] = label
    return at.switch_page(f"pages/{page}.py").run()


def shown(markdown: str) -> str:
    """Markdown as the reader sees it: backslash escapes (``views.escape_markdown``) removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def texts(at: AppTest) -> str:
    """Every message, caption, markdown and text on the page (sidebar included), as shown, joined."""
    parts = []
    for kind in ("error", "warning", "info", "success", "caption", "markdown", "text", "code", "subheader", "title"):
        parts += [shown(str(e.value)) for e in getattr(at, kind) if hasattr(e, "value")]
    return "\n".join(parts)


def messages(at: AppTest, kind: str) -> list[str]:
    """The st.<kind> messages (error, warning, info, success) of the page, sidebar left out, as shown."""
    return [shown(str(e.value)) for e in getattr(at.main, kind)]


def until(at: AppTest, done, *, timeout_s: float = 90, every_s: float = 0.5) -> AppTest:
    """Rerun ``at`` until ``done(at)`` holds (runs score in background threads)."""
    deadline = time.monotonic() + timeout_s
    while not done(at):
        assert time.monotonic() < deadline, f"timed out; page shows:\n{texts(at)}"
        time.sleep(every_s)
        at.run()
        assert not at.exception, at.exception
    return at


def table(at: AppTest, column: str):
    """The value of the first dataframe shown that has ``column`` (dataframes carry no key)."""
    for frame in at.dataframe:
        value = frame.value
        if column in value.columns or column == value.index.name:
            return value
    raise AssertionError(f"no dataframe with a {column!r} column; page shows:\n{texts(at)}")
