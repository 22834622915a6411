"""Open tabs survive an app restart (issue 21): each comes back on its page and its runs.

Two tabs: Evaluate following an older run (picked), and Compare opened from a link on two older
runs. The app is killed, a newer run is stored while it is down (a new session without the
address would follow or compare that one), and the app comes back on the same port. Each tab
reconnects; its next script run (the "r" key, as after any click) must show the same page and
the same runs, never the Workspace page."""

import time

import pytest

from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.browser import WAIT, app_process, choose, free_port, goto, idle, options_of
from tests.factories import POLICY_TEXT, make_golden

pytestmark = [pytest.mark.browser]

NO_SERVER = "http://127.0.0.1:9/v1"
"""Nothing answers here: no page in this test needs a model server."""
FOLLOW, COMPARED = "Follow run", "Runs (the first is A, the second B)"


def _completed_run(root) -> str:
    """A completed run of the "violence" policy on the "posts" set, stored now: the newest."""
    version = save_version(root, "violence", POLICY_TEXT)
    golden = make_golden(6, name="posts")
    with Store(root / ".cope_eval") as store:
        store.put_golden_set(golden)
        run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://h/v1", "m"))
        store.add_predictions(run.id, [(i, 0.9, 1, "1", None, 1.0, 0) for i in golden.items["id"]])
        store.mark_run(run.id, "completed")
    return run.id


def _rerun_until_it_offers(page, picker: str, run_id: str, timeout_s: float = 90) -> None:
    """Ask for a script run ("r") until ``picker`` offers ``run_id``: the page is drawn by the new app
    (the old one never stored that run), so what it shows is what a reconnecting tab gets."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.locator("body").press("r")
        page.wait_for_timeout(1000)
        try:
            idle(page)
            if page.get_by_role("combobox", name=picker, exact=True).count() and any(
                    run_id in option for option in options_of(page, picker)):
                return
        except Exception:  # still reconnecting, or the page is redrawing: try again
            pass
        assert time.monotonic() < deadline, f"the tab never showed the new app's runs; it shows {page.url}:\n" \
                                            f"{page.inner_text('body')[:2000]}"


def test_open_tabs_come_back_on_their_page_and_runs_after_a_restart(browser, tmp_path):
    workspace = tmp_path / "ws"
    older, middle, newest = (_completed_run(workspace) for _ in range(3))
    env = {"COPE_EVAL_HOME": str(workspace), "COPE_BASE_URL": NO_SERVER}
    port = free_port()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    evaluate, compare = context.new_page(), context.new_page()
    with app_process(env, port=port) as first:
        evaluate.goto(first.url)
        goto(evaluate, "Evaluate")
        choose(evaluate, FOLLOW, older)
        evaluate.wait_for_url(f"**/evaluate?run={older}", timeout=WAIT)
        compare.goto(f"{first.url}/compare?runs={older},{middle}")  # a copied link
        compare.get_by_role("heading", name="Compare").first.wait_for(timeout=WAIT)
        idle(compare)
        first.kill()

    after_restart = _completed_run(workspace)  # the newest now: a session without the address opens on it
    with app_process(env, port=port):
        _rerun_until_it_offers(evaluate, FOLLOW, after_restart)
        assert evaluate.url.endswith(f"/evaluate?run={older}")
        evaluate.get_by_text(f"{older} · completed · 6 / 6 items").wait_for(timeout=WAIT)

        _rerun_until_it_offers(compare, COMPARED, after_restart)
        assert "/compare?runs=" in compare.url
        chosen = compare.get_by_role("combobox", name=COMPARED, exact=True).locator(
            "xpath=ancestor::*[@data-testid='stMultiSelect']").inner_text()
        assert older in chosen and middle in chosen and after_restart not in chosen and newest not in chosen
    context.close()
