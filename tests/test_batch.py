"""Batch files: exact live request bodies out, simulated vLLM run-batch results back in."""

import io
import json
import math
import subprocess
import sys

import pandas as pd
import pytest
from PIL import Image

from cope_eval.errors import ConfigError, NotFoundError
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run, export_batch, get_template, import_batch
from cope_eval.scoring._batch import MAX_LISTED, BatchExport, write_batch
from cope_eval.scoring._jobs import JobBuilder
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import StubServer
from tests.test_export import FAST, by_content, content_of, ranked_scores, scoring_reply

NOWHERE = Endpoint("http://127.0.0.1:9/v1", "stub")  # runs that are only exported, never sent live


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def batch_bytes(store: Store, run_id: str, **options) -> tuple[bytes, BatchExport]:
    """The batch file in memory; ``options`` as for ``write_batch``."""
    buffer = io.BytesIO()
    result = write_batch(store, run_id, buffer, **options)
    return buffer.getvalue(), result


def lines_of(path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def body_bytes(line: bytes) -> bytes:
    """The body exactly as it sits in the line (the key order is fixed: body comes last)."""
    assert line.endswith(b"}\n")
    return line.split(b',"body":', 1)[1][:-2]


def builder_for(store, run, workspace) -> JobBuilder:
    return JobBuilder(get_template(run.template), model=run.model,
                      policy=store.policy_version(run.policy_version_id).text, answer_mode=run.answer_mode,
                      workspace_root=workspace.root)


def vllm_line(custom_id, body=None, *, status=200, error=None, response=True) -> bytes:
    """One line of ``vllm run-batch`` output (BatchRequestOutput)."""
    reply = {"status_code": status, "request_id": f"vllm-batch-{custom_id}", "body": body} if response else None
    return (json.dumps({"id": f"vllm-{custom_id}", "custom_id": custom_id, "response": reply, "error": error})
            + "\n").encode()


def answer_line(request: dict, scores: dict) -> bytes:
    """A 200 line whose P("1") is scores[content of the request]."""
    p = scores[content_of(json.dumps(request["body"]).encode())]
    return vllm_line(request["custom_id"], json.loads(scoring_reply(p)))


def mixed_golden(workspace):
    images = workspace.root / "golden_sets" / "img"
    images.mkdir(parents=True)
    Image.new("RGB", (3, 3), "purple").save(images / "p.png")
    texts = ["plain", 'quotes " and \\ backslash', "ünïcödé — “smart” ✓", "two\nlines", "\ttab", "", "emoji 😀"]
    return make_golden(texts=texts, images=[None] * 5 + ["golden_sets/img/p.png"] * 2)


def test_each_line_carries_the_live_request_body_byte_for_byte(store, workspace):
    golden = mixed_golden(workspace)
    with StubServer(by_content(ranked_scores(golden))) as server:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint, answer_mode="constrained")
        result = export_batch(store, run.id, workspace.root / "requests.jsonl", workspace_root=workspace.root)
        execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST, use_cache=False)
    builder = builder_for(store, run, workspace)
    lines = lines_of(workspace.root / "requests.jsonl")

    assert (result.lines, result.already_scored, result.refused, result.warnings) == (7, 0, (), ())
    assert result.url == "/v1/chat/completions"
    for line, (item_id, text, image) in zip(lines, golden.items[["id", "text", "image"]].itertuples(index=False)):
        request = json.loads(line)
        assert list(request) == ["custom_id", "method", "url", "body"]
        assert request["custom_id"] == item_id and request["method"] == "POST"
        assert request["url"] == "/v1/chat/completions"
        expected = builder.body(text, None if pd.isna(image) else image)  # as JobBuilder.jobs() calls it
        assert json.dumps(request["body"], ensure_ascii=False, separators=(",", ":")).encode() == expected
        assert body_bytes(line) == expected
    live = sorted(body for path, _, body in server.requests if path.endswith("/chat/completions"))
    assert live == sorted(body_bytes(line) for line in lines), "the live client sent exactly these bodies"


def test_cope_a_lines_go_to_completions_and_image_items_are_left_out(store, workspace):
    golden = make_golden(texts=["a", "b", "c"], images=[None, "golden_sets/nope.png", None])
    run = create_run(store, policy=make_policy(), golden=golden, endpoint=NOWHERE, template="cope-a")

    data, result = batch_bytes(store, run.id, workspace_root=workspace.root)

    requests = [json.loads(line) for line in data.splitlines()]
    assert [r["custom_id"] for r in requests] == ["item-00000", "item-00002"]
    assert {r["url"] for r in requests} == {"/v1/completions"}
    assert requests[0]["body"]["prompt"].startswith("INSTRUCTIONS\n")
    (refused,) = result.refused
    assert (refused.file, refused.row, refused.column, refused.value) == ("set", 2, "image", "item-00001")
    assert refused.problem == "The cope-a template is text-only; this item has an image."  # refused before reading
    assert result.warnings == (
        "the cope-a template uses /v1/completions: OpenAI-compatible batch services take it, but vLLM's run-batch "
        "(0.32) rejects such lines and stops on the first one",
        "1 item(s) left out: their request could not be built")


def test_round_trip_through_simulated_vllm_output(store, workspace):
    golden = make_golden(12)
    scores = ranked_scores(golden)
    run = create_run(store, policy=make_policy(), golden=golden, endpoint=NOWHERE)
    export_batch(store, run.id, workspace.root / "in.jsonl", workspace_root=workspace.root)
    requests = [json.loads(line) for line in lines_of(workspace.root / "in.jsonl")]
    ids = [r["custom_id"] for r in requests]
    no_logprobs = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "1"}}]}
    out = [
        *(answer_line(r, scores) for r in requests[:6]),                                   # lines 1-6
        vllm_line(ids[6], status=400, error="boom: model is not multimodal"),             # 7: vLLM error
        vllm_line(ids[7], status=400, error={"error": {"message": "context too long", "type": "BadRequestError",
                                                       "param": None, "code": 400}}),     # 8: ErrorResponse
        vllm_line(ids[8], response=False, error={"code": "server_error", "message": "overloaded"}),  # 9: OpenAI
        vllm_line(ids[9], no_logprobs),                                                    # 10: unusable reply
        b"{not json\n",                                                                    # 11
        vllm_line("nope", json.loads(scoring_reply(0.5))),                                 # 12: not an item
        answer_line({**requests[0], "body": requests[1]["body"]}, scores),                 # 13: repeat of 0
        vllm_line(ids[10], response=False),                                                # 14: nothing
        b"\n",                                                                             # blank: ignored
        b"[1, 2]\n",                                                                       # 16
        b'{"id": "x"}\n',                                                                  # 17
    ]                                                                                      # ids[11]: missing
    (workspace.root / "out.jsonl").write_bytes(b"".join(out))

    result = import_batch(store, run.id, workspace.root / "out.jsonl")

    assert (result.lines, result.scored, result.errors, result.skipped) == (16, 6, 4, 0)
    assert [(p.file, p.row, p.value, p.problem.split(" (")[0]) for p in result.problems] == [
        ("out.jsonl", 11, None, "not valid JSON"),
        ("out.jsonl", 12, "nope", f"custom_id 'nope' is not an item of run {run.id}"),
        ("out.jsonl", 13, ids[0], f"custom_id '{ids[0]}' was already given on line 1; this line is ignored"),
        ("out.jsonl", 14, ids[10], "neither a response nor an error"),
        ("out.jsonl", 16, None, "not a JSON object"),
        ("out.jsonl", 17, None, "no custom_id"),
    ]
    assert (result.missing, result.missing_ids, result.status, result.clean) == (
        2, (ids[10], ids[11]), "interrupted", False)
    stored = store.predictions(run.id).set_index("item_id")
    assert len(stored) == 10
    for item_id, text in zip(ids[:6], golden.items["text"][:6]):
        assert stored.loc[item_id, "score"] == pytest.approx(scores[text])
        assert stored.loc[item_id, "hard_label"] == int(scores[text] >= 0.5)
        assert pd.isna(stored.loc[item_id, "error"])
    assert stored.loc[ids[6:10], "error"].tolist() == [
        "batch: HTTP 400: boom: model is not multimodal",
        "batch: HTTP 400: context too long",
        "batch: error: overloaded",
        "reply has no logprobs (the request asked for them; is this a vLLM server?)",
    ]
    assert stored.loc[ids[6:10], "score"].isna().all()
    assert store.run(run.id).error == "batch import left 2 item(s) without a prediction; resume the run to score " \
                                      "them live"

    again = import_batch(store, run.id, workspace.root / "out.jsonl")
    assert (again.scored, again.errors, again.skipped, again.problem_count) == (0, 0, 10, 6)
    assert again.skipped_lines[:2] == ((1, ids[0]), (2, ids[1]))
    assert len(store.predictions(run.id)) == 10, "no item is stored twice"

    rest = answer_line(requests[10], scores) + answer_line(requests[11], scores)
    last = import_batch(store, run.id, rest, filename="rest.jsonl")
    assert (last.scored, last.missing, last.status, last.clean) == (2, 0, "completed", True)
    finished = store.run(run.id)
    assert finished.status == "completed" and finished.error is None and finished.started and finished.finished


def test_scored_items_are_not_exported_and_their_results_are_skipped(store, workspace):
    golden = make_golden(6)
    scores = ranked_scores(golden)
    run = create_run(store, policy=make_policy(), golden=golden, endpoint=NOWHERE)
    ids = list(golden.items["id"])
    store.add_predictions(run.id, [(ids[1], 0.25, 0, "0", None, 3.0, 0), (ids[4], None, None, None, "timeout", 3.0, 0)])

    every, _ = batch_bytes(store, run.id, workspace_root=workspace.root, include_scored=True)
    todo, result = batch_bytes(store, run.id, workspace_root=workspace.root)

    assert (result.lines, result.already_scored) == (4, 2)
    assert [json.loads(line)["custom_id"] for line in todo.splitlines()] == [ids[0], ids[2], ids[3], ids[5]]
    results = b"".join(answer_line(json.loads(line), scores) for line in every.splitlines())
    imported = import_batch(store, run.id, results, filename="all.jsonl")
    assert (imported.scored, imported.skipped, imported.skipped_lines) == (4, 2, ((2, ids[1]), (5, ids[4])))
    stored = store.predictions(run.id).set_index("item_id")
    assert stored.loc[ids[1], "score"] == 0.25 and stored.loc[ids[4], "error"] == "timeout"
    assert imported.status == "completed" and imported.clean


def test_imported_answers_fill_the_cache_as_live_results_do(store, workspace):
    golden = make_golden(8)
    scores = ranked_scores(golden)
    with StubServer(by_content(scores)) as server:
        endpoint = Endpoint(server.base_url, "stub")
        batch_run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint)
        data, _ = batch_bytes(store, batch_run.id, workspace_root=workspace.root)
        import_batch(store, batch_run.id, b"".join(answer_line(json.loads(line), scores) for line in data.splitlines()))
        live_run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint)
        result = execute_run(store, live_run.id, endpoint, workspace_root=workspace.root, retry=FAST)

    assert [path for path, _, _ in server.requests if "completions" in path] == []
    assert result.progress.cached == 8 and result.run.status == "completed"
    assert store.predictions(live_run.id).set_index("item_id")["score"].sort_index().tolist() == \
        store.predictions(batch_run.id).set_index("item_id")["score"].sort_index().tolist()


def test_import_is_refused_while_the_run_is_being_scored(store, workspace):
    run = create_run(store, policy=make_policy(), golden=make_golden(2), endpoint=NOWHERE)
    runner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a live runner elsewhere
    try:
        store.mark_run(run.id, "running", pid=runner.pid)
        with pytest.raises(ConfigError, match=f"Run {run.id} is being scored by process {runner.pid} on this machine"):
            import_batch(store, run.id, b"")
    finally:
        runner.kill()
        runner.wait()


def test_missing_results_file_and_existing_batch_file_are_errors(store, workspace):
    run = create_run(store, policy=make_policy(), golden=make_golden(3), endpoint=NOWHERE)
    dest = workspace.root / "requests.jsonl"

    with pytest.raises(NotFoundError, match="Cannot read batch results nothing.jsonl"):
        import_batch(store, run.id, workspace.root / "nothing.jsonl")
    export_batch(store, run.id, dest, workspace_root=workspace.root)
    dest.write_bytes(b"keep me")
    with pytest.raises(ConfigError, match="already exists"):
        export_batch(store, run.id, dest, workspace_root=workspace.root)
    assert dest.read_bytes() == b"keep me"
    export_batch(store, run.id, dest, workspace_root=workspace.root, overwrite=True)
    assert dest.read_bytes() == batch_bytes(store, run.id, workspace_root=workspace.root)[0]
    assert [p.name for p in workspace.root.iterdir() if p.name.endswith(".tmp")] == []


def test_problem_lists_are_capped_but_counted(store, workspace):
    run = create_run(store, policy=make_policy(), golden=make_golden(1), endpoint=NOWHERE)

    result = import_batch(store, run.id, b"x\n" * (MAX_LISTED + 5))

    assert result.problem_count == MAX_LISTED + 5 and len(result.problems) == MAX_LISTED
    assert result.problems[-1].row == MAX_LISTED and result.status == "pending"


# Lines as vLLM 0.32 writes them (BatchRequestOutput.model_dump_json(), one top logprob list cut
# short): a constrained chat answer, an ErrorResponse for an image sent to a text-only model, and
# the plain-string error of make_error_request_output.
VLLM_032_LINES = [
    '{"id": "vllm-1", "custom_id": "item-00000", "response": {"status_code": 200, "request_id": "vllm-batch-1", '
    '"body": {"id": "chatcmpl-a3564d71523ac31c", "object": "chat.completion", "created": 1795997602, "model": '
    '"smollm2", "choices": [{"index": 0, "message": {"role": "assistant", "content": "1", "refusal": null, '
    '"annotations": null, "audio": null, "function_call": null, "reasoning": null}, "logprobs": {"content": '
    '[{"token": "1", "logprob": -0.030423883348703384, "bytes": [49], "top_logprobs": [{"token": "1", "logprob": '
    '-0.030423883348703384, "bytes": [49]}, {"token": "0", "logprob": -3.5077016353607178, "bytes": [48]}, '
    '{"token": "\\"", "logprob": -9999.0, "bytes": [34]}]}]}, "finish_reason": "length", "stop_reason": null, '
    '"token_ids": null, "routed_experts": null}], "service_tier": null, "system_fingerprint": "vllm-0.32.0-7e72eeb3", '
    '"usage": {"prompt_tokens": 114, "total_tokens": 115, "completion_tokens": 1, "prompt_tokens_details": null, '
    '"completion_tokens_details": null}, "prompt_logprobs": null, "prompt_token_ids": null, "prompt_text": null, '
    '"kv_transfer_params": null, "ec_transfer_params": null, "metrics": null}}, "error": null}',
    '{"id": "vllm-6", "custom_id": "item-00001", "response": {"status_code": 400, "request_id": "vllm-batch-6", '
    '"body": null}, "error": {"error": {"message": "smollm2 is not a multimodal model", "type": "BadRequestError", '
    '"param": null, "code": 400}}}',
    '{"id": "vllm-9c64af72898ae9e4", "custom_id": "item-00002", "response": {"status_code": 400, "request_id": '
    '"vllm-batch-95f6a266bd59ea6d", "body": null}, "error": "simulated engine failure"}',
]


def test_lines_written_by_vllm_0_32_run_batch_import(store, workspace):
    run = create_run(store, policy=make_policy(), golden=make_golden(3), endpoint=NOWHERE, answer_mode="constrained")

    result = import_batch(store, run.id, "\n".join(VLLM_032_LINES).encode() + b"\n", filename="vllm.out.jsonl")

    assert (result.scored, result.errors, result.problem_count, result.status) == (1, 2, 0, "completed")
    stored = store.predictions(run.id).set_index("item_id")
    p1, p0 = math.exp(-0.030423883348703384), math.exp(-3.5077016353607178)
    assert stored.loc["item-00000", "score"] == pytest.approx(p1 / (p0 + p1))
    assert stored.loc["item-00000", "hard_label"] == 1
    assert stored.loc["item-00001", "error"] == "batch: HTTP 400: smollm2 is not a multimodal model"
    assert stored.loc["item-00002", "error"] == "batch: HTTP 400: simulated engine failure"
