"""The predictions browser's logic: outcomes at a threshold, filters, sort, formula-safe CSV.

Expected counts are worked out by hand from the table below, not by the code under test.
"""

import csv
import io

import numpy as np
import pandas as pd
import pytest

from cope_eval.app import (
    PREDICTION_OUTCOMES, filter_predictions, outcome_counts, predictions_csv, predictions_page, predictions_table
)
from cope_eval.errors import ConfigError
from cope_eval.export._predictions_csv import bundle_prediction_rows
from cope_eval.metrics import metrics_at_threshold
from cope_eval.golden import encode_data_url
from tests.factories import make_golden, png_bytes

FORMULA = '=HYPERLINK("http://evil","click")'
DATA_URL = "data:image/png;base64," + "A" * 5000
#        item:  0            1            2       3        4                 5       6       7
TEXTS = ["@user hi", "I will hurt you", "calm", FORMULA, "server broke", "maybe", "-1+1", "later"]
SCORES = [0.9, 0.8, 0.2, 0.3, np.nan, 0.5, 0.5, np.nan]
ERRORS = [None, None, None, None, "HTTP 500: <html>boom</html> (gave up after 3 tries)", None, None, "not scored yet"]
CATEGORIES = ["threat", "threat", None, "spam", "spam", "threat", "spam", "threat"]
# gold labels alternate 0, 1, 0, 1, ... (make_golden). At threshold 0.5 (score >= t is "1"):
#   0: gold 0, 0.9 -> FP   1: gold 1, 0.8 -> TP   2: gold 0, 0.2 -> TN   3: gold 1, 0.3 -> FN
#   4: error               5: gold 1, 0.5 -> TP   6: gold 0, 0.5 -> FP   7: not scored
GOLDEN = make_golden(texts=TEXTS, categories=CATEGORIES, images=[DATA_URL] + [None] * 7)


@pytest.fixture
def results() -> pd.DataFrame:
    items = GOLDEN.items
    return pd.DataFrame({"item_id": items["id"], "label": items["label"], "category": items["category"],
                         "score": SCORES, "error": ERRORS})


def test_outcomes_at_a_threshold_match_a_hand_count(results):
    table = predictions_table(results, GOLDEN.items, threshold=0.5)

    assert table["outcome"].tolist() == ["FP", "TP", "TN", "FN", "error", "TP", "FP", "not scored"]
    assert outcome_counts(table) == {"TP": 2, "FP": 2, "FN": 1, "TN": 1, "error": 1, "not scored": 1}
    assert list(outcome_counts(table)) == list(PREDICTION_OUTCOMES)


def test_a_higher_threshold_moves_items_from_positive_to_negative(results):
    table = predictions_table(results, GOLDEN.items, threshold=0.85)
    # 1 (0.8) and 5 (0.5) are gold 1 below 0.85: FN; 6 (0.5) is gold 0 below it: TN; 0 (0.9) stays FP.
    assert outcome_counts(table) == {"TP": 0, "FP": 1, "FN": 3, "TN": 2, "error": 1, "not scored": 1}


def test_threshold_zero_and_one_are_values(results):
    assert outcome_counts(predictions_table(results, GOLDEN.items, threshold=0.0))["FN"] == 0
    assert outcome_counts(predictions_table(results, GOLDEN.items, threshold=1.0))["TP"] == 0


def test_a_threshold_outside_0_1_is_refused_in_the_controls_words(results):
    with pytest.raises(ConfigError, match="Threshold"):
        predictions_table(results, GOLDEN.items, threshold=1.5)


def test_no_cell_is_none_and_errors_show_their_reason(results):
    table = predictions_table(results, GOLDEN.items, threshold=0.5)

    text_columns = ["outcome", "item_id", "category", "text", "image", "error"]
    assert not table[text_columns].isna().any().any()
    assert "None" not in table[text_columns].to_numpy().ravel().tolist()
    row = table.set_index("item_id")
    assert row.loc["item-00004", "error"] == "HTTP 500"  # the reason, without the body
    assert row.loc["item-00007", "error"] == "not scored yet"
    assert row.loc["item-00001", "error"] == "" and row.loc["item-00001", "image"] == ""
    assert row.loc["item-00002", "category"] == "(missing)"
    assert np.isnan(row.loc["item-00004", "score"]), "an error has no score, never 0"


def test_filter_by_outcome_category_and_search(results):
    table = predictions_table(results, GOLDEN.items, threshold=0.5)

    assert filter_predictions(table, outcomes=["FP"])["item_id"].tolist() == ["item-00000", "item-00006"]
    assert filter_predictions(table, outcomes=["FP"], category="spam")["item_id"].tolist() == ["item-00006"]
    assert filter_predictions(table, category="(missing)")["item_id"].tolist() == ["item-00002"]
    assert filter_predictions(table, search="HURT")["item_id"].tolist() == ["item-00001"]
    assert filter_predictions(table, search="item-00003")["text"].tolist() == [FORMULA]
    assert filter_predictions(table, search=".*").empty, "search is literal, not a pattern"
    assert filter_predictions(table, outcomes=[]).empty


def test_sort_by_score_puts_items_without_a_score_last(results):
    table = predictions_table(results, GOLDEN.items, threshold=0.5)

    high = filter_predictions(table, sort="score_desc")["item_id"].str[-1].tolist()
    low = filter_predictions(table, sort="score_asc")["item_id"].str[-1].tolist()
    assert high == ["0", "1", "5", "6", "3", "2", "4", "7"]
    assert low == ["2", "3", "5", "6", "1", "0", "4", "7"]
    assert filter_predictions(table, sort="golden")["item_id"].str[-1].tolist() == list("01234567")
    with pytest.raises(ValueError, match="sort must be one of"):
        filter_predictions(table, sort="random")


def test_csv_is_formula_safe_and_names_inline_images(results):
    rows = filter_predictions(predictions_table(results, GOLDEN.items, threshold=0.5), sort="golden")
    parsed = list(csv.DictReader(io.StringIO(predictions_csv(rows).decode("utf-8"))))

    assert len(parsed) == 8 and list(parsed[0]) == ["outcome", "item_id", "score", "label", "category", "text",
                                                    "image", "video", "error"]
    assert [r["text"] for r in parsed][:4] == ["'@user hi", "I will hurt you", "calm", "'" + FORMULA]
    assert parsed[6]["text"] == "'-1+1"
    assert parsed[0]["image"] == "data:image/png;base64,… (inline image, 5,022 characters)"
    assert parsed[4]["score"] == "" and parsed[4]["error"] == "HTTP 500"
    assert "None" not in predictions_csv(rows).decode("utf-8")


def test_a_page_shows_thumbnails_of_its_own_rows_only(results, tmp_path):
    items = GOLDEN.items.assign(image=[encode_data_url("image/png", png_bytes())] + [None] * 7)
    rows = filter_predictions(predictions_table(results, items, threshold=0.5), sort="golden")
    first, pages = predictions_page(rows, tmp_path, page=1, page_size=3)
    second, _ = predictions_page(rows, tmp_path, page=2, page_size=3)

    assert pages == 3 and list(first.columns)[:2] == ["thumbnail", "outcome"] and "image" not in first.columns
    assert first["thumbnail"][0].startswith("data:image/png;base64,") and first["thumbnail"][1] is None
    assert second["item_id"].tolist() == ["item-00003", "item-00004", "item-00005"]


def test_items_in_another_order_or_with_more_rows_give_the_same_table(results):
    """Items in the results' order are used as they are; any other order, or a set with more items
    (a dev split's results), is matched by id: the same table either way."""
    aligned = predictions_table(results, GOLDEN.items, threshold=0.5)
    shuffled = GOLDEN.items.iloc[[5, 2, 7, 0, 3, 1, 6, 4]]
    pd.testing.assert_frame_equal(predictions_table(results, shuffled, threshold=0.5), aligned)
    dev = results.iloc[[1, 3, 4]].reset_index(drop=True)
    assert predictions_table(dev, GOLDEN.items, threshold=0.5)["text"].tolist() == [TEXTS[1], TEXTS[3], TEXTS[4]]


def test_the_browser_and_the_bundles_csv_give_each_item_the_same_cell_and_the_metrics_its_counts():
    rng = np.random.default_rng(7)
    n = 500
    golden = make_golden(n)
    scores = rng.random(n).round(2)  # ties at the threshold
    errors = np.where(rng.random(n) < 0.05, "HTTP 500", None)
    scores[errors != None] = np.nan  # noqa: E711 (elementwise)
    results = pd.DataFrame({"item_id": golden.items["id"], "label": golden.items["label"],
                            "category": golden.items["category"], "score": scores, "error": errors})

    for threshold in (0.0, 0.37, 0.5, 1.0):
        browser = predictions_table(results, golden.items, threshold=threshold)["outcome"].astype(str)
        bundle = bundle_prediction_rows(results, threshold)["outcome"]
        assert browser.str.lower().tolist() == bundle.tolist(), threshold
        m = metrics_at_threshold(results, threshold=threshold)
        counts = bundle.value_counts()
        assert [m.tp, m.fp, m.fn, m.tn, m.errors] == [int(counts.get(c, 0)) for c in ("tp", "fp", "fn", "tn", "error")]
