"""The CLI as a CI gate: real vLLM end to end, cache on re-run, exit codes, no leaked keys."""

import json
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pandas as pd
import pytest

from tests.conftest import REPO_ROOT
from tests.fault_proxy import FaultProxy
from tests.stub_server import StubServer

SAMPLE_GOLDEN = REPO_ROOT / "golden_sets" / "openai-moderation" / "mixed.csv"
SAMPLE_POLICY_DIR = REPO_ROOT / "policies" / "violence"
N_ITEMS = 8  # the first rows of a shipped sample set: enough to exercise every path, quick on a CPU


def cli(*args, env=None, check_rc=None):
    result = subprocess.run([sys.executable, "-m", "cope_eval", *args], capture_output=True, text=True,
                            cwd=REPO_ROOT, env=env, timeout=300)
    if check_rc is not None:
        assert result.returncode == check_rc, result.stderr
    return result


@pytest.fixture
def inputs(tmp_path):
    pd.read_csv(SAMPLE_GOLDEN).head(N_ITEMS).to_csv(tmp_path / "golden.csv", index=False)
    (tmp_path / "policy.md").write_bytes(sorted(SAMPLE_POLICY_DIR.glob("*.md"))[0].read_bytes())
    return tmp_path


@pytest.fixture
def env(workspace, monkeypatch):
    import os
    for name in ("COPE_BASE_URL", "COPE_MODEL", "COPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return {**os.environ, "COPE_EVAL_HOME": str(workspace.root)}


@pytest.mark.model
def test_cli_scores_against_vllm_then_reruns_from_cache_with_zero_requests(model_server, inputs, env):
    # Requests are counted by a proxy in front of vLLM, so other clients of a shared server
    # (the app, a benchmark) cannot disturb the count.
    target = urlsplit(model_server.base_url)
    with FaultProxy(target.hostname, target.port) as proxy:
        first, second = _run_twice(proxy, model_server.model, inputs, env)
    assert proxy.calls() == N_ITEMS, "one model call per item the first time, none the second"
    _check_outputs(inputs, first, second)


def _run_twice(proxy, model, inputs, env):
    common = ["run", "--golden", str(inputs / "golden.csv"), "--policy", str(inputs / "policy.md"),
              "--base-url", proxy.base_url, "--model", model, "--concurrency", "4",
              # Constrained answers are always "0"/"1", so no item errors and every one is cached
              # (errors are never cached: they are sent again next time).
              "--answer-mode", "constrained"]
    first = cli(*common, "--out", str(inputs / "out1"), env=env, check_rc=0)
    assert proxy.calls() == N_ITEMS
    second = cli(*common, "--out", str(inputs / "out2"), env=env, check_rc=0)
    return first, second


def _check_outputs(inputs, first, second_run):
    assert re.search(rf"from cache\s+{N_ITEMS}\n", second_run.stdout) and re.search(r"\nsent\s+0\n", second_run.stdout)
    metrics = json.loads((inputs / "out1" / "metrics.json").read_text())
    for key in ("n", "tp", "fp", "fn", "tn", "errors", "precision", "recall", "f1", "accuracy", "threshold", "run_id"):
        assert key in metrics
    # attributable: the server asked and the checkpoint vLLM reported for the model (its root)
    assert metrics["base_url"].startswith("http://127.0.0.1:") and "smollm2" in metrics["checkpoint"].lower()
    assert (metrics["concurrency"], metrics["settled_concurrency"]) == (4, None), "--concurrency 4: fixed"
    assert metrics["errors"] == 0 and metrics["n"] == N_ITEMS and metrics["tp"] + metrics["fp"] + metrics["fn"] + metrics["tn"] == metrics["n"]
    predictions = pd.read_csv(inputs / "out1" / "predictions.csv")
    assert list(predictions.columns) == ["id", "label", "score", "pred", "error", "category"]
    assert len(predictions) == N_ITEMS and predictions["score"].dropna().between(0, 1).all()
    assert (predictions["pred"].dropna() == (predictions["score"].dropna() >= 0.5).astype(int)).all()
    second = json.loads((inputs / "out2" / "metrics.json").read_text())
    assert {k: v for k, v in second.items() if k != "run_id"} == {k: v for k, v in metrics.items() if k != "run_id"}
    assert metrics["run_id"] in first.stdout


def test_fail_under_f1_exits_1(inputs, env):
    with StubServer() as server:
        result = cli("run", "--golden", str(inputs / "golden.csv"), "--policy", str(inputs / "policy.md"),
                     "--base-url", server.base_url, "--model", "stub", "--fail-under-f1", "0.99", env=env)
    # The stub says "1" with P=0.91 for everything: recall 1, so F1 = 2p/(1+p) with p the positive share.
    labels = pd.read_csv(inputs / "golden.csv")["label"]
    positive_share = labels.mean()
    assert 0 < positive_share < 1
    assert result.returncode == 1, result.stderr
    assert f"F1 {2 * positive_share / (1 + positive_share):.4f} is below --fail-under-f1 0.99" in result.stderr


def test_bad_golden_file_exits_2_with_one_clear_message(inputs, env):
    (inputs / "bad.csv").write_text("text,label\nfine,1\nbroken,maybe\n")
    result = cli("run", "--golden", str(inputs / "bad.csv"), "--policy", str(inputs / "policy.md"),
                 "--base-url", "http://127.0.0.1:9/v1", "--model", "m", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: bad.csv was rejected") and "row 2" in result.stderr and "'maybe'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_server_exits_2(inputs, env):
    result = cli("run", "--golden", str(inputs / "golden.csv"), "--policy", str(inputs / "policy.md"), env=env)
    assert result.returncode == 2 and "pass --base-url or set COPE_BASE_URL" in result.stderr


def test_api_key_is_sent_as_bearer_and_never_written(inputs, env, workspace):
    secret = "sk-live-DO-NOT-STORE-7f3a"
    with StubServer() as server:
        cli("run", "--golden", str(inputs / "golden.csv"), "--policy", str(inputs / "policy.md"),
            "--base-url", server.base_url, "--model", "stub", "--api-key-env", "MY_KEY", "--out", str(inputs / "out"),
            env={**env, "MY_KEY": secret}, check_rc=0)
    scoring = [h for p, h, _ in server.requests if p.endswith("/chat/completions")]
    assert len(scoring) == N_ITEMS and all(h["authorization"] == f"Bearer {secret}" for h in scoring)
    for path in [*workspace.root.rglob("*"), *(inputs / "out").rglob("*")]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_missing_api_key_variable_is_a_config_error(inputs, env):
    result = cli("run", "--golden", str(inputs / "golden.csv"), "--policy", str(inputs / "policy.md"),
                 "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--api-key-env", "NOPE_NOT_SET", env=env)
    assert result.returncode == 2 and "NOPE_NOT_SET" in result.stderr
