"""Shared fixtures: a fresh workspace per test, one real model server per session."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cope_eval.config import Workspace, normalise_base_url
from cope_eval.local import _server as local_server
from cope_eval.scoring import probe


@dataclass(frozen=True)
class ModelServer:
    """The real OpenAI-compatible server the tests talk to."""

    base_url: str
    model: str
    is_local: bool


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Workspace:
    """A fresh, empty workspace, also set as COPE_EVAL_HOME."""
    monkeypatch.setenv("COPE_EVAL_HOME", str(tmp_path))
    return Workspace(tmp_path).ensure()


@pytest.fixture
def ws(tmp_path) -> Path:
    """A bare workspace folder holding one valid image, img/ok.png (for loader and image tests)."""
    from tests.factories import png_bytes

    root = tmp_path / "ws"
    (root / "img").mkdir(parents=True)
    (root / "img" / "ok.png").write_bytes(png_bytes())
    return root


@pytest.fixture(scope="session")
def model_server() -> ModelServer:
    """The session's model server: $COPE_TEST_BASE_URL, else the local vLLM (started once).

    A local server started here is stopped when the session ends; one that was already
    running (e.g. the app's) is reused and left running.
    """
    explicit = os.environ.get("COPE_TEST_BASE_URL")
    if explicit:
        base_url = normalise_base_url(explicit)
        status = probe(base_url, os.environ.get("COPE_TEST_API_KEY"))
        if not status.healthy:
            pytest.fail(f"COPE_TEST_BASE_URL={explicit} is not healthy: {status.error}")
        model = os.environ.get("COPE_TEST_MODEL") or status.models[0].id
        yield ModelServer(base_url, model, is_local=False)
        return
    server = local_server.ensure_running(progress=lambda m: print(m, file=sys.stderr, flush=True))
    try:
        yield ModelServer(server.base_url, server.model, is_local=True)
    finally:
        if server.started_here:
            local_server.stop()


REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright, one per test module.

    Not per session: Playwright's sync API keeps an event loop running in the main thread
    while it is open, which would break every later test that calls asyncio.run().
    """
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser page that records every JavaScript dialog it sees."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test's report carries what its page showed then and what its app printed:
    a CI failure can be read."""
    from tests.browser import FAILED_APP_OUTPUT

    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    printed, FAILED_APP_OUTPUT[:] = list(FAILED_APP_OUTPUT), []
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if not report.failed or page is None:
        return
    try:
        shown = page.locator("body").inner_text(timeout=5_000)
    except Exception as exc:  # the page may be the reason: its report must still come out
        shown = f"(the page could not be read: {exc})"
    report.sections.append(("what the page showed when the test failed", shown))
    for output in printed:
        report.sections.append(("the end of what the app printed", output))
