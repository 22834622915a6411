"""The test split is shown only on purpose: every report is on dev unless asked, each look is
recorded per policy and golden-set lineage, and the export card states the held-out figures and
how many looks came before it.

The scores make test items differ from dev ones (every test item's score is the opposite of its
label), so a figure that took in a single test item would not equal the dev figure checked here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from cope_eval.errors import ConfigError
from cope_eval.export import build_bundle
from cope_eval.golden import correct_label, make_split
from cope_eval.store import Store, recorded_reveals, reveal_test, run_results
from tests.factories import make_golden
from tests.factories import POLICY_TEXT, make_policy
from tests.test_export import scored_run

N = 40


def split_set():
    golden = make_split(make_golden(N), test_fraction=0.3, seed=0)
    items = golden.items
    # Dev: scores follow the label (mostly right); test: scores oppose it (all wrong).
    scores = {text: (0.8 if label else 0.2) if split == "dev" else (0.1 if label else 0.9)
              for text, label, split in zip(items["text"], items["label"], items["split"])}
    return golden, scores


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def _expected(golden, scores, split):
    items = golden.items[golden.items["split"] == split]
    y = items["label"].to_numpy()
    pred = (items["text"].map(scores).to_numpy() >= 0.5).astype(int)
    return precision_score(y, pred, zero_division=0), recall_score(y, pred, zero_division=0), f1_score(y, pred)


def test_results_are_dev_unless_asked_and_a_reveal_is_recorded_with_who_and_where(store, workspace):
    golden, scores = split_set()
    run, _ = scored_run(store, workspace, golden, scores)
    assert set(run_results(store, run.id)["split"]) == {"dev"} and len(run_results(store, run.id)) == 28
    assert recorded_reveals(store, run.id).count == 0  # reading dev is no look

    test = reveal_test(store, run.id, who="ana", place="page")
    assert set(test["split"]) == {"test"} and len(test) == 12
    looks = recorded_reveals(store, run.id)
    assert looks.count == 1 and looks.looks[["who", "place", "run_id"]].values.tolist() == [["ana", "page", run.id]]


def test_a_set_without_a_split_has_no_test_to_reveal_and_records_nothing(store, workspace):
    run, _ = scored_run(store, workspace, make_golden(10))
    with pytest.raises(ConfigError, match="no test split"):
        reveal_test(store, run.id, who="ana", place="page")
    assert recorded_reveals(store, run.id).count == 0


def test_looks_count_across_relabels_and_versions_of_one_policy(store, workspace):
    golden, scores = split_set()
    store.put_golden_set(golden)
    first, _ = scored_run(store, workspace, golden, scores)
    reveal_test(store, first.id, who="ana", place="cli")
    relabelled = correct_label(store, golden.hash, golden.items["id"][0], 1 - int(golden.items["label"][0]),
                               author="bo", reason="typo")
    second, _ = scored_run(store, workspace, relabelled, scores)
    reveal_test(store, second.id, who="bo", place="page")
    assert recorded_reveals(store, first.id).count == 2  # one lineage: the relabel counts with its parent
    other_policy, _ = scored_run(store, workspace, golden, scores, policy=make_policy(POLICY_TEXT + "- Another clause.\n", slug="other"))
    assert recorded_reveals(store, other_policy.id).count == 0  # looks are per policy


def test_the_export_card_is_on_dev_states_test_figures_and_counts_the_looks_before_it(store, workspace):
    golden, scores = split_set()
    run, _ = scored_run(store, workspace, golden, scores)
    reveal_test(store, run.id, who="ana", place="page")

    bundle = build_bundle(store, run.id, workspace_root=workspace.root, threshold=0.5, who="cy", n_resamples=200)
    card = json.loads(bundle.files["card.json"])
    dev, test = _expected(golden, scores, "dev"), _expected(golden, scores, "test")
    assert (card["metrics"]["precision"], card["metrics"]["recall"], card["metrics"]["f1"]) == pytest.approx(dev)
    assert card["metrics"]["n"] == 28
    section = card["test_split"]
    assert section["has_split"] and section["items"] == 12
    m = section["metrics"]
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx(test)
    assert section["intervals"]["f1"]["low"] <= m["f1"] <= section["intervals"]["f1"]["high"]
    assert section["looks_before_export"] == 1 and [look["who"] for look in section["looks"]] == ["ana"]
    predictions = bundle.files["predictions.csv"].decode()
    assert all(item not in predictions for item in golden.items.loc[golden.items["split"] == "test", "id"])
    markdown = bundle.files["card.md"].decode()
    assert "## Test split (held out)" in markdown and "Looked at **1** time before this export" in markdown

    looks = recorded_reveals(store, run.id)  # the export was one more look, by who exported
    assert looks.count == 2 and looks.looks["place"].tolist() == ["page", "export"]
    assert looks.looks["who"].tolist() == ["ana", "cy"]
    again = build_bundle(store, run.id, workspace_root=workspace.root, threshold=0.5, n_resamples=200)
    assert again.card["test_split"]["looks_before_export"] == 2


def test_an_export_without_a_split_says_its_figures_are_on_the_items_iterated_on(store, workspace):
    golden = make_golden(20)
    run, _ = scored_run(store, workspace, golden)
    bundle = build_bundle(store, run.id, workspace_root=workspace.root, n_resamples=100)
    assert bundle.card["test_split"] == {"has_split": False}
    assert "has no test split" in bundle.files["card.md"].decode()
    assert recorded_reveals(store, run.id).count == 0
    assert np.isfinite(bundle.card["metrics"]["f1"])
