"""Reading P("1") and hard labels from replies, including every malformed shape."""

import math

import pytest

from cope_eval.scoring import get_template
from cope_eval.scoring._answers import AnswerError, probability_of_one, read_answer

COPE_B = get_template("cope-b")


def chat(content="1", top=(("1", -0.1), ("0", -2.4))):
    entries = [{"token": t, "logprob": lp} for t, lp in top]
    return {"choices": [{"message": {"content": content}, "logprobs": {"content": [{"token": content, "top_logprobs": entries}]}}]}


def test_score_is_p1_over_p0_plus_p1():
    answer = read_answer(COPE_B, chat())
    p1, p0 = math.exp(-0.1), math.exp(-2.4)
    assert answer.score == pytest.approx(p1 / (p0 + p1))
    assert answer.hard_label == 1 and answer.raw == "1"


@pytest.mark.parametrize("one, zero", [(" 1", " 0"), ("▁1", "▁0"), ("Ġ1", "Ġ0"), ("1\n", "0")])
def test_token_spellings_are_normalised(one, zero):
    assert probability_of_one([(one, math.log(0.75)), (zero, math.log(0.25))]) == pytest.approx(0.75)


def test_variants_of_the_same_answer_are_summed():
    top = [("1", math.log(0.3)), (" 1", math.log(0.3)), ("0", math.log(0.2)), ("The", math.log(0.2))]
    assert probability_of_one(top) == pytest.approx(0.6 / 0.8)


def test_missing_zero_is_bounded_by_the_smallest_listed_probability():
    # SmolLM2's real shape: "The" first, "1" second, "0" absent from the top list.
    top = [("The", math.log(0.15)), ("1", math.log(0.1)), ("I", math.log(0.01))]
    assert probability_of_one(top) == pytest.approx(0.1 / (0.1 + 0.01))


def test_missing_one_is_bounded_the_same_way():
    top = [("0", math.log(0.9)), ("x", math.log(0.02))]
    assert probability_of_one(top) == pytest.approx(0.02 / 0.92)


def test_neither_answer_listed_is_an_error_not_a_zero():
    with pytest.raises(AnswerError, match='neither "0" nor "1"'):
        read_answer(COPE_B, chat("The", (("The", -1.0), ("A", -2.0))))


@pytest.mark.parametrize("reply, message", [
    ({}, "no choices"),
    ({"choices": []}, "no choices"),
    ({"choices": ["x"]}, "no choices"),
    ({"choices": [{"message": {"content": "1"}}]}, "no logprobs"),
    ({"choices": [{"message": {"content": "1"}, "logprobs": {"content": []}}]}, "unexpected shape"),
    ({"choices": [{"message": {"content": "1"}, "logprobs": {"content": [{"top_logprobs": []}]}}]}, "empty top_logprobs"),
    ({"choices": [{"message": {"content": 5}, "logprobs": None}]}, "not a string"),
])
def test_malformed_replies_are_errors(reply, message):
    with pytest.raises(AnswerError, match=message):
        read_answer(COPE_B, reply)


def test_cope_a_reads_legacy_completion_logprobs():
    reply = {"choices": [{"text": "0", "logprobs": {"top_logprobs": [{"0": math.log(0.8), "1": math.log(0.2)}]}}]}
    answer = read_answer(get_template("cope-a"), reply)
    assert answer.score == pytest.approx(0.2) and answer.hard_label == 0


@pytest.mark.parametrize("text, label", [
    ("1", 1), ("0", 0), ("After weighing the policy, the answer is 1", 1), ("Label: 0.", 0), ("1 ... final: 0", 0),
])
def test_safeguard_hard_label_from_the_final_answer(text, label):
    answer = read_answer(get_template("safeguard"), {"choices": [{"message": {"content": text}}]})
    assert (answer.score, answer.hard_label) == (float(label), label)


@pytest.mark.parametrize("text, message", [("", "empty final answer"), ("I cannot decide", "no 0/1 label"),
                                           ("rule 10 applies", "no 0/1 label"), ("score 0.7", "no 0/1 label")])
def test_safeguard_without_a_label_is_an_error(text, message):
    with pytest.raises(AnswerError, match=message):
        read_answer(get_template("safeguard"), {"choices": [{"message": {"content": text}}]})


def test_chat_label_falls_back_to_hard_label_without_logprobs():
    answer = read_answer(get_template("chat-label"), {"choices": [{"message": {"content": "1"}}]})
    assert (answer.score, answer.hard_label) == (1.0, 1)


@pytest.mark.parametrize("value, message", [
    (float("nan"), "logprob of '1' is nan, not a finite number"),
    (float("inf"), "logprob of '1' is inf, not a finite number"),
    (float("-inf"), "logprob of '1' is -inf, not a finite number"),
    (1000.0, "logprob of '1' is 1000, above 0: not a log-probability"),
    (0.5, "logprob of '1' is 0.5, above 0: not a log-probability"),
    pytest.param(10**400, "logprob of '1' is out of range: 1000", id="huge-int"),
    ("-0.1", "logprob of '1' is not a number: '-0.1'"),
    (True, "logprob of '1' is not a number: True"),
    (None, "logprob of '1' is not a number: None"),
])
def test_a_logprob_that_is_not_one_is_an_error_with_its_reason(value, message):
    with pytest.raises(AnswerError) as raised:
        read_answer(COPE_B, chat(top=(("1", value), ("0", -2.4))))
    assert str(raised.value).startswith(message)


def test_a_bad_logprob_of_any_listed_token_is_an_error():
    with pytest.raises(AnswerError, match="logprob of 'The' is nan"):
        probability_of_one([("1", -0.1), ("0", -2.4), ("The", float("nan"))])


def test_legal_extremes_are_read_in_log_space_without_overflow_or_underflow():
    assert probability_of_one([("1", -800.0), ("0", -801.0)]) == pytest.approx(1 / (1 + math.exp(-1)))
    assert probability_of_one([("1", -1e308), ("0", 0.0)]) == 0.0
    assert probability_of_one([("1", 0.0), ("0", -1e308)]) == 1.0
    assert probability_of_one([("1", -745.0), (" 1", -745.0), ("0", -744.0)]) == pytest.approx(2 / (2 + math.e))


def test_rounding_just_above_zero_reads_as_zero():
    assert probability_of_one([("1", 1e-7), ("0", math.log(0.25))]) == pytest.approx(1 / 1.25)
    assert probability_of_one([("1", 9e-4), ("0", -30.0)]) == pytest.approx(1.0)


def test_cope_a_legacy_logprobs_are_checked_too():
    reply = {"choices": [{"text": "0", "logprobs": {"top_logprobs": [{"0": float("nan"), "1": -1.0}]}}]}
    with pytest.raises(AnswerError, match="logprob of '0' is nan"):
        read_answer(get_template("cope-a"), reply)


@pytest.mark.parametrize("confidence", [float("nan"), float("inf"), -0.1, 1.5, "0.9",
                                        pytest.param(10**400, id="huge-int")])
def test_zentropi_confidence_must_be_a_number_in_0_1(confidence):
    with pytest.raises(AnswerError, match="confidence is not a number in"):
        read_answer(get_template("zentropi"), {"label": "1", "confidence": confidence})
