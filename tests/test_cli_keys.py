"""The key the CLI sends to a stored run's server: never one configured for another server."""

import pytest

from cope_eval.cli import main
from cope_eval.cli._options import key_for_run
from cope_eval.errors import ConfigError
from cope_eval.records import Endpoint, Run
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import StubServer

RUN_URL = "http://gpu-a:8000/v1"


def run_at(base_url=RUN_URL, template="cope-b") -> Run:
    return Run("run-1", "sha256:p", "sha256:g", base_url, "m", template, "logprobs", 0.5, 4, "pending", 3)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("COPE_BASE_URL", "COPE_API_KEY", "ZENTROPI_API_KEY", "MY_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("base_url, expected", [
    (None, "sk-env"),  # no server configured: the key goes with the server the user names
    (RUN_URL, "sk-env"),
    ("http://gpu-a:8000", "sk-env"),  # the same server, written without /v1
    ("http://gpu-b:8000/v1", None),  # configured for another server: never sent here
])
def test_cope_api_key_follows_cope_base_url(clean_env, base_url, expected):
    clean_env.setenv("COPE_API_KEY", "sk-env")
    if base_url:
        clean_env.setenv("COPE_BASE_URL", base_url)
    assert key_for_run(run_at()) == expected


def test_a_named_variable_goes_to_the_run_server(clean_env):
    clean_env.setenv("COPE_BASE_URL", "http://gpu-b:8000/v1")
    clean_env.setenv("MY_KEY", "sk-mine")
    assert key_for_run(run_at(), "MY_KEY") == "sk-mine"
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE"):
        key_for_run(run_at(), "NOT_SET_ANYWHERE")


def test_a_zentropi_run_uses_the_zentropi_key(clean_env):
    clean_env.setenv("COPE_API_KEY", "sk-env")
    clean_env.setenv("ZENTROPI_API_KEY", "zk-1")
    assert key_for_run(run_at(template="zentropi")) == "zk-1"


@pytest.mark.parametrize("configured, sent", [("same", "Bearer sk-env"), ("other", None)])
def test_resume_sends_the_configured_key_only_to_its_own_server(workspace, clean_env, configured, sent):
    with StubServer() as server, Store(workspace.private_dir) as store:
        run = create_run(store, policy=make_policy(), golden=make_golden(3), endpoint=Endpoint(server.base_url, "stub"))
        clean_env.setenv("COPE_BASE_URL", server.base_url if configured == "same" else "http://127.0.0.1:9/v1")
        clean_env.setenv("COPE_API_KEY", "sk-env")
        assert main(["resume", run.id]) == 0
        headers = {h.get("authorization") for path, h, _ in server.requests if path.endswith("/chat/completions")}
    assert headers == {sent}
