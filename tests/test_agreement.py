"""Agreement across runs: kappa as scikit-learn computes it, per-pair item counts, disagreements,
refusals, and two real runs against vLLM."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from cope_eval.app import agreement_groups
from cope_eval.errors import ConfigError
from cope_eval.insight import run_agreement
from cope_eval.insight._agreement import agreement, cohen_kappa, run_name
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy


def frame(scores, labels, errors=None):
    n = len(scores)
    return pd.DataFrame({"item_id": [f"i{k}" for k in range(n)], "label": labels, "score": scores,
                         "error": errors or [None] * n})


def sklearn_kappa(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns on the undefined case; we compare the value
        return cohen_kappa_score(a, b)


@pytest.mark.parametrize("a, b", [
    ([1, 0, 1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 0, 1, 1, 0]),
    ([1, 1, 1, 0], [0, 0, 0, 1]),
    ([1, 1, 1, 1], [1, 0, 1, 0]),  # one run constant: defined, 0.0
    ([1, 1, 1], [0, 0, 0]),  # both constant, different: 0.0
    ([0, 1], [0, 1]),
])
def test_kappa_matches_scikit_learn(a, b):
    kappa, note = cohen_kappa(a, b)
    assert kappa == pytest.approx(sklearn_kappa(a, b)) and note == ""


@pytest.mark.parametrize("seed", range(5))
def test_kappa_matches_scikit_learn_on_random_data(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, 500)
    b = np.where(rng.random(500) < 0.7, a, rng.integers(0, 2, 500))
    assert cohen_kappa(a, b)[0] == pytest.approx(sklearn_kappa(a, b))


@pytest.mark.parametrize("value", [0, 1])
def test_kappa_is_none_where_scikit_learn_gives_nan(value):
    a = [value] * 5
    assert np.isnan(sklearn_kappa(a, a))
    kappa, note = cohen_kappa(a, a)
    assert kappa is None and "same decision" in note
    assert cohen_kappa([], []) == (None, "no items in common")


def test_pairs_use_only_items_both_runs_scored_and_say_how_many():
    labels = [1, 0, 1, 0, 1, 0]
    a = frame([0.9, 0.2, 0.8, 0.6, None, 0.1], labels, [None, None, None, None, "boom", None])
    b = frame([0.7, 0.4, 0.3, 0.9, 0.8, None], labels, [None, None, None, None, None, "timeout"])
    c = frame([0.9, 0.1, 0.9, 0.1, 0.9, 0.1], labels)
    report = agreement({"a": a, "b": b, "c": c}, {"a": 0.5, "b": 0.5, "c": 0.5})
    ab, ac, bc = report.pairs
    assert (ab.a, ab.b, ab.n) == ("a", "b", 4) and (ac.n, bc.n) == (5, 5)
    assert ab.kappa == pytest.approx(sklearn_kappa([1, 0, 1, 1], [1, 0, 0, 1]))
    assert (ab.agreement.count, ab.agreement.n) == (3, 4)
    gold_a, _, gold_c = report.gold
    assert (gold_a.n, gold_a.missing) == (5, 1) and gold_c.kappa == pytest.approx(1.0)
    assert gold_a.kappa == pytest.approx(sklearn_kappa([1, 0, 1, 1, 0], [1, 0, 1, 0, 0]))
    matrix = report.kappa_matrix()
    assert matrix.loc["a", "b"] == matrix.loc["b", "a"] == pytest.approx(ab.kappa) and matrix.loc["c", "c"] == 1.0
    assert report.pair_table()["items"].tolist() == [4, 5, 5]


def test_disagreements_list_each_runs_decision_and_score_most_disputed_first():
    labels = [1, 0, 1, 0, 1]
    runs = {"a": frame([0.9, 0.2, 0.6, 0.1, 0.9], labels), "b": frame([0.8, 0.7, 0.4, 0.2, None], labels,
                                                                      [None, None, None, None, "boom"]),
            "c": frame([0.95, 0.6, 0.3, 0.3, 0.1], labels)}
    texts = pd.Series({"i0": "zero", "i1": "one", "i2": "two", "i3": "three", "i4": "four"})
    report = agreement(runs, {"a": 0.5, "b": 0.5, "c": 0.5}, texts=texts)
    table = report.disagreements
    assert table["item_id"].tolist() == ["i4", "i1", "i2"], "an even split first, then 2-1 splits by score spread"
    first = table.iloc[0]
    assert (first["text"], first["label"], first["flagged"], first["scored"]) == ("four", 1, 1, 2)
    assert first["dispute"] == 0.5
    assert pd.isna(first["b"]) and np.isnan(first["b score"]) and (first["a"], first["c"]) == (1, 0)
    assert table.iloc[1]["spread"] == pytest.approx(0.5) and table.iloc[2]["spread"] == pytest.approx(0.3)
    assert table.iloc[1][["a", "b", "c"]].tolist() == [0, 1, 1]


def test_each_run_decides_at_its_own_threshold():
    labels = [1, 0]
    report = agreement({"a": frame([0.6, 0.4], labels), "b": frame([0.6, 0.4], labels)}, {"a": 0.5, "b": 0.7})
    assert report.disagreements["item_id"].tolist() == ["i0"] and report.pairs[0].agreement.count == 1


def test_mismatched_inputs_are_refused():
    with pytest.raises(ConfigError, match="at least two runs"):
        agreement({"a": frame([0.1], [0])}, {"a": 0.5})
    with pytest.raises(ConfigError, match="different items"):
        agreement({"a": frame([0.1, 0.2], [0, 1]), "b": frame([0.1], [0])}, {"a": 0.5, "b": 0.5})
    with pytest.raises(ConfigError, match="different gold labels"):
        agreement({"a": frame([0.1, 0.2], [0, 1]), "b": frame([0.1, 0.2], [1, 1])}, {"a": 0.5, "b": 0.5})


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def stored_run(store, golden, scores, *, policy="# Criteria\n- Threats.\n", model="m", template="cope-b"):
    endpoint = Endpoint("http://127.0.0.1:9/v1", model)
    run = create_run(store, policy=make_policy(policy), golden=golden, endpoint=endpoint,
                     template=template)
    store.add_predictions(run.id, [(i, float(s), None, "", None, 1.0, 0) for i, s in zip(golden.items["id"], scores)])
    store.mark_run(run.id, "completed")
    return store.run(run.id)


def test_runs_on_different_golden_sets_or_policy_versions_are_refused(store):
    golden = make_golden(4)
    a = stored_run(store, golden, [0.1, 0.9, 0.2, 0.8])
    other_set = stored_run(store, make_golden(5), [0.1] * 5)
    other_version = stored_run(store, golden, [0.1] * 4, policy="# Criteria\n- Insults.\n")
    with pytest.raises(ConfigError, match="different golden sets"):
        run_agreement(store, [a.id, other_set.id])
    with pytest.raises(ConfigError, match="different policy versions"):
        run_agreement(store, [a.id, other_version.id])
    with pytest.raises(ConfigError, match="once"):
        run_agreement(store, [a.id, a.id])


def test_stored_runs_are_grouped_and_named_by_what_tells_them_apart(store):
    golden = make_golden(4)
    a = stored_run(store, golden, [0.1, 0.9, 0.2, 0.8], model="m1")
    b = stored_run(store, golden, [0.2, 0.8, 0.7, 0.9], model="m2", template="cope-a")
    stored_run(store, make_golden(5), [0.1] * 5)
    assert [{i.run.id for i in infos} for infos in agreement_groups(store).values()] == [{a.id, b.id}]
    report = run_agreement(store, [a.id, b.id])
    assert list(report.runs.values()) == [a.id, b.id] and run_name(b).startswith("m2 · cope-a/logprobs")
    assert report.disagreements["text"].tolist() == [golden.items["text"][2]]


def test_two_real_runs_against_vllm(store, workspace, model_server):
    endpoint = Endpoint(model_server.base_url, model_server.model)
    golden = make_golden(texts=["I will hurt you", "nice weather today", "you are an idiot", "see you at lunch",
                                "threats everywhere", "a quiet walk"])
    policy = make_policy("# Criteria\n\n#### Includes\n- Threats of violence.\n- Insults.\n")
    runs = []
    for mode in ("logprobs", "constrained"):
        first = create_run(store, policy=policy, golden=golden, endpoint=endpoint, answer_mode=mode)
        execute_run(store, first.id, endpoint, workspace_root=workspace.root)
        # SmolLM2 puts every item above 0.5; at its median score decisions vary (the rerun is all cache).
        median = float(store.predictions(first.id)["score"].median())
        run = create_run(store, policy=policy, golden=golden, endpoint=endpoint, answer_mode=mode, threshold=median)
        assert execute_run(store, run.id, endpoint, workspace_root=workspace.root).requests == 0
        runs.append(store.run(run.id))
    report = run_agreement(store, [r.id for r in runs])
    [pair] = report.pairs
    decided = []
    for run in runs:
        predictions = store.predictions(run.id).set_index("item_id").reindex(golden.items["id"])
        ok = predictions["error"].isna()
        decided.append(pd.Series(np.where(ok, predictions["score"] >= run.threshold, np.nan), index=golden.items["id"]))
    both = decided[0].notna() & decided[1].notna()
    assert pair.n == int(both.sum())
    if pair.kappa is not None:
        assert pair.kappa == pytest.approx(sklearn_kappa(decided[0][both].astype(int), decided[1][both].astype(int)))
    assert len(report.disagreements) == int((decided[0][both] != decided[1][both]).sum())
    print(f"\nvLLM logprobs vs constrained: {pair.n} items, kappa {pair.kappa}, "
          f"{len(report.disagreements)} disagreements")
