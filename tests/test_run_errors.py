"""A run's errors grouped by reason: the runner's own messages lose their per-item details and
group together, each item keeps its full message, most frequent reason first."""

import json

import pandas as pd
import pytest

from cope_eval.app import run_errors
from cope_eval.app._run_errors import error_reason, group_errors
from cope_eval.records import Endpoint
from cope_eval.scoring import RetryPolicy, create_run, execute_run
from cope_eval.scoring._answers import AnswerError, checked_score, probability_of_one
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.stub_server import Reply, StubServer, chat_reply, instant
from tests.test_export import content_of

ONE_TRY = RetryPolicy(attempts=1, base_delay_s=0.01, max_delay_s=0.02, timeout_s=5.0)


def answer_error(read, *args) -> str:
    with pytest.raises(AnswerError) as caught:
        read(*args)
    return str(caught.value)


NO_LABEL = 'neither "0" nor "1" among the top tokens; not a classification'


@pytest.mark.parametrize("message, reason", [
    (answer_error(probability_of_one, [("yes", -0.1), ("no", -2.0)]), NO_LABEL),
    (answer_error(probability_of_one, [("Sure", -0.3), ("I", -1.0), ("'", -4.0)]), NO_LABEL),
    (answer_error(probability_of_one, [("1", 0.5)]), "logprob of … is …, above 0"),
    (answer_error(probability_of_one, [("0", float("nan"))]), "logprob of … is …, not a finite number"),
    (answer_error(checked_score, 1.5), "score … is not a probability in [0, 1]"),
    ("HTTP 500: CUDA out of memory at item-00003 (gave up after 3 tries)", "HTTP 500"),
    ("HTTP 400: This model's maximum context length is 4096 tokens", "HTTP 400"),
    ("HTTP 200 with a body that is not JSON: b'<html>oops'", "HTTP 200 with a body that is not JSON"),
    ("timed out after 30 s (gave up after 2 tries)", "timed out after 30 s"),
    ("batch: HTTP 400: bad request for item-7", "batch: HTTP 400"),
    ("prompt too long: 5,001 tokens (policy and template 900) do not fit the model's 4,096-token context",
     "prompt too long"),
    ("reply has no logprobs (the request asked for them; is this a vLLM server?)",
     "reply has no logprobs (the request asked for them; is this a vLLM server?)"),
    ("  \n ", "error with no message"),
])
def test_a_reason_is_the_cause_without_the_items_details(message, reason):
    assert error_reason(message) == reason


def test_the_items_own_id_is_not_part_of_its_reason():
    assert error_reason("image of item-00042 is bad", "item-00042") == "image of <item> is bad"
    assert error_reason("image of item-000421 is bad", "item-00042") == "image of item-000421 is bad"
    assert error_reason("a bad reply", "a") == "a bad reply"


def test_groups_count_items_most_frequent_first_and_keep_each_full_message():
    predictions = pd.DataFrame({
        "item_id": ["a", "b", "c", "d", "e", "f"],
        "error": ["HTTP 500: body one (gave up after 3 tries)", None,
                  answer_error(probability_of_one, [("yes", -0.1)]),
                  "HTTP 500: body two", answer_error(probability_of_one, [("no", -0.1)]),
                  "HTTP 500: body three"],
    })

    errors = group_errors(predictions)

    assert errors.table.to_dict(orient="records") == [{"reason": "HTTP 500", "items": 3},
                                                      {"reason": NO_LABEL, "items": 2}]
    assert errors.count == 5
    assert errors.items["item"].tolist() == ["a", "d", "f", "c", "e"]
    assert errors.items["message"].tolist()[:3] == ["HTTP 500: body one (gave up after 3 tries)",
                                                   "HTTP 500: body two", "HTTP 500: body three"]
    assert "('yes')" in errors.items["message"].iloc[3]


def test_items_not_scored_yet_are_not_errors_and_no_errors_is_an_empty_table():
    errors = group_errors(pd.DataFrame({"item_id": ["a", "b"], "error": ["not scored yet", None]}))

    assert errors.count == 0 and errors.table.empty and list(errors.table.columns) == ["reason", "items"]
    assert list(errors.items.columns) == ["reason", "item", "message"]


def test_a_real_run_with_bad_replies_groups_its_errors(workspace):
    texts = [f"post {i}" for i in range(8)]
    golden = make_golden(texts=texts)

    def behaviour(path, body):
        if "completions" not in path:
            return instant(path, body)
        i = int(content_of(body).split()[-1])
        if i < 3:  # each failure carries its own body
            return Reply(status=500, body=json.dumps({"error": {"message": f"worker {i} crashed"}}).encode())
        if i < 5:
            return Reply(body=chat_reply("yes", {"yes": -0.1, f"maybe{i}": -3.0}))
        return Reply(body=chat_reply())

    with StubServer(behaviour) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint)
        execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=ONE_TRY)
        errors = run_errors(store, run.id)

    assert errors.table.to_dict(orient="records") == [{"reason": "HTTP 500", "items": 3},
                                                      {"reason": NO_LABEL, "items": 2}]
    ids = golden.items["id"].tolist()
    assert errors.items["item"].tolist() == ids[:5]
    assert errors.items["message"].iloc[0] == "HTTP 500: worker 0 crashed (gave up after 1 tries)"
    assert "'maybe4'" in errors.items["message"].iloc[4]
