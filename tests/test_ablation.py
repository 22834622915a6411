"""Clause ablation: exact mechanics with a rule-following stub model, then the real vLLM end to end.

With ``keyword_rule`` an item scores 0.9 while some policy bullet shares a word with it, else
0.1, so removing a bullet flips exactly the items only it matched.
"""

import pandas as pd
import pytest

from cope_eval.app import RunManager, start_study
from cope_eval.errors import ConfigError
from cope_eval.golden import golden_set_hash
from cope_eval.insight import ABLATION, ablation_report, create_ablation, execute_study, study_status
from cope_eval.insight._studies import Variant, create_study
from cope_eval.metrics import metrics_at_threshold
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store, run_results
from tests.factories import make_policy
from tests.policy_stub import keyword_rule, parse_prompt, policy_following
from tests.stub_server import StubServer, chat_requests

POLICY = """# Criteria

## Overview

Flags hostile posts.

## Definition of Label

#### Includes
- Threats against people.
- Insults regarding appearance.
- Doxxing addresses.

#### Excludes
- Cooking recipes.
"""
ITEMS = [  # (text, gold): items 2 and 3 are false positives of the base policy
    ("threats made today", 1), ("insults flying", 1), ("doxxing is bad", 0),
    ("cooking tonight", 0), ("a quiet walk", 0), ("threats and insults", 1),
]
DECIDES = {"overview-1": set(), "includes-1": {"item-0"}, "includes-2": {"item-1"}, "includes-3": {"item-2"},
           "excludes-1": {"item-3"}}
"""Which items each clause alone decides (item-5 matches two bullets: no single removal flips it)."""


def golden(items=ITEMS) -> GoldenSet:
    frame = pd.DataFrame({"id": [f"item-{i}" for i in range(len(items))], "text": [t for t, _ in items],
                          "label": [g for _, g in items], "image": None, "category": None})
    return GoldenSet("ablation", golden_set_hash(frame), frame)


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


@pytest.fixture
def stub():
    with StubServer(policy_following(keyword_rule)) as server:
        yield server


def scored_base(store, workspace, endpoint, policy=POLICY, items=ITEMS, threshold=0.5):
    run = create_run(store, policy=make_policy(policy), golden=golden(items), endpoint=endpoint, concurrency=4,
                     threshold=threshold)
    execute_run(store, run.id, endpoint, workspace_root=workspace.root)
    return store.run(run.id)


def test_removing_a_clause_flips_exactly_its_items_and_a_repeat_is_free(store, workspace, stub):
    endpoint = Endpoint(stub.base_url, "stub")
    base = scored_base(store, workspace, endpoint)
    before = len(chat_requests(stub))

    study = create_ablation(store, base, author="ana")
    requests = execute_study(store, study.id, endpoint, workspace_root=workspace.root)

    assert requests == len(chat_requests(stub)) - before == len(DECIDES) * len(ITEMS), "calls = clauses x items"
    report = ablation_report(store, study.id)
    assert [e.clause.id for e in report.effects] == list(DECIDES)
    for effect in report.effects:
        assert set(effect.decided["item_id"]) == DECIDES[effect.clause.id], effect.clause.id
        assert effect.decided["delta_p"].tolist() == pytest.approx([-0.8] * len(effect.decided)), "0.9 to 0.1"
    outcomes = {e.clause.id: e.decided["outcome"].tolist() for e in report.effects if len(e.decided)}
    assert outcomes == {"includes-1": ["broken"], "includes-2": ["broken"], "includes-3": ["fixed"],
                        "excludes-1": ["fixed"]}
    assert report.note == "" and report.rescored == report.scored == len(ITEMS)
    table = report.table()
    assert table.set_index("clause").loc["includes-3", ["fixed", "broken"]].tolist() == [1, 0]
    assert table.set_index("clause").loc["overview-1", ["Δ precision", "Δ recall", "Δ f1"]].tolist() == [0, 0, 0]

    again = create_ablation(store, base)
    assert execute_study(store, again.id, endpoint, workspace_root=workspace.root) == 0
    assert len(chat_requests(stub)) - before == len(DECIDES) * len(ITEMS), "a repeated ablation sends nothing"


def test_metric_deltas_equal_metrics_recomputed_on_the_substituted_scores(store, workspace, stub):
    endpoint = Endpoint(stub.base_url, "stub")
    base = scored_base(store, workspace, endpoint)
    study = create_ablation(store, base, clause_ids=["includes-1", "excludes-1"], items="near", limit=3)
    execute_study(store, study.id, endpoint, workspace_root=workspace.root)
    report = ablation_report(store, study.id)

    full = run_results(store, base.id)
    base_metrics = metrics_at_threshold(full, threshold=base.threshold)
    for effect in report.effects:
        stored = store.predictions(effect.run_id).set_index("item_id")["score"]
        assert len(stored) == 3
        scores = full["item_id"].map(stored).fillna(full["score"])
        expected = metrics_at_threshold(full.assign(score=scores), threshold=base.threshold)
        assert effect.metrics == expected
        for name in ("precision", "recall", "f1"):
            assert effect.delta[name] == pytest.approx(getattr(expected, name) - getattr(base_metrics, name))
    by_id = {e.clause.id: e for e in report.effects}
    # Every base score is 0.9 or 0.1, equally near 0.5: the first three items are taken.
    assert set(by_id["includes-1"].decided["item_id"]) == {"item-0"}
    assert by_id["includes-1"].delta["recall"] == pytest.approx(-1 / 3)
    assert len(by_id["excludes-1"].decided) == 0 and by_id["excludes-1"].delta["precision"] == 0, \
        "item-3 was not rescored, so it is assumed unchanged"
    assert report.note.startswith("Only the 3 of 6 items nearest the threshold were rescored")


def unsure_near_threshold(policy: str, content: str) -> float:
    """keyword_rule, except that items saying "unsure" score just either side of 0.5."""
    score = keyword_rule(policy, content)
    return 0.5 + (score - 0.5) / 8 if "unsure" in content else score


def test_near_threshold_selection_sends_only_those_items(store, workspace):
    items = [("threats sure", 1), ("insults unsure", 0), ("nothing here", 0), ("unsure cooking", 1)]
    with StubServer(policy_following(unsure_near_threshold)) as server:
        endpoint = Endpoint(server.base_url, "stub")
        base = scored_base(store, workspace, endpoint, items=items)
        before = len(chat_requests(server))
        study = create_ablation(store, base, clause_ids=["includes-1", "includes-2"], items="near", limit=2)
        execute_study(store, study.id, endpoint, workspace_root=workspace.root)
        sent = [parse_prompt(body)[1] for body in chat_requests(server)[before:]]

    assert sorted(sent) == sorted(["insults unsure", "unsure cooking"] * 2), "2 clauses x the 2 nearest items"
    assert store.study(study.id).params == {"selection": "near", "limit": 2, "clauses": ["includes-1", "includes-2"],
                                            "items": 2}
    report = ablation_report(store, study.id)
    assert set(report.effects[1].decided["item_id"]) == {"item-1"}, "insults unsure: 0.55 -> 0.45 without includes-2"
    assert report.effects[1].decided["outcome"].tolist() == ["fixed"]


def test_ablation_in_the_background_and_its_refusals(store, workspace, stub):
    endpoint = Endpoint(stub.base_url, "stub")
    base = scored_base(store, workspace, endpoint)
    manager = RunManager(workspace)

    with pytest.raises(ConfigError, match="choose that server"):
        start_study(store, manager, Endpoint("http://127.0.0.1:9/v1", "stub"), ABLATION, base)
    study = start_study(store, manager, endpoint, ABLATION, base, clause_ids=["includes-2"])
    manager.wait(study.id, 60)
    assert manager.error(study.id) is None and study_status(store, store.study(study.id)) == "completed"
    assert set(ablation_report(store, study.id).effects[0].decided["item_id"]) == {"item-1"}

    runs_before = len(store.runs())
    for kwargs, message in [(dict(items="moved"), "Unknown item selection"), (dict(clause_ids=["nope-1"]), "Unknown clause"),
                            (dict(items="near", limit=0), "at least 1")]:
        with pytest.raises(ConfigError, match=message):
            create_ablation(store, base, **kwargs)
    pending = create_run(store, policy=make_policy(POLICY), golden=golden(), endpoint=endpoint)
    with pytest.raises(ConfigError, match="is pending; ablate a completed run"):
        create_ablation(store, pending)
    assert len(store.runs()) == runs_before + 1, "nothing half-created"
    with pytest.raises(ConfigError, match="of kind 'probes', not 'ablation'"):
        ablation_report(store, _probe_study(store, base).id)


def _probe_study(store, base):
    return create_study(store, kind="probes", base_run=base, variants=[Variant("x", "x", "- other\n")])


def test_a_clause_that_is_the_whole_policy_cannot_be_removed(store, workspace, stub):
    base = scored_base(store, workspace, Endpoint(stub.base_url, "stub"), policy="Flag threats of violence.\n")
    with pytest.raises(ConfigError, match="'without preamble-1: Flag threats of violence.' has an empty policy text"):
        create_ablation(store, base)


def test_the_report_waits_for_every_variant(store, workspace, stub):
    endpoint = Endpoint(stub.base_url, "stub")
    base = scored_base(store, workspace, endpoint)
    study = create_ablation(store, base, clause_ids=["includes-1"])
    with pytest.raises(ConfigError, match="is pending; its report is ready when every variant is scored"):
        ablation_report(store, study.id)


@pytest.mark.model
def test_ablation_against_vllm(store, workspace, model_server):
    policy = "# Criteria\n\n#### Includes\n- Threats of violence.\n- Insults about someone.\n- Sharing addresses.\n"
    items = [("I will hurt you", 1), ("you are an idiot", 1), ("her address is 5 Main St", 1),
             ("nice weather", 0), ("I like tea", 0)]
    endpoint = Endpoint(model_server.base_url, model_server.model)
    first = scored_base(store, workspace, endpoint, policy=policy, items=items)
    # The stand-in model's scores sit far from 0.5: decide at their median (a rerun from the
    # cache) so that removing a clause can flip something.
    median = float(store.predictions(first.id)["score"].median())
    base = scored_base(store, workspace, endpoint, policy=policy, items=items, threshold=median)
    study = create_ablation(store, base)
    requests = execute_study(store, study.id, endpoint, workspace_root=workspace.root)

    assert study_status(store, store.study(study.id)) == "completed"
    assert requests == 3 * len(items), "3 clauses x 5 items, nothing cached"
    report = ablation_report(store, study.id)
    base_scores = store.predictions(base.id).set_index("item_id")["score"]
    gold = golden(items).items.set_index("id")["label"].astype(bool)
    for effect in report.effects:
        stored = store.predictions(effect.run_id).set_index("item_id")
        assert stored["error"].isna().all() and stored["cached"].eq(0).all()
        pred, base_pred = stored["score"] >= median, base_scores.reindex(stored.index) >= median
        flipped = set(stored.index[pred != base_pred])
        decided = effect.decided.set_index("item_id")
        assert set(decided.index) == flipped
        assert set(decided.index[decided["outcome"] == "fixed"]) == {i for i in flipped if pred[i] == gold[i]}
        expected = stored["score"] - base_scores.reindex(stored.index)
        assert decided["delta_p"].to_numpy() == pytest.approx(expected.reindex(decided.index).to_numpy())
