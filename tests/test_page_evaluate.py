"""The Evaluate page: start runs on the real local vLLM, follow them, resume, check one item."""

import io
import json
import re
import time
from types import SimpleNamespace

import pytest
from PIL import Image

from cope_eval.insight._studies import Variant, create_study
from cope_eval.policies import save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _state
from tests.apptest import messages, open_page, table, texts, until
from tests.factories import make_golden
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer, instant

POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence against a person.\n"


def _populate(workspace, n_items=6):
    v1 = save_version(workspace.root, "violence", POLICY, note="v1")
    v2 = save_version(workspace.root, "violence", POLICY + "- Wishing harm on someone.\n", note="v2")
    golden = make_golden(n_items, texts=["I will hurt you.", "Nice weather today."] * (n_items // 2))
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
    return v1, v2, golden


def _status(at) -> str:
    return "\n".join(p.proto.text for p in at.get("progress"))


def test_empty_workspace_says_what_is_missing(workspace, monkeypatch):
    at = open_page("evaluate", monkeypatch)

    assert not at.exception
    assert "No policies yet" in texts(at)


def test_populated_workspace_without_a_server_renders(workspace, monkeypatch):
    _populate(workspace)
    at = open_page("evaluate", monkeypatch)

    assert not at.exception
    assert "No healthy model server" in texts(at)
    assert at.button(key=_state.EVAL_START).disabled
    assert at.number_input(key=_state.EVAL_CONCURRENCY).value is None, "empty: adaptive, right for a GPU server"
    assert "No runs yet" in texts(at)


def test_a_study_item_subset_is_neither_the_default_golden_set_nor_offered(workspace, monkeypatch):
    v1, _, golden = _populate(workspace)
    with Store(workspace.private_dir) as store:
        base = create_run(store, policy=v1, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
        study = create_study(store, kind="probes", base_run=base, item_ids=golden.items["id"][:2],
                             variants=[Variant("inverted", "inverted", "# x\n")])
        part = store.run(study.runs[0].run_id).golden_hash
    at = open_page("evaluate", monkeypatch)

    assert not at.exception
    menu = at.selectbox(key=_state.EVAL_GOLDEN)
    assert menu.value == golden.hash, "the analyst's set stays the default"
    assert part != golden.hash and len(menu.options) == 1 and "probes items" not in menu.options[0]


def test_an_interrupted_run_is_listed_and_resume_goes_to_its_own_server(workspace, monkeypatch):
    v1, _, golden = _populate(workspace)
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=v1, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
        store.mark_run(run.id, "running", pid=999_999_999)  # a runner that is gone
    at = open_page("evaluate", monkeypatch)

    assert "interrupted · 0 / 6 items · 0 errors" in _status(at)
    assert table(at, "run")["status"].tolist() == ["interrupted"]
    at.button(key=_state.EVAL_RESUME).click().run()
    assert not at.exception  # it tries again, against http://127.0.0.1:9/v1 (not this session's server)
    at = until(at, lambda at: "interrupted" in _status(at) and "unreachable" in texts(at), timeout_s=60)


@pytest.mark.model
def test_start_two_runs_and_see_them_complete(workspace, monkeypatch, model_server):
    v1, v2, golden = _populate(workspace)
    at = open_page("evaluate", monkeypatch, server=model_server)
    assert not at.exception
    at.multiselect(key=_state.EVAL_VERSIONS).set_value([v2.id, v1.id])
    at.number_input(key=_state.EVAL_CONCURRENCY).set_value(4)
    at.button(key=_state.EVAL_START).click().run()
    assert not at.exception

    at = until(at, lambda at: set(table(at, "run")["status"]) == {"completed"}, timeout_s=120)

    runs = table(at, "run")
    assert len(runs) == 2 and runs["done"].tolist() == [6, 6] and runs["errors"].tolist() == [0, 0]
    assert "completed · 6 / 6 items · 0 errors" in _status(at)
    with Store(workspace.private_dir) as store:
        assert {r.policy_version_id for r in store.runs()} == {v1.id, v2.id}
        assert all(r.golden_hash == golden.hash and r.concurrency == 4 for r in store.runs())


@pytest.mark.model
def test_check_one_item_with_text_and_an_image(workspace, monkeypatch, model_server):
    _populate(workspace)
    at = open_page("evaluate", monkeypatch, server=model_server)
    at.text_area(key=_state.CHECK_TEXT).input("I will hurt you.")
    at.button(key=_state.CHECK_BUTTON).click().run()

    assert not at.exception
    [metric] = at.metric
    assert metric.label == 'P("1")' and 0.0 <= float(metric.value) <= 1.0

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    at.file_uploader(key=_state.CHECK_UPLOAD).set_value(("red.png", buffer.getvalue(), "image/png"))
    at.button(key=_state.CHECK_BUTTON).click().run()
    # SmolLM2 is text-only: vLLM refuses the image, and the page says so in one message.
    assert not at.exception
    assert len(at.metric) == 1 or len(messages(at, "error")) == 1


def test_check_with_nothing_to_check_is_one_error(workspace, monkeypatch):
    _populate(workspace)
    monkeypatch.setattr("pages._sidebar.session_endpoint", lambda: Endpoint("http://127.0.0.1:9/v1", "m"))
    at = open_page("evaluate", monkeypatch)
    at.button(key=_state.CHECK_BUTTON).click().run()

    assert not at.exception
    assert messages(at, "error") == ["Give some text, an image or a video to check."]


def _slow_server(delay_s: float) -> StubServer:
    """A stub model server that takes ``delay_s`` over each answer."""
    def slow(path, body):
        return Reply(body=FIXED_CHAT_REPLY, delay_s=delay_s) if "chat" in path else instant(path, body)

    return StubServer(slow)


def _start_one_run(server, monkeypatch):
    """Evaluate on ``server``, after Start at concurrency 1 (one request at a time)."""
    at = open_page("evaluate", monkeypatch, server=SimpleNamespace(base_url=server.base_url, model="stub",
                                                                    is_local=False))
    at.number_input(key=_state.EVAL_CONCURRENCY).set_value(1)
    return at.button(key=_state.EVAL_START).click().run()


def test_cancel_then_resume_a_run_from_the_page(workspace, monkeypatch):
    _populate(workspace, n_items=40)

    with _slow_server(0.1) as server:
        at = _start_one_run(server, monkeypatch)
        assert "running" in _status(at) and "ETA" in _status(at)
        at = until(at, lambda at: int(re.search(r"(\d+) / 40 items", _status(at)).group(1)) >= 3, timeout_s=30)
        at.button(key=_state.EVAL_CANCEL).click().run()
        at = until(at, lambda at: "cancelled" in _status(at), timeout_s=30)
        with Store(workspace.private_dir) as store:
            [run] = store.runs()
            assert 0 < store.prediction_counts(run.id)[0] < 40

        at.button(key=_state.EVAL_RESUME).click().run()
        at = until(at, lambda at: "completed · 40 / 40 items" in _status(at), timeout_s=60)
    chat = [body for path, _, body in server.requests if path.endswith("/chat/completions")]
    with Store(workspace.private_dir) as store:
        stored, errors, cached = store.prediction_counts(run.id)
    assert (stored, errors) == (40, 0)
    assert len(chat) + cached == 40, "each item is sent at most once; a resume sends only what is left"


def _browsed(at) -> int:
    """How many scored items the predictions browser holds (its Outcome menu counts each outcome:
    'TP (3)', 'not scored (37)'); 0 when it is not shown."""
    menus = [s for s in at.selectbox if s.key == _state.PREDICTIONS_OUTCOME]
    counts = [re.fullmatch(r"(.+) \(([\d,]+)\)", o) for o in (menus[0].options if menus else [])]
    return sum(int(c.group(2).replace(",", "")) for c in counts if c and c.group(1) != "not scored")


def test_while_the_followed_run_scores_the_browser_keeps_its_snapshot_until_asked_or_the_run_stops(
        workspace, monkeypatch):
    """Drawing the browser again for each new answer rebuilt the run's rows every poll (0.07 s a
    second for 1,000 items, a full rebuild a second at a million); its snapshot is rebuilt only
    when the analyst asks, and the run's end draws the final one."""
    _populate(workspace, n_items=40)

    with _slow_server(0.4) as server:
        at = _start_one_run(server, monkeypatch)
        at = until(at, lambda at: _browsed(at) >= 1, timeout_s=30)
        first = _browsed(at)
        assert "drawn again when the run stops" in texts(at)
        with Store(workspace.private_dir) as store:
            [run] = store.runs()
            deadline = time.monotonic() + 30
            while store.prediction_counts(run.id)[0] < first + 3:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        at.number_input(key=_state.PREDICTIONS_THRESHOLD).set_value(0.25).run()
        assert "running" in _status(at) and _browsed(at) == first, "a rerun keeps the snapshot"

        at.button(key=_state.EVAL_RETAKE).click().run()
        assert _browsed(at) >= first + 3, "asked: the predictions stored now"
        at = until(at, lambda at: "completed · 40 / 40 items" in _status(at), timeout_s=60)
        assert _browsed(at) == 40 and "drawn again when the run stops" not in texts(at)


def test_a_run_keeps_going_after_its_session_is_gone(workspace, monkeypatch):
    _populate(workspace, n_items=10)

    with _slow_server(0.05) as server:
        at = _start_one_run(server, monkeypatch)
        assert "running" in _status(at)
        del at  # the tab is closed: no session polls or reruns the page any more
        deadline = time.monotonic() + 30
        with Store(workspace.private_dir) as store:
            while store.runs()[0].status != "completed":
                assert time.monotonic() < deadline, "the run stopped with its session"
                time.sleep(0.2)
            assert store.prediction_counts(store.runs()[0].id)[0] == 10


def test_a_runs_errors_are_grouped_by_reason_with_their_items_and_server_text_stays_text(workspace,
                                                                                         monkeypatch):
    from cope_eval.scoring import RetryPolicy, execute_run
    from tests.stub_server import chat_reply
    from tests.test_export import content_of

    v1 = save_version(workspace.root, "violence", POLICY)
    golden = make_golden(texts=[f"post {i}" for i in range(6)])
    hostile = "[click me](http://evil.example) **bold** :red[alarm]"

    def behaviour(path, body):
        if "completions" not in path:
            return instant(path, body)
        i = int(content_of(body).split()[-1])
        if i < 3:
            return Reply(status=500, body=json.dumps({"error": {"message": f"{hostile} {i}"}}).encode())
        if i < 5:
            return Reply(body=chat_reply("yes", {"yes": -0.1, "no": -2.0}))
        return Reply(body=chat_reply())

    with StubServer(behaviour) as server, Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=v1, golden=golden, endpoint=endpoint)
        execute_run(store, run.id, endpoint, workspace_root=workspace.root,
                    retry=RetryPolicy(attempts=1, base_delay_s=0.01, max_delay_s=0.02, timeout_s=5.0))
    at = open_page("evaluate", monkeypatch)

    assert not at.exception
    assert "completed · 6 / 6 items · 5 errors" in _status(at)
    reasons = table(at, "reason")
    assert reasons.to_dict(orient="records") == [
        {"reason": "HTTP 500", "items": 3},
        {"reason": 'neither "0" nor "1" among the top tokens; not a classification', "items": 2}]
    [expander] = [e for e in at.main.expander if "with an error" in e.label]
    assert expander.label == "The 5 items with an error and their full messages"
    items = table(at, "message")
    assert items["item"].tolist() == golden.items["id"].tolist()[:5]
    assert items["message"].iloc[0] == f"HTTP 500: {hostile} 0 (gave up after 1 tries)"
    raw = [str(e.value) for kind in ("markdown", "caption", "text", "error") for e in getattr(at, kind)]
    assert not any("[click me](http" in value for value in raw), "server text is never rendered as Markdown"


@pytest.fixture
def scored(workspace):
    """A completed run of 6 items, gold 0, 1, 0, 1, 0, 1: at 0.5 FP, TP, TN, FN, error, TP."""
    v1 = save_version(workspace.root, "violence", POLICY)
    golden = make_golden(texts=["=cmd|' /C calc'!A0", "I will hurt you", "calm", "you will see", "boom", "run"],
                         categories=["spam", "threat", None, "threat", "spam", "threat"])
    error = "HTTP 500: <html>oops</html> (gave up after 3 tries)"
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
        run = create_run(store, policy=v1, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
        scores = [0.9, 0.8, 0.2, 0.3, None, 0.6]
        store.add_predictions(run.id, [(i, s, None, "", None if s is not None else error, 1.0, 0)
                                       for i, s in zip(golden.items["id"], scores)])
        store.mark_run(run.id, "completed")
    return run


def _predictions(at):
    return table(at, "outcome")


def test_the_predictions_browser_filters_by_outcome_at_compares_threshold(scored, monkeypatch):
    at = open_page("evaluate", monkeypatch)

    assert not at.exception
    rows = _predictions(at)
    assert rows["outcome"].tolist() == ["FP", "TP", "TP", "FN", "TN", "error"], "score, highest first; errors last"
    assert rows.set_index("item_id").loc["item-00004", "error"] == "HTTP 500"
    assert "6 of 6 items at threshold 0.5000" in texts(at)
    [grid] = [d for d in at.dataframe if "outcome" in d.value.columns]
    assert grid.proto.HasField("placeholder") and grid.proto.placeholder == "", "an error's score: blank, never None"

    at.selectbox(key=_state.PREDICTIONS_OUTCOME).set_value("FP").run()
    assert _predictions(at)["item_id"].tolist() == ["item-00000"] and "1 of 6 items" in texts(at)
    [download] = at.get("download_button")
    assert download.proto.label == "Download these 1 rows (.csv)"

    at.selectbox(key=_state.PREDICTIONS_OUTCOME).set_value(_state.ALL)
    at.selectbox(key=_state.PREDICTIONS_CATEGORY).set_value("threat")
    at.text_input(key=_state.PREDICTIONS_SEARCH).input("HURT").run()
    assert not at.exception and _predictions(at)["item_id"].tolist() == ["item-00001"]


def test_the_browser_takes_compares_threshold_until_one_is_typed_here(scored, monkeypatch):
    at = open_page("evaluate", monkeypatch)
    at.session_state[_state.COMPARE_CHOICE] = {"value": 0.85, "rule": "max_f1", "target": None, "run_id": scored.id}
    at.run()

    assert at.number_input(key=_state.PREDICTIONS_THRESHOLD).value == 0.85
    assert _predictions(at)["outcome"].value_counts().to_dict() == {"FN": 3, "TN": 1, "FP": 1, "error": 1}

    at.number_input(key=_state.PREDICTIONS_THRESHOLD).set_value(0.25).run()
    assert not at.exception and "at threshold 0.2500" in texts(at)
    assert at.session_state[_state.COMPARE_CHOICE]["value"] == 0.85, "typing here leaves Compare's threshold"
    at.run()
    assert at.number_input(key=_state.PREDICTIONS_THRESHOLD).value == 0.25, "a typed threshold stays"

    at.session_state[_state.COMPARE_CHOICE] = {"value": 0.7, "rule": None, "target": None, "run_id": None}
    at.run()
    assert at.number_input(key=_state.PREDICTIONS_THRESHOLD).value == 0.7, "Compare picked again: follow it"


def test_errors_are_counted_by_reason_and_read_again_only_when_the_predictions_change(workspace, monkeypatch):
    v1, _, golden = _populate(workspace)
    ids = golden.items["id"].tolist()
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=v1, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
        store.add_predictions(run.id, [(i, 0.9, None, "1", None, 1.0, 0) for i in ids[:3]]
                              + [(i, None, None, "", f"HTTP 500: upstream {n} failed", 1.0, 0)
                                 for n, i in enumerate(ids[3:5])]
                              + [(ids[5], None, None, "", "HTTP 429: slow down", 1.0, 0)])
        store.mark_run(run.id, "completed")
    reads = []
    original = Store.prediction_errors
    monkeypatch.setattr(Store, "prediction_errors",
                        lambda self, run_id: reads.append(run_id) or original(self, run_id))
    at = open_page("evaluate", monkeypatch)

    assert not at.exception
    reasons = table(at, "reason")
    assert reasons.to_dict("records") == [{"reason": "HTTP 500", "items": 2}, {"reason": "HTTP 429", "items": 1}]
    first = len(reads)
    assert first >= 1  # the errors were read (where the spy listens)
    at.run()  # what the page's one-second poll does: nothing written, so the errors come from the cache
    assert len(reads) == first

    with Store(workspace.private_dir) as store:  # a resend whose three items fail again, for other reasons
        assert store.delete_errors(run.id) == 3
        store.add_predictions(run.id, [(i, None, None, "", "timeout after 60 s", 1.0, 0) for i in ids[3:6]])
    at.run()
    assert table(at, "reason").to_dict("records") == [{"reason": "timeout after 60 s", "items": 3}]


def test_the_predictions_download_holds_the_caches_keys_not_the_runs_frames(scored, monkeypatch):
    """Streamlit keeps a download's callable until the session's next run: one holding the run's
    frames would keep a million rows alive in every idle session after the pages' cache dropped them."""
    import csv

    import pandas as pd
    import streamlit as st

    given = []
    real = st.download_button
    monkeypatch.setattr(st, "download_button", lambda label, data, **kwargs: given.append(data) or real(label, data, **kwargs))
    at = open_page("evaluate", monkeypatch)
    at.selectbox(key=_state.PREDICTIONS_OUTCOME).set_value("TP").run()
    assert not at.exception
    held = [value for arg in given[-1].args for value in (arg if isinstance(arg, tuple) else (arg,))]
    assert not any(isinstance(value, pd.DataFrame) for value in held)
    rows = list(csv.DictReader(io.StringIO(given[-1]().decode("utf-8"))))
    assert sorted(row["text"] for row in rows) == ["I will hurt you", "run"]  # the two TPs the page lists


def test_the_predictions_csv_is_built_when_clicked_not_on_every_rerun(scored, monkeypatch):
    """A million rows' CSV is about 150 MB: building it on every rerun would hold it in the app for nothing."""
    from pages import _predictions

    built = []
    monkeypatch.setattr(_predictions, "predictions_csv", lambda rows: built.append(len(rows)) or b"")
    at = open_page("evaluate", monkeypatch)
    at.selectbox(key=_state.PREDICTIONS_OUTCOME).set_value("TP").run()
    [download] = at.get("download_button")
    assert not at.exception and download.proto.label == "Download these 2 rows (.csv)"
    assert built == []
