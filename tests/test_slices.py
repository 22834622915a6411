import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm

from cope_eval.errors import ValidationError
from cope_eval.metrics import metrics_at_threshold, slice_metrics
from cope_eval.metrics._slices import ALL, MISSING
from cope_eval.metrics._threshold import RATIOS
from tests.metric_data import frame

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # sklearn's undefined-metric


def test_hand_computed_slices_and_unweighted_mean():
    results = frame([1, 1, 0, 1, 0, 0], [0.9, 0.2, 0.6, 0.8, 0.1, 0.3],
                    category=["drugs", "drugs", "drugs", "hate", "hate", "hate"])
    table = slice_metrics(results)
    rows = table.rows
    assert rows.index.tolist() == ["drugs", "hate"] and rows.index.name == "category"
    assert rows.loc["drugs", ["tp", "fp", "fn", "tn"]].tolist() == [1, 1, 1, 0]
    assert rows.loc["hate", ["tp", "fp", "fn", "tn"]].tolist() == [1, 0, 0, 2]
    assert rows.loc["drugs", "f1"] == 0.5 and rows.loc["hate", "f1"] == 1.0
    assert table.mean["f1"] == 0.75  # unweighted: each category counts once
    assert table.overall == metrics_at_threshold(results)
    assert table.overall.f1 == 2 * 2 / (2 * 2 + 1 + 1)  # pooled differs from the mean


def test_matches_a_groupby_loop_with_sklearn():
    rng = np.random.default_rng(1)
    n = 2000
    y = rng.integers(0, 2, n)
    s = rng.random(n)
    err = rng.random(n) < 0.05
    region = rng.choice(["eu", "us", "apac", "latam"], n)
    results = frame(y, s, err).assign(region=region)
    table = slice_metrics(results, by="region", threshold=0.3)
    ok = ~err
    for name, group in pd.DataFrame({"y": y[ok], "p": s[ok] >= 0.3,
                                     "r": region[ok]}).groupby("r"):
        p, r, f, _ = skm.precision_recall_fscore_support(group.y, group.p, average="binary",
                                                         zero_division=0.0)
        assert table.rows.loc[name, ["precision", "recall", "f1"]].tolist() == \
            pytest.approx([p, r, f])
        assert table.rows.loc[name, "errors"] == np.sum(err & (region == name))
    assert table.mean["recall"] == pytest.approx(table.rows["recall"].mean())


def test_missing_values_form_their_own_slice():
    results = frame([1, 0, 1], [0.9, 0.1, 0.4], category=["hate", None, np.nan])
    assert slice_metrics(results).rows.index.tolist() == ["hate", MISSING]


def test_all_error_slice_is_shown_but_left_out_of_the_mean():
    results = frame([1, 0, 1, 0], [0.9, 0.1, 0.4, 0.3], [False, False, True, True],
                    category=["a", "a", "b", "b"])
    table = slice_metrics(results)
    assert table.rows.loc["b", ["n", "errors"]].tolist() == [0, 2]
    assert table.mean["f1"] == table.rows.loc["a", "f1"] == 1.0


def test_empty_run_means_are_zero_division():
    table = slice_metrics(frame([], [], category=np.array([], dtype=object)), zero_division=1.0)
    assert table.rows.empty and all(table.mean[m] == 1.0 for m in RATIOS)


def test_unsliced_run_is_one_slice_equal_to_pooled():
    results = frame([1, 0, 1], [0.9, 0.1, 0.4])
    table = slice_metrics(results, by=None)
    assert table.rows.index.tolist() == [ALL]
    assert table.mean["f1"] == table.overall.f1


def test_missing_column_names_what_is_there():
    with pytest.raises(ValidationError, match="columns present: item_id, label"):
        slice_metrics(frame([1], [0.5]))
