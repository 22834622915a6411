"""The Insight page's Suggested edits tab: a suggestion from a stub chat model shown as a diff with
its rationale and the exact prompt, a failure shown with why, another chat server, scoring on dev
in the background, drafts (never versions), and hostile model output kept as text.

The stub (``tests.test_suggest.suggesting``) scores by ``keyword_rule`` and answers a suggestion
request (a system turn) with a canned reply."""

from types import SimpleNamespace

import pytest

from cope_eval.insight import stored_suggestions, suggestion_score
from cope_eval.policies import read_draft, save_draft
from cope_eval.records import Endpoint
from cope_eval.store import Store
from pages import _insight_suggest, _state
from tests.apptest import messages, open_page, table, texts, until
from tests.stub_server import StubServer
from tests.test_suggest import (
    BETTER, GOOD_REPLY, MALFORMED_REPLY, POLICY, _assert_deltas_match_stored_runs, base_run, suggesting
)

TAB = {_state.INSIGHT_TAB: _insight_suggest.TITLE}
"""Only the open tab is drawn: open this one."""


HOSTILE = "<script>alert(1)</script> **bold** [link](http://evil.example) <img src=x onerror=alert(2)>"
HOSTILE_POLICY = POLICY.replace("- Cooking recipes shared online.", f"- Insults {HOSTILE}")
HOSTILE_REPLY = (f"=== BEGIN REVISED POLICY ===\n{HOSTILE_POLICY}=== END REVISED POLICY ===\n"
                 f"RATIONALE: Insults {HOSTILE} — {HOSTILE}\n")


def _server(stub):
    return SimpleNamespace(base_url=stub.base_url, model="stub", is_local=False)


def _open_with_run(workspace, monkeypatch, stub):
    with Store(workspace.private_dir) as store:
        run = base_run(store, workspace, Endpoint(stub.base_url, "stub"))
    return run, open_page("insight", monkeypatch, tabs=TAB, server=_server(stub))


def _ask(at):
    at.button(key=_state.SUGGEST_ASK).click().run()
    assert not at.exception, at.exception
    return at


def _html(at) -> str:
    return "\n".join(e.proto.body for e in at.main if e.type == "html")


def _only_suggestion(workspace, run):
    with Store(workspace.private_dir) as store:
        [s] = stored_suggestions(store, run.id)
    return s


def test_no_completed_run_says_so(workspace, monkeypatch):
    at = open_page("insight", monkeypatch, tabs=TAB)
    assert not at.exception
    assert "then ask for an edit here" in texts(at)


def test_a_suggestion_shows_its_diff_rationale_and_the_exact_prompt(workspace, monkeypatch):
    with StubServer(suggesting([GOOD_REPLY])) as stub:
        run, at = _open_with_run(workspace, monkeypatch, stub)
        assert f"stub at {stub.base_url} (this session's scoring server) will answer" in texts(at)
        assert "No suggestion for this run yet" in texts(at)
        _ask(at)
    s = _only_suggestion(workspace, run)
    assert s.status == "suggested" and s.text == BETTER
    shown = texts(at)
    assert f"**{s.id}** · Suggested by stub-chat" in shown
    assert "- **Insults aimed at someone**: insults were missed" in shown
    assert "- **Cooking recipes shared online**: cooking is harmless, so it flagged safe items" in shown
    html = _html(at)
    assert "Insults" in html and "Cooking" in html and "(the run&#x27;s)" in html
    codes = [c.value for c in at.code]
    # st.code trims the blank lines around a block; every other character is the message's.
    assert [m["content"].strip() for m in s.messages] == codes[:len(s.messages)], "the exact messages, as code"
    assert codes[len(s.messages)] == GOOD_REPLY.strip(), "then the reply as received"
    assert not messages(at, "error")


def test_a_failed_reply_from_another_server_shows_its_problem(workspace, monkeypatch):
    with StubServer(suggesting([GOOD_REPLY])) as stub, StubServer(suggesting([MALFORMED_REPLY])) as other:
        run, at = _open_with_run(workspace, monkeypatch, stub)
        at.toggle(key=_state.SUGGEST_OTHER).set_value(True).run()
        at.text_input(key=_state.SUGGEST_URL).set_value(other.base_url)
        at.text_input(key=_state.SUGGEST_MODEL).set_value("other-model").run()
        assert f"other-model at {other.base_url} will answer." in texts(at)
        _ask(at)
        chat = [p for p, _, _ in stub.requests if p.endswith("/chat/completions")]
    s = _only_suggestion(workspace, run)
    assert s.status == "failed" and s.base_url == other.base_url and s.model == "other-model"
    assert len(chat) == len(run_items(workspace, run)), "the session's server got only the base run's scoring"
    assert "Failed: no revised policy could be read from the reply of stub-chat" in texts(at)
    assert any("no line '=== BEGIN REVISED POLICY ==='" in e for e in messages(at, "error"))
    assert at.code[-1].value == MALFORMED_REPLY.strip()
    assert not [b for b in at.button if b.key and b.key.startswith(_state.SUGGEST_SAVE)], "nothing to save"


def run_items(workspace, run):
    with Store(workspace.private_dir) as store:
        return store.predictions(run.id)


def test_save_as_draft_keeps_an_analysts_draft_until_replace_is_ticked(workspace, monkeypatch):
    with StubServer(suggesting([GOOD_REPLY])) as stub:
        run, at = _open_with_run(workspace, monkeypatch, stub)
        _ask(at)
    s = _only_suggestion(workspace, run)
    folder = workspace.root / "policies" / "hostility"
    files = sorted(p.name for p in folder.iterdir())
    analyst = save_draft(workspace.root, "hostility", POLICY + "- My own line.\n", parent=run.policy_version_id)

    at.button(key=f"{_state.SUGGEST_SAVE}:{s.id}").click().run()
    [error] = messages(at, "error")
    assert "already has an unsaved draft" in error and "tick “Replace my draft”" in error
    assert read_draft(workspace.root, "hostility") == analyst, "the analyst's draft is untouched"

    at.checkbox(key=f"{_state.SUGGEST_REPLACE}:{s.id}").check().run()
    at.button(key=f"{_state.SUGGEST_SAVE}:{s.id}").click().run()
    assert not at.exception and not messages(at, "error")
    assert "open it on the Policies page" in "\n".join(messages(at, "success"))
    assert read_draft(workspace.root, "hostility").text == BETTER
    assert sorted(p.name for p in folder.iterdir()) == files, "no version file was written"


def test_without_a_draft_save_writes_one(workspace, monkeypatch):
    with StubServer(suggesting([GOOD_REPLY])) as stub:
        run, at = _open_with_run(workspace, monkeypatch, stub)
        _ask(at)
    s = _only_suggestion(workspace, run)
    at.button(key=f"{_state.SUGGEST_SAVE}:{s.id}").click().run()
    draft = read_draft(workspace.root, "hostility")
    assert draft.text == BETTER and draft.parent == run.policy_version_id


def test_score_on_dev_in_the_background_shows_deltas_and_changed_items(workspace, monkeypatch):
    with StubServer(suggesting([GOOD_REPLY])) as stub:
        run, at = _open_with_run(workspace, monkeypatch, stub)
        _ask(at)
        s = _only_suggestion(workspace, run)
        at.button(key=f"{_state.SUGGEST_SCORE}:{s.id}").click().run()
        assert not at.exception
        at = until(at, lambda at: len(at.table) > 0, timeout_s=60)
    with Store(workspace.private_dir) as store:
        score = suggestion_score(store, s.id)
        _assert_deltas_match_stored_runs(store, run, score)
    [deltas] = [t.value for t in at.table]
    for m in ("precision", "recall", "f1"):
        assert deltas.loc[m, "Δ"] == pytest.approx(score.comparison.deltas[m].estimate)
        assert deltas.loc[m, "low"] == pytest.approx(score.comparison.deltas[m].low)
    changed = table(at, "outcome")
    assert set(changed["item_id"]) == set(score.changed["item_id"]) and set(changed["outcome"]) == {"fixed"}
    assert changed["text"].str.startswith(("insults", "cooking")).all()
    assert f"fixes {score.fixed}, breaks 0" in texts(at) and "On dev: " in texts(at)
    assert not [b for b in at.button if b.key == f"{_state.SUGGEST_SCORE}:{s.id}"], "scored once"


def test_hostile_model_output_stays_text(workspace, monkeypatch):
    with StubServer(suggesting([HOSTILE_REPLY])) as stub:
        run, at = _open_with_run(workspace, monkeypatch, stub)
        _ask(at)
    s = _only_suggestion(workspace, run)
    assert s.status == "suggested" and HOSTILE in s.text and HOSTILE in s.rationales[0].why
    html = _html(at)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html and "<img" not in html
    markdown = "\n".join(str(m.value) for m in at.main.markdown)
    assert "<script>" not in markdown and "[link](" not in markdown and "**bold**" not in markdown
    assert f"- **Insults {HOSTILE}**: {HOSTILE}" in texts(at), "shown literally once escapes are read"
    assert at.code[-1].value == HOSTILE_REPLY.strip()


def test_the_sessions_key_goes_to_its_own_server_only():
    from cope_eval.app import ChatChoice, chat_endpoint

    session = Endpoint("http://127.0.0.1:1/v1", "m", "session-secret")
    assert chat_endpoint(session, ChatChoice()) == session
    other = chat_endpoint(session, ChatChoice(True, "http://127.0.0.1:2/v1", "x"))
    assert (other.base_url, other.model, other.api_key) == ("http://127.0.0.1:2/v1", "x", None)
    assert chat_endpoint(session, ChatChoice(True, "http://127.0.0.1:2/v1", "x", "typed")).api_key == "typed"
    assert chat_endpoint(session, ChatChoice(True, "http://127.0.0.1:1/v1", "y")).api_key == "session-secret"
