import json

import numpy as np
import pandas as pd
import pytest

from cope_eval.errors import ValidationError
from cope_eval.metrics import ScoredRun, check_results
from cope_eval.metrics._scored import check_unit, check_zero_division
from tests.metric_data import frame


def test_errors_are_counted_apart_and_excluded():
    results = pd.DataFrame({
        "label": [1, 0, 1, 0],
        "score": [0.9, np.nan, 0.2, 0.4],
        "error": [None, "timeout", "bad answer", None],  # row 3 has a score but errored
    })
    run = check_results(results)
    assert (run.n, run.errors) == (2, 2)
    assert run.y.tolist() == [True, False]
    assert run.s.tolist() == [0.9, 0.4]


def test_nan_score_without_error_text_counts_as_error():
    run = check_results({"label": [1, 0], "score": [np.nan, 0.3]})
    assert (run.n, run.errors) == (1, 1)


def test_scored_run_passes_through_unchanged():
    run = check_results(frame([0, 1], [0.2, 0.8]))
    assert check_results(run) is run


def test_hard_label_flag_checks_scores():
    run = check_results(frame([0, 1], [0.0, 1.0]), hard_label=True)
    assert run.hard_label
    with pytest.raises(ValidationError, match="hard-label"):
        check_results(frame([0, 1], [0.0, 0.7]), hard_label=True)
    with pytest.raises(ValidationError, match="row 2"):
        check_results(check_results(frame([0, 1], [0.0, 0.7])), hard_label=True)


def test_missing_columns_are_named():
    with pytest.raises(ValidationError) as info:
        check_results(pd.DataFrame({"item_id": ["a"]}))
    assert {p.column for p in info.value.problems} == {"label", "score"}


@pytest.mark.parametrize("column, values, problem", [
    ("label", [0, 2, 1], "gold label must be 0 or 1"),
    ("label", [0, None, 1], "gold label must be 0 or 1"),
    ("label", ["0", "yes", "1"], "not a number"),
    ("score", [0.1, 1.5, 0.3], "probability in [0, 1]"),
    ("score", [0.1, -np.inf, 0.3], "probability in [0, 1]"),
    ("score", [0.1, "high", 0.3], "not a number"),
])
def test_bad_values_name_row_column_and_value(column, values, problem):
    data = {"label": [0, 1, 1], "score": [0.1, 0.2, 0.3], column: values}
    with pytest.raises(ValidationError) as info:
        check_results(pd.DataFrame(data))
    first = info.value.problems[0]
    assert (first.row, first.column) == (2, column)
    assert problem in first.problem


def test_many_bad_rows_are_summarised_not_listed():
    with pytest.raises(ValidationError) as info:
        check_results({"label": np.full(1000, 3), "score": np.full(1000, 0.5)})
    assert len(info.value.problems) == 11
    assert "1000 rows in all" in info.value.problems[-1].problem


def test_columns_that_do_not_line_up_are_a_validation_error():
    with pytest.raises(ValidationError, match="do not line up"):
        check_results({"label": [0, 1], "score": [0.5]})


def test_other_inputs_are_a_type_error():
    with pytest.raises(TypeError, match="DataFrame"):
        check_results([(0, 0.5)])


def test_count_table_at_thresholds():
    run = check_results(frame([1, 0, 1, 0, 1], [0.9, 0.8, 0.5, 0.5, 0.1]))
    table = run.counts
    assert table.threshold.tolist() == [0.9, 0.8, 0.5, 0.1]
    assert table.tp.tolist() == [1, 1, 2, 3]
    assert table.fp.tolist() == [0, 1, 2, 2]
    tp, fp = table.at([1.0, 0.9, 0.85, 0.5, 0.0])
    assert tp.tolist() == [0, 1, 1, 2, 3]
    assert fp.tolist() == [0, 0, 0, 2, 2]


def test_option_checks_say_what_is_valid():
    assert np.isnan(check_zero_division(float("nan")))
    with pytest.raises(ValueError, match=r"\[0, 1\] or NaN"):
        check_zero_division(2)
    with pytest.raises(ValueError, match="threshold must be a number in"):
        check_unit("threshold", 1.5)


def test_to_dict_is_json_ready():
    from cope_eval.metrics import threshold_sweep

    record = threshold_sweep(frame([0, 1, 1], [0.2, 0.6, 0.9])).to_dict()
    assert json.loads(json.dumps(record))["tp"] == [2, 2, 1]
    assert isinstance(ScoredRun.__doc__, str)
