"""``cli/_output.print_json``: every ``--json`` prints strict JSON, whatever the report holds.

Python's ``json.loads`` accepts ``NaN`` and ``Infinity``; no other JSON reader does, so every parse
here refuses them (``strict_loads``).
"""

import datetime
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cope_eval.cli import main
from cope_eval.cli._output import dumps, print_json
from cope_eval.store import Store
from tests.factories import make_golden
from tests.test_cli_compare import score_two_policies
from tests.test_triage import SCORES, scored_run

HOSTILE = "\x1b[2J\x9b31m\u202egnp.exe\u2028next"
"""ESC (C0), CSI (C1), a right-to-left override and a line separator: text that could drive or
reorder a terminal."""


def _refuse(constant: str):
    raise ValueError(f"{constant} is not JSON")


def strict_loads(text: str):
    """``json.loads`` that refuses NaN and infinities, as every other JSON reader does."""
    return json.loads(text, parse_constant=_refuse)


def printed(payload, capsys):
    print_json(payload)
    return capsys.readouterr().out


def test_nan_and_infinities_become_null(capsys):
    out = printed({"f1": float("nan"), "high": float("inf"), "low": -np.inf, "p": np.float32("nan")}, capsys)
    assert strict_loads(out) == {"f1": None, "high": None, "low": None, "p": None}


def test_numpy_scalars_and_arrays_become_numbers(capsys):
    out = printed({"tp": np.int64(7), "n": np.int32(9), "share": np.float64(0.25), "flag": np.bool_(True),
                   "scores": np.array([0.5, np.nan])}, capsys)
    data = strict_loads(out)
    assert data == {"tp": 7, "n": 9, "share": 0.25, "flag": True, "scores": [0.5, None]}
    assert type(data["tp"]) is int and type(data["flag"]) is bool


def test_pandas_missing_values_become_null(capsys):
    frame = pd.DataFrame({"score": [0.9, None], "tag": pd.array(["gap", None], dtype="string"),
                          "count": pd.array([3, None], dtype="Int64"),
                          "when": [pd.Timestamp("2026-01-02"), pd.NaT]})
    out = printed({"na": pd.NA, "nat": pd.NaT, "rows": frame.to_dict(orient="records")}, capsys)
    assert strict_loads(out) == {"na": None, "nat": None, "rows": [
        {"score": 0.9, "tag": "gap", "count": 3, "when": "2026-01-02 00:00:00"},
        {"score": None, "tag": None, "count": None, "when": None}]}


def test_reports_lists_dates_paths_and_keys(capsys):
    class Report:
        def to_dict(self):
            return {"threshold": np.float64(0.5), "pair": (1, 2)}

    payload = [{"report": Report(), "day": datetime.date(2026, 1, 2), "file": Path("/tmp/x"), 3: {4}}]
    out = printed(payload, capsys)
    assert strict_loads(out) == [{"report": {"threshold": 0.5, "pair": [1, 2]}, "day": "2026-01-02",
                                  "file": "/tmp/x", "3": [4]}]
    assert out.endswith("}\n]\n") and out.count("\n") > 5  # indented, one value, then a newline


def test_text_that_could_drive_a_terminal_is_escaped_and_reads_back_the_same():
    text = dumps({"text": HOSTILE, "name": "Zoë 日本"})
    assert not any(c in text for c in "\x1b\x9b\u202e\u2028")
    assert "Zoë 日本" in text  # readable text stays readable
    assert strict_loads(text) == {"text": HOSTILE, "name": "Zoë 日本"}


# -- every --json command of compare and triage ------------------------------------------------

def test_compare_json_is_strict_json(workspace, capsys):
    _, (a, b) = score_two_policies(workspace)
    for extra in ([], ["--threshold", "1"], ["--threshold", "0"]):  # at 1 nothing is "1": undefined precision
        assert main(["compare", a, b, "--json", *extra]) == 0
        data = strict_loads(capsys.readouterr().out)
        assert (data["a"], data["b"]) == (a, b) and data["metrics_a"]["n"] == 20


@pytest.fixture
def triaged(workspace):
    golden = make_golden(9, texts=[HOSTILE] + [f"post number {i}" for i in range(1, 9)])
    with Store(workspace.private_dir) as store:
        return scored_run(store, golden, SCORES)


def test_triage_list_json_is_strict_json_and_cannot_drive_the_terminal(triaged, capsys):
    assert main(["triage", triaged.id, "--min-confidence", "0.6", "--json"]) == 0
    out = capsys.readouterr().out
    data = strict_loads(out)
    assert data["items"][0]["text"] == HOSTILE and data["items"][0]["tag"] is None  # untagged: null, not NaN
    assert (data["scored"], data["left_out"]) == (7, 2)
    assert not any(c in out for c in "\x1b\x9b\u202e\u2028")


def test_triage_gaps_json_is_strict_json(triaged, capsys):
    assert main(["triage", "gaps", "violence", "--json"]) == 0
    assert strict_loads(capsys.readouterr().out) == []
    assert main(["triage", "tag", triaged.id, "item-00001", "--gap", "--note", HOSTILE]) == 0
    capsys.readouterr()
    assert main(["triage", "gaps", "violence", "--json"]) == 0
    out = capsys.readouterr().out
    [gap] = strict_loads(out)
    assert (gap["item_id"], gap["status"], gap["note"]) == ("item-00001", "open", HOSTILE)
    assert gap["done_by"] is None  # not done: null, not NaN
    assert not any(c in out for c in "\x1b\x9b\u202e\u2028")
