"""Template bytes are pinned to ../shared/docs/protocol.md, character for character; what each
template declares it can do (``Template``'s capabilities) is checked against what it does."""

import ast
import json
from pathlib import Path

import pandas as pd
import pytest

from cope_eval.cli import main
from cope_eval.cli._options import key_for_run
from cope_eval.errors import ConfigError
from cope_eval.records import Endpoint, Run
from cope_eval.scoring import (
    ANSWER_MODES, TEMPLATES, build_body, cope_prompt, create_run, execute_run, get_template
)
from cope_eval.scoring._answers import AnswerError, read_answer
from cope_eval.scoring._budget import Tokenizer, plan
from cope_eval.scoring._templates import cope_a_prompt
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import Reply, StubServer, chat_reply

# Copied from protocol.md: two blank lines before each section header, one after the rule.
COPE_B_EXPECTED = (
    'Examine the given POLICY and determine if the given CONTENT meets the criteria for ANY of the LABELS. '
    'Answer "1" if yes, and "0" if no.\n'
    "\n"
    "\n"
    "POLICY\n"
    "======\n"
    "\n"
    "Hate speech is...\n"
    "\n"
    "\n"
    "CONTENT\n"
    "=======\n"
    "\n"
    "some post"
)


def test_cope_b_prompt_bytes():
    assert cope_prompt("Hate speech is...", "some post") == COPE_B_EXPECTED


def test_cope_a_prompt_adds_instructions_header_and_answer_footer():
    prompt = cope_a_prompt("Hate speech is...", "some post")
    assert prompt == "INSTRUCTIONS\n============\n\n" + COPE_B_EXPECTED + "\n\n\nANSWER\n======\n\n"


def test_braces_and_placeholders_in_user_text_are_kept_verbatim():
    assert cope_prompt("{content} {0}", "{policy}").endswith("{0}\n\n\nCONTENT\n=======\n\n{policy}")


def test_cope_b_body_is_one_user_turn_asking_for_one_token_with_logprobs():
    body = build_body(get_template("cope-b"), model="m", policy="P", text="C")
    assert body == {
        "model": "m", "messages": [{"role": "user", "content": cope_prompt("P", "C")}],
        "max_tokens": 1, "temperature": 0, "logprobs": True, "top_logprobs": 20,
    }


def test_cope_b_image_goes_in_the_same_turn_with_placeholder_in_content():
    body = build_body(get_template("cope-b"), model="m", policy="P", text="", image_url="data:image/png;base64,AAA")
    (message,) = body["messages"]
    assert message["content"] == [
        {"type": "text", "text": cope_prompt("P", "[image]")},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}},
    ]


def test_text_and_image_both_present():
    body = build_body(get_template("cope-b"), model="m", policy="P", text="caption", image_url="data:x")
    assert body["messages"][0]["content"][0]["text"].endswith("CONTENT\n=======\n\ncaption\n\n[image]")


def test_cope_a_uses_raw_completions_prompt():
    template = get_template("cope-a")
    body = build_body(template, model="m", policy="P", text="C")
    assert template.endpoint == "/completions"
    assert body == {"model": "m", "prompt": cope_a_prompt("P", "C"), "max_tokens": 1, "temperature": 0, "logprobs": 20}
    with pytest.raises(ConfigError, match="text-only"):
        build_body(template, model="m", policy="P", text="", image_url="data:x")


def test_safeguard_puts_policy_in_system_message_with_a_large_budget():
    template = get_template("safeguard")
    body = build_body(template, model="gpt-oss-safeguard-20b", policy="P", text="C")
    assert body["messages"] == [{"role": "system", "content": "P"}, {"role": "user", "content": "C"}]
    assert body["max_tokens"] >= 2048 and "logprobs" not in body
    assert template.has_probability is False


def test_chat_label_asks_a_generic_llm_for_zero_or_one():
    body = build_body(get_template("chat-label"), model="m", policy="P", text="C")
    system, user = body["messages"]
    assert system["role"] == "system" and '"1"' in system["content"] and '"0"' in system["content"]
    assert user == {"role": "user", "content": cope_prompt("P", "C")}
    assert body["logprobs"] is True


@pytest.mark.parametrize("name", [name for name, t in TEMPLATES.items() if "constrained" in t.answer_modes])
def test_constrained_mode_uses_structured_outputs_never_guided_choice(name):
    body = build_body(get_template(name), model="m", policy="P", text="C", answer_mode="constrained")
    assert body["structured_outputs"] == {"choice": ["0", "1"]}
    assert "guided_choice" not in json.dumps(body)


def test_unknown_template_and_answer_mode_are_clear_errors():
    with pytest.raises(ConfigError, match="choose one of cope-b, cope-a, safeguard, chat-label"):
        get_template("cope-c")
    with pytest.raises(ConfigError, match="answer mode 'guided'"):
        build_body(get_template("cope-b"), model="m", policy="P", text="C", answer_mode="guided")


# -- declared capabilities, checked against behaviour -----------------------------------------

ROOT = Path(__file__).resolve().parent.parent
TOKENS = 60
"""What the stub's /tokenize answers for any prompt."""
SERVICE_KEYS = [t.key_env_var for t in TEMPLATES.values() if t.key_env_var is not None]


def _completion_reply(text="1", top=None) -> bytes:
    """A vLLM-shaped legacy completion (``/completions``), with top logprobs unless ``top`` is {}."""
    top = {"1": -0.1, "0": -2.4} if top is None else top
    choice = {"index": 0, "text": text, "finish_reason": "length"}
    if top:
        choice["logprobs"] = {"tokens": [text], "token_logprobs": [top.get(text, -9.0)],
                              "top_logprobs": [top]}
    return json.dumps({"object": "text_completion", "choices": [choice]}).encode()


def _any_server(path: str, body: bytes) -> Reply:
    """Answers every protocol a template may speak, slowly enough for requests to overlap."""
    if path.endswith("/models"):
        model = {"id": "stub", "max_model_len": TOKENS + 4, "root": "/w"}
        return Reply(body=json.dumps({"data": [model]}).encode())
    if path == "/tokenize":
        return Reply(body=json.dumps({"count": TOKENS}).encode())
    if path.endswith("/label"):
        return Reply(body=json.dumps({"label": "1", "confidence": 0.94}).encode(), delay_s=0.02)
    if path.endswith("/chat/completions"):
        return Reply(body=chat_reply(), delay_s=0.02)
    return Reply(body=_completion_reply(), delay_s=0.02)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_a_run_does_what_its_template_declares(workspace, name):
    """Every item is sent to ``endpoint``; /tokenize only when ``counts_tokens``; /v1/models only
    when ``describes_model``; never more in flight than ``max_concurrency``; a probability only
    when ``has_probability``."""
    template = get_template(name)
    with StubServer(_any_server) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub", api_key="sk-test")
        run = create_run(store, policy=make_policy(), golden=make_golden(40), endpoint=endpoint,
                         template=name, concurrency=32)
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root)
        scores = store.predictions(run.id)["score"]
    paths = [path for path, _, _ in server.requests]
    assert result.run.status == "completed" and result.progress.errors == 0
    assert paths.count("/v1" + template.endpoint) == 40
    assert ("/tokenize" in paths) is template.counts_tokens
    assert ("/v1/models" in paths) is template.describes_model
    assert (result.run.checkpoint == "/w") is template.describes_model
    cap = template.max_concurrency
    assert run.concurrency == (32 if cap is None else min(32, cap))
    assert server.max_in_flight <= (32 if cap is None else cap)
    assert bool(scores.isin([0.0, 1.0]).all()) is (not template.has_probability)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_the_tokenizer_never_asks_a_server_that_cannot_count(name):
    template = get_template(name)
    with StubServer(_any_server) as server:
        counts = Tokenizer(Endpoint(server.base_url, "stub", "sk-test"), template, "P").count_all(["a", "b"])
    expected = [TOKENS, TOKENS] if template.protocol == "openai" else [None, None]
    assert counts == (expected if template.counts_tokens else [None, None])
    assert (len(server.requests) > 0) is template.counts_tokens


@pytest.mark.parametrize("name", [name for name, t in TEMPLATES.items() if t.counts_tokens])
def test_the_budget_leaves_room_for_the_declared_answer_tokens(name):
    template = get_template(name)
    items = make_golden(texts=["x" * 200]).items
    with StubServer(_any_server) as server:
        endpoint = Endpoint(server.base_url, "stub")
        fits = plan(endpoint, template, "P", items, max_len=TOKENS + template.answer_tokens)
        too_long = plan(endpoint, template, "P", items, max_len=TOKENS + template.answer_tokens - 1)
    assert fits.refused == {} and list(too_long.refused) == ["item-00000"]


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_bodies_follow_the_declared_protocol_modalities_and_answer_modes(name):
    template = get_template(name)
    assert (template.protocol == "label") is (template.endpoint == "/label")
    body = build_body(template, model="m", policy="P", text="C")
    assert body["model"] == "m"
    if template.protocol == "label":
        assert body["criteria_text"] == "P" and body["content_text"] == "C"
    else:
        assert ("prompt" in body) is (template.endpoint == "/completions")
        assert ("messages" in body) is (template.endpoint == "/chat/completions")
    for mode in ANSWER_MODES:
        if mode in template.answer_modes:
            build_body(template, model="m", policy="P", text="C", answer_mode=mode)
        else:
            with pytest.raises(ConfigError, match=f"no {mode} mode"):
                build_body(template, model="m", policy="P", text="C", answer_mode=mode)
    if "image" in template.modalities:
        assert "data:image/png;base64,AA" in json.dumps(build_body(template, model="m", policy="P", text="",
                                                                   image_url="data:image/png;base64,AA"))
    else:
        with pytest.raises(ConfigError, match="text-only"):
            build_body(template, model="m", policy="P", text="", image_url="data:image/png;base64,AA")


@pytest.mark.parametrize("name", [name for name, t in TEMPLATES.items() if t.protocol == "openai"])
def test_a_reply_without_logprobs_is_a_label_only_where_declared(name):
    template = get_template(name)
    if template.endpoint == "/completions":
        reply = json.loads(_completion_reply(top={}))
    else:
        reply = {"choices": [{"message": {"role": "assistant", "content": "1"}}]}
    if template.logprobs_optional or not template.has_probability:
        assert read_answer(template, reply).hard_label == 1
    else:
        with pytest.raises(AnswerError, match="no logprobs"):
            read_answer(template, reply)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_a_stored_run_gets_its_templates_declared_key(monkeypatch, name):
    template = get_template(name)
    for variable in ("COPE_BASE_URL", "COPE_API_KEY", *SERVICE_KEYS):
        monkeypatch.setenv(variable, f"key-of-{variable}")
    monkeypatch.delenv("COPE_BASE_URL")
    run = Run("run-1", "sha256:p", "sha256:g", "http://gpu:8000/v1", "m", name, "logprobs", 0.5, 4, "pending",
              3)
    assert key_for_run(run) == f"key-of-{template.key_env_var or 'COPE_API_KEY'}"


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_cli_run_takes_the_declared_default_server_and_key(monkeypatch, capsys, tmp_path, name):
    """No --base-url and no COPE_BASE_URL: a template with a default server goes on to ask for
    its key (unset here, so nothing is sent); any other needs a server named."""
    template = get_template(name)
    for variable in ("COPE_BASE_URL", "COPE_API_KEY", *SERVICE_KEYS):
        monkeypatch.delenv(variable, raising=False)
    assert main(["run", "--golden", str(tmp_path / "g.csv"), "--policy", str(tmp_path / "p.md"),
                 "--template", name]) == 2
    error = capsys.readouterr().err
    if template.default_base_url is None:
        assert "pass --base-url or set COPE_BASE_URL" in error
    else:
        assert f"--api-key-env {template.key_env_var}: that environment variable is not set" in error


def _template_name_tests(source: str) -> list[str]:
    """Comparisons of anything to a template's name, written as a literal (``x == "zentropi"``,
    ``x in ("cope-a", "cope-b")``): what a template can do is asked of the template instead."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                literals = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                if any(isinstance(e, ast.Constant) and e.value in TEMPLATES for e in literals):
                    found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_name_guard_finds_a_name_test():
    found = _template_name_tests('if run.template == "zentropi":\n    pass\n')
    assert found == ["line 1: run.template == 'zentropi'"]
    assert _template_name_tests('ok = name not in ("x", "cope-a")') == ["line 1: name not in ('x', 'cope-a')"]


def test_no_code_outside_the_templates_module_tests_a_template_name():
    sources = [*(ROOT / "cope_eval").rglob("*.py"), *(ROOT / "pages").rglob("*.py"), *ROOT.glob("*.py")]
    allowed = ROOT / "cope_eval" / "scoring" / "_templates.py"
    found = {str(path.relative_to(ROOT)): hits for path in sources if path != allowed
             if (hits := _template_name_tests(path.read_text("utf-8")))}
    assert found == {}
