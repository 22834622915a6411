"""Benchmark 10's pure parts and its promise never to fail because of a peer (offline, fast)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from cope_eval.scoring import cope_prompt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import bench_peers  # noqa: E402
from bench_scoring import POLICY, texts  # noqa: E402
from bench_peers import (  # noqa: E402
    Measured, Skip, Timing, Usage, promptfoo_config, read_promptfoo_output, run_process)


def test_the_promptfoo_config_sends_cope_evals_prompt_and_parameters_at_its_concurrency(tmp_path):
    items = bench_peers.prompts(3)
    config = promptfoo_config("http://127.0.0.1:9/v1", items, tmp_path / "out.json")
    provider = config["providers"][0]
    assert provider["config"]["apiBaseUrl"] == "http://127.0.0.1:9/v1"
    assert provider["config"]["passthrough"] == {"logprobs": True, "top_logprobs": 20}
    assert (provider["config"]["max_tokens"], provider["config"]["temperature"]) == (1, 0)
    assert [t["vars"]["prompt"] for t in config["tests"]] == items and config["prompts"] == ["{{prompt}}"]
    assert config["evaluateOptions"]["maxConcurrency"] == bench_peers.CONCURRENCY
    assert config["evaluateOptions"]["cache"] is False and config["sharing"] is False
    assert items[2] == cope_prompt(POLICY.text, texts(3)[2])  # the bytes cope-eval sends
    json.dumps(config)  # written as JSON


def test_a_promptfoo_output_is_read_for_results_errors_and_the_logprobs_it_kept():
    output = {"results": {"results": [
        {"prompt": {"raw": "p0"}, "response": {"output": "1", "logProbs": [-0.1]}},
        {"prompt": {"raw": "p1"}, "response": {"output": "", "error": "HTTP 500"}},
        {"prompt": {"raw": "p2"}, "error": "timeout", "response": None},
    ]}}
    assert read_promptfoo_output(output) == {"results": 3, "errors": 2, "output": "1", "logprobs": [-0.1],
                                             "prompt": "p0"}


def test_a_peers_rate_is_what_its_long_run_took_beyond_its_one_item_run():
    peer = Measured("peer", 101, one=Usage(2.0, 3.0, 100), full=Usage(12.0, 8.0, 120))
    assert peer.rate == pytest.approx((20.0, 10.0))
    ours = Measured("cope-eval", 100, one=Usage(2.0, 3.0, 100), full=Usage(2.1, 3.05, 100), inner=Timing(0.5, 0.25))
    assert ours.rate == pytest.approx((400.0, 200.0))


def test_a_client_the_server_did_not_answer_for_every_item_is_skipped():
    server = SimpleNamespace(completions=0)

    def skipping(k):  # answers all but one of a long run
        server.completions += k if k == 1 else k - 1
        return Usage(1.0, 1.0, 10), "kept"

    with pytest.raises(Skip, match="the server answered 9 completions for 10 items"):
        bench_peers.measure("peer", server, 10, skipping, echo=lambda line: None)

    def honest(k):
        server.completions += k
        return Usage(1.0 * k, 1.0 * k, 10), "kept"

    assert bench_peers.measure("peer", server, 10, honest, echo=lambda line: None).kept == "kept"


def test_a_failing_missing_or_slow_process_is_a_skip_with_the_reason(tmp_path):
    with pytest.raises(Skip, match="exit status 3: boom"):
        run_process([sys.executable, "-c", "print('boom'); raise SystemExit(3)"], timeout_s=30, log=tmp_path / "a")
    with pytest.raises(Skip, match="cannot start"):
        run_process([str(tmp_path / "no-such-command")], timeout_s=30, log=tmp_path / "b")
    with pytest.raises(Skip, match="timed out after 1 s"):
        run_process([sys.executable, "-c", "import time; time.sleep(60)"], timeout_s=1, log=tmp_path / "c")
    usage = run_process([sys.executable, "-c", "sum(range(3_000_000))"], timeout_s=30, log=tmp_path / "d")
    assert usage.cpu_s > 0 and usage.peak_rss_mb > 1


def test_a_peer_that_cannot_install_or_breaks_is_skipped_and_the_benchmark_still_measures_and_passes(monkeypatch):
    def broken(echo):
        raise ValueError("a broken venv")

    monkeypatch.setattr(bench_peers.shutil, "which", lambda name: None)
    monkeypatch.setattr(bench_peers, "install_inspect", broken)
    result = bench_peers.run(items=5, echo=lambda line: None)
    assert ("promptfoo", "skipped — node not found") in result.figures
    assert ("Inspect AI", "skipped — ValueError: a broken venv") in result.figures
    assert result.met is True and result.ratio.endswith("no peer ran")
    assert "items/CPU s" in dict(result.figures)[next(w for w, _ in result.figures if w.startswith("cope-eval"))]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_peak_rss_is_the_childs_own_not_the_parents_it_was_forked_from(tmp_path):
    ballast = bytearray(300 * 1024 * 1024)  # the parent's 300 MB must not show up as the child's peak
    ballast[::4096] = b"x" * len(ballast[::4096])
    small = run_process([sys.executable, "-c", "import time; time.sleep(0.3)"], timeout_s=30, log=tmp_path / "a")
    grow = "import time; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.3)"
    big = run_process([sys.executable, "-c", grow], timeout_s=30, log=tmp_path / "b")
    del ballast
    assert small.peak_rss_mb < 100 and 200 < big.peak_rss_mb < 290, (small, big)
