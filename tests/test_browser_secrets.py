"""A key typed into the sidebar goes to its own server only, and nowhere else: not the app's log,
the local vLLM's log, any workspace file (store, WAL, snapshots, exports), any page's HTML or
text, or the accessible text of what is on screen.

Two sentinel keys, in a real browser against the real local vLLM:

- KEY_VLLM is typed with the vLLM's address (reached through a proxy that records every request
  head), and a run and a single check go through it;
- KEY_ECHO is typed with a stub server that refuses every scoring request with HTTP 401 and
  quotes the key back in its error text (as some servers and proxies do), so errors are stored
  and rendered.

Both keys must reach their own server (or the test would prove nothing), never the other one,
and never appear anywhere else; nor may KEY_ENV, the COPE_API_KEY of the server the app was
started with, which this session never chooses. A PNG screenshot cannot be searched for text; the accessible
text of the page (Playwright's ARIA snapshot) and its HTML are searched instead.
"""

import json
import re
import time
from urllib.parse import urlsplit

import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cope_eval.golden import golden_set_hash
from cope_eval.local import _server as local_server
from cope_eval.policies import save_version
from cope_eval.records import GoldenSet
from cope_eval.store import Store
from tests.browser import WAIT, app_process, goto, idle
from tests.fault_proxy import FaultProxy
from tests.stub_server import Reply, StubServer, instant

pytestmark = [pytest.mark.browser, pytest.mark.model]

KEY_VLLM = "sk-SENTINEL-vllm-4f0c-never-show-me"
KEY_ECHO = "sk-SENTINEL-echo-9b2e-never-show-me"
KEY_ENV = "sk-SENTINEL-env-51aa-never-show-me"
"""COPE_API_KEY: the key of the server the app is configured with, which is never chosen here."""
POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person.\n"


class EchoServer(StubServer):
    """Refuses every scoring request with HTTP 401, quoting the Authorization header it got."""

    def __init__(self):
        super().__init__(self._answer)

    def _answer(self, path: str, body: bytes) -> Reply:
        if "chat" not in path:
            return instant(path, body)
        _, headers, _ = self.requests[-1]  # this request: recorded just before the answer is asked for
        message = f"invalid key {headers.get('authorization', '(none)')}"
        return Reply(status=401, body=json.dumps({"error": {"message": message}}).encode())


def _seed(workspace) -> None:
    save_version(workspace, "violence", POLICY, note="v1")
    items = pd.DataFrame({"id": ["a", "b", "c", "d"], "label": [1, 0, 1, 0], "image": [None] * 4,
                          "category": ["t", "n", "t", "n"],
                          "text": ["I will hurt you.", "Nice day.", "I know where you live.", "Tea?"]})
    with Store(workspace / ".cope_eval") as store:
        store.put_golden_set(GoldenSet("posts", golden_set_hash(items), items))


def _use_server(page, base_url: str, key: str, *, then_tab: bool = False) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    url_box = sidebar.get_by_label("Base URL")
    if not url_box.is_visible():
        sidebar.get_by_text("Change server, model or key").click()
    url_box.fill(base_url)
    url_box.press("Tab")
    idle(page)
    key_box = sidebar.get_by_label("API key (kept in memory for this session)")
    key_box.press_sequentially(key)  # typed, key by key, then straight to the button...
    if then_tab:
        key_box.press("Tab")  # ...or first Tab, onto the field's show/hide button: the key must still count
    sidebar.get_by_role("button", name="Use").click()
    sidebar.get_by_text(urlsplit(base_url).netloc).first.wait_for(timeout=WAIT)
    sidebar.get_by_text("Healthy").wait_for(timeout=WAIT)
    idle(page)


def _start_and_finish(page, workspace, n_runs: int) -> None:
    goto(page, "Evaluate")
    page.get_by_role("button", name="Start").click()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with Store(workspace / ".cope_eval") as store:
            runs = store.runs()
        if len(runs) == n_runs and all(r.status == "completed" for r in runs):
            return
        time.sleep(0.5)
    raise AssertionError(f"runs did not finish: {[(r.id, r.status) for r in runs]}")


def _check(page, text: str) -> None:
    page.get_by_label("Content").fill(text)
    page.get_by_label("Content").blur()
    idle(page)
    page.get_by_role("button", name="Check", exact=True).click()


def _settle(page) -> None:
    """Let a page draw: its script run ends (or, for a page that keeps working or polling, 30 s
    pass: what is on screen by then is what is searched), then tables and charts lay out."""
    page.wait_for_timeout(500)
    try:
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=30_000)
    except PlaywrightTimeout:
        pass
    page.wait_for_timeout(1000)


def test_typed_keys_reach_their_own_server_and_nothing_else(page, model_server, tmp_path):
    workspace = tmp_path / "ws"
    _seed(workspace)
    vllm_log = local_server.log_path() if model_server.is_local else None
    vllm_log_start = vllm_log.stat().st_size if vllm_log and vllm_log.exists() else 0
    target = urlsplit(model_server.base_url)
    seen = {}  # where -> text searched
    env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": "http://127.0.0.1:9/v1",  # nothing there
           "COPE_API_KEY": KEY_ENV}
    with FaultProxy(target.hostname, target.port) as proxy, \
            EchoServer() as echo, \
            app_process(env, log_path=tmp_path / "app.log") as app:
        page.goto(app.url)
        page.get_by_text("Unhealthy").wait_for(timeout=WAIT)

        # 1. The real vLLM with KEY_VLLM: a run and one check succeed.
        _use_server(page, proxy.base_url, KEY_VLLM)
        _start_and_finish(page, workspace, 1)
        _check(page, "I will find you.")
        page.get_by_text('P("1")').wait_for(timeout=WAIT)

        # 2. The echoing server chosen without a key: neither KEY_VLLM nor KEY_ENV may follow it there.
        error = page.locator('[data-testid="stMain"] [data-testid="stAlertContentError"]')
        _use_server(page, echo.base_url, "")
        _check(page, "I will find you.")
        page.get_by_text("invalid key (none)").wait_for(timeout=WAIT)  # no key: no Authorization header at all

        # 3. The echoing server with KEY_ECHO: a run of errors and a failed check, rendered.
        _use_server(page, echo.base_url, KEY_ECHO, then_tab=True)
        _start_and_finish(page, workspace, 2)
        page.get_by_text(re.compile(r"completed · 4 / 4 items · 4 errors")).first.wait_for(timeout=WAIT)
        _check(page, "I will find you.")
        page.get_by_text("invalid key Bearer [redacted]").wait_for(timeout=WAIT)  # shown, its key taken out
        assert error.count() == 1
        seen["Evaluate after a failed check"] = page.content() + page.locator("body").aria_snapshot()

        # 4. Every page, as HTML, as text and as its accessible tree; the export written to disk.
        links = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
        names = [text.strip().splitlines()[-1] for text in links]  # the icon's name comes first
        assert len(names) >= 6, names
        for name in names:
            page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
            _settle(page)
            if name == "Export":
                page.get_by_role("button", name="Write to folder").click()
                page.get_by_text("Wrote ").wait_for(timeout=WAIT)
            seen[f"page {name}"] = "\n".join([page.content(), page.locator("body").inner_text(),
                                                      page.locator("body").aria_snapshot()])
        page.screenshot(path=str(tmp_path / "last.png"), full_page=True)  # pixels: not searchable, see above
    seen["app log"] = (tmp_path / "app.log").read_text(errors="replace")
    if vllm_log is not None:
        with open(vllm_log, "rb") as log:
            log.seek(vllm_log_start)
            seen["vLLM log (this test's part)"] = log.read().decode(errors="replace")
    files = [p for p in workspace.rglob("*") if p.is_file()]
    assert any(p.parts[-2] == ".cope_eval" for p in files) and any("exports" in p.parts for p in files)
    for path in files:
        seen[f"file {path.relative_to(workspace)}"] = path.read_bytes().decode("latin-1")

    # Each key went to its own server, on every scoring request, and never to the other.
    vllm_heads = [h.decode("latin-1").lower() for h in proxy.heads if b"/chat/completions" in h]
    echo_heads = [h for p, h, _ in echo.requests if p.endswith("/chat/completions")]
    assert len(vllm_heads) >= 5 and all(f"authorization: bearer {KEY_VLLM.lower()}" in h for h in vllm_heads)
    assert echo_heads[0].get("authorization") is None, "chosen without a key: sent without one"
    assert len(echo_heads) >= 6 and all(h.get("authorization") == f"Bearer {KEY_ECHO}" for h in echo_heads[1:])
    assert not any(k.lower() in h.decode("latin-1").lower() for h in proxy.heads for k in (KEY_ECHO, KEY_ENV))
    assert not any(k in str(h) for _, h, _ in echo.requests for k in (KEY_VLLM, KEY_ENV))
    # ...and is nowhere else.
    keys = (KEY_VLLM, KEY_ECHO, KEY_ENV)
    leaks = [(where, key[:20]) for where, text in seen.items() for key in keys if key in text]
    assert leaks == [], leaks
    assert "Bearer [redacted]" in "".join(seen.values()), "the echoed error was stored and shown, redacted"
    assert page.dialogs == []
