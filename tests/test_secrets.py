"""The API key never lands in the store, cache keys, error messages or outputs (not even when
the server echoes it back); a burst of image items never exceeds the configured concurrency."""

import pytest
from PIL import Image

from cope_eval.errors import CopeEvalError
from cope_eval.records import Endpoint
from cope_eval.scoring import RetryPolicy, check_one, create_run, execute_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import FIXED_CHAT_REPLY, Reply, StubServer, instant

SENTINEL = "sk-SENTINEL-4b1d-never-store-me"


def test_key_is_nowhere_in_the_workspace_after_good_and_failed_items(workspace):
    answers = iter([Reply(status=500, body=b'{"error": "upstream down"}')] * 4 + [Reply(body=FIXED_CHAT_REPLY)] * 50)
    with StubServer(lambda p, b: next(answers) if "chat" in p else instant(p, b)) as server, \
            Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub", SENTINEL)
        assert SENTINEL not in repr(endpoint)
        run = create_run(store, policy=make_policy(), golden=make_golden(6), endpoint=endpoint, concurrency=1)
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root,
                             retry=RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.01))
        assert result.progress.errors >= 1
        rows = store.predictions(run.id).astype(str).to_string()
    assert all(h.get("authorization") == f"Bearer {SENTINEL}" for p, h, _ in server.requests if "chat" in p)
    assert SENTINEL not in rows and SENTINEL not in repr(result)
    for path in workspace.root.rglob("*"):
        if path.is_file():
            assert SENTINEL.encode() not in path.read_bytes(), path


def test_key_is_not_in_error_messages(workspace):
    with StubServer(lambda p, b: Reply(status=401, body=b'{"error": {"message": "bad key"}}')) as server:
        with pytest.raises(CopeEvalError) as failure:
            check_one(Endpoint(server.base_url, "stub", SENTINEL), policy="P", text="x")
    assert SENTINEL not in str(failure.value)


def test_a_key_the_server_echoes_back_is_redacted_from_errors(workspace):
    """Some servers and proxies quote the key they got in their error text; that text is stored
    with the item and shown on the pages, so the key is taken out first."""
    echo = Reply(status=401, body=('{"error": {"message": "invalid key Bearer %s for this org"}}' % SENTINEL).encode())
    with StubServer(lambda p, b: echo if "chat" in p else instant(p, b)) as server, \
            Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub", SENTINEL)
        run = create_run(store, policy=make_policy(), golden=make_golden(3), endpoint=endpoint)
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root)
        errors = store.predictions(run.id)["error"].tolist()
        with pytest.raises(CopeEvalError) as failure:
            check_one(endpoint, policy="P", text="x")
    assert result.progress.errors == 3
    assert errors == ["HTTP 401: invalid key Bearer [redacted] for this org"] * 3
    assert SENTINEL not in str(failure.value) and "invalid key Bearer [redacted] for this org" in str(failure.value)


def test_burst_of_image_items_respects_concurrency(workspace):
    for i in range(6):
        Image.new("RGB", (64 + i, 64), (i * 40, 0, 0)).save(workspace.root / f"img{i}.png")
    golden = make_golden(texts=[""] * 48, images=[f"img{i % 6}.png" for i in range(48)])
    slow = lambda p, b: Reply(body=FIXED_CHAT_REPLY, delay_s=0.03) if "chat" in p else instant(p, b)
    with StubServer(slow) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint, concurrency=3)
        result = execute_run(store, run.id, endpoint, workspace_root=workspace.root)
    assert result.run.status == "completed" and result.progress.errors == 0
    assert server.max_in_flight == 3


@pytest.mark.parametrize("url", [f"HTTP://analyst:{SENTINEL}@gpu:8000/v1", f"http://analyst:{SENTINEL}@[bad"])
def test_a_credentialed_base_url_is_refused_by_the_cli_without_repeating_the_key(workspace, capsys, url):
    from cope_eval.cli import main

    assert main(["run", "--golden", "g.csv", "--policy", "p.md", "--base-url", url]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: A server URL must not carry credentials") and SENTINEL not in out + err
