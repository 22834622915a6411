"""Studies: variant runs over chosen items through the ordinary runner, store and cache."""

import pandas as pd
import pytest

from cope_eval.app import RunManager, runs_overview, scored_runs
from cope_eval.errors import ConfigError
from cope_eval.insight import ABLATION, ATTRIBUTION, PROBES, execute_study, study_status
from cope_eval.insight._kinds import load_study
from cope_eval.insight._studies import Variant, create_study, select_items, subset
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store, effective_status
from tests.factories import make_golden, make_policy
from tests.policy_stub import keyword_rule, parse_prompt, policy_following
from tests.stub_server import StubServer, chat_requests

POLICY = "# Criteria\n\n#### Includes\n- Threats of violence.\n- Insults about someone.\n"
TEXTS = ["threats everywhere", "an insults contest", "a quiet walk", "violence and threats", "nothing here"]


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def base_run(store, workspace, server, texts=TEXTS):
    endpoint = Endpoint(server.base_url, "stub")
    run = create_run(store, policy=make_policy(POLICY), golden=make_golden(texts=texts), endpoint=endpoint,
                     concurrency=2)
    execute_run(store, run.id, endpoint, workspace_root=workspace.root)
    return store.run(run.id), endpoint


def results(ids, scores, errors=None):
    return pd.DataFrame({"item_id": ids, "score": scores, "error": errors or [None] * len(ids)})


def test_select_items_all_sample_and_near():
    frame = results(list("abcdef"), [0.1, 0.45, 0.9, None, 0.52, 0.7], [None, None, None, "boom", None, None])
    assert select_items(frame, "all") == ["a", "b", "c", "e", "f"], "errored items are never selected"
    assert select_items(frame, "near", threshold=0.5, limit=2) == ["b", "e"]
    sample = select_items(frame, "sample", limit=3, seed=7)
    assert len(sample) == 3 and set(sample) <= {"a", "b", "c", "e", "f"}
    assert select_items(frame, "sample", limit=3, seed=7) == sample, "same seed, same items (cache hits)"
    assert select_items(frame, "near", limit=50) == ["a", "b", "c", "e", "f"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(selection="closest"), "Unknown item selection"),
    (dict(selection="near", limit=0), "at least 1"),
])
def test_select_items_rejects_bad_requests(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        select_items(results(["a"], [0.5]), **kwargs)


def test_select_items_needs_a_scored_item():
    with pytest.raises(ConfigError, match="no scored items"):
        select_items(results(["a"], [None], ["boom"]))


def test_subset_has_its_own_hash_and_rejects_unknown_ids():
    golden = make_golden(6)
    part = subset(golden, ["item-00001", "item-00004"], why="near")
    assert list(part.items["id"]) == ["item-00001", "item-00004"] and part.hash != golden.hash
    assert subset(golden, golden.items["id"], why="all") is golden
    with pytest.raises(ConfigError, match="not in golden set"):
        subset(golden, ["item-00001", "nope"], why="near")


def test_study_scores_each_variant_over_the_chosen_items_and_the_cache_makes_a_repeat_free(store, workspace):
    with StubServer(policy_following(keyword_rule)) as server:
        base, endpoint = base_run(store, workspace, server)
        before = len(chat_requests(server))
        without_threats = POLICY.replace("- Threats of violence.\n", "")
        variants = [Variant("without:1", "without Threats", without_threats),
                    Variant("empty", "no bullets", "# Criteria\n")]
        ids = ["item-00000", "item-00001", "item-00003"]
        study = create_study(store, kind="ablation", base_run=base, variants=variants, item_ids=ids,
                             params={"why": "test"}, author="ana")
        assert study_status(store, study) == "pending"
        execute_study(store, study.id, endpoint, workspace_root=workspace.root)
        sent = chat_requests(server)[before:]
        assert len(sent) == 2 * len(ids), "one request per item per variant, nothing more"
        assert {parse_prompt(body)[0] for body in sent} == {without_threats, "# Criteria\n"}

        again = create_study(store, kind="ablation", base_run=base, variants=variants, item_ids=ids)
        assert execute_study(store, again.id, endpoint, workspace_root=workspace.root) == 0
        assert len(chat_requests(server)) == before + 2 * len(ids), "a repeated study is served from the cache"

    stored = store.study(study.id)
    assert stored.params == {"why": "test", "items": 3} and stored.author == "ana"
    assert [r.role for r in stored.runs] == ["without:1", "empty"]
    assert study_status(store, stored) == "completed"
    for member in stored.runs:
        run = store.run(member.run_id)
        assert (run.model, run.template, run.threshold, run.n_items) == (base.model, base.template, base.threshold, 3)
    data = load_study(store, stored)
    scores = {role: dict(zip(frame["item_id"], frame["score"])) for role, frame in data.variants.items()}
    assert scores["without:1"]["item-00000"] == pytest.approx(0.1), "the removed bullet decided this item"
    assert scores["without:1"]["item-00001"] == pytest.approx(0.9), "the other bullet still decides this one"
    assert list(data.base["item_id"]) == ids and len(data.base_all) == len(TEXTS)
    assert set(scored_runs(store)) == {base.id}, "variants stay out of the Compare page's run list"
    overview = runs_overview(store, RunManager(workspace))
    assert overview["run"].tolist() == [base.id], "and out of the Evaluate page's run list"


def test_study_rejects_bad_variants(store, workspace):
    with StubServer(policy_following(keyword_rule)) as server:
        base, _ = base_run(store, workspace, server)
    runs_before = len(store.runs())
    for variants, message in [([], "at least one"), ([Variant("a", "A", "x"), Variant("a", "B", "y")], "unique"),
                              ([Variant("a", "A", "  \n")], "empty policy text")]:
        with pytest.raises(ConfigError, match=message):
            create_study(store, kind="probes", base_run=base, variants=variants)
    assert len(store.runs()) == runs_before, "nothing half-created"


@pytest.mark.parametrize("kind", [PROBES, ABLATION, ATTRIBUTION], ids=lambda kind: kind.name)
def test_every_kind_checks_its_selection_in_the_one_scaffold_before_creating_anything(store, workspace, kind):
    with StubServer(policy_following(keyword_rule)) as server:
        base, _ = base_run(store, workspace, server)
    runs_before = len(store.runs())
    choices = ", ".join(kind.selections)
    with pytest.raises(ConfigError, match=rf"Unknown item selection 'every' for {kind.noun}; "
                                          rf"choose one of {choices}\."):
        kind.create(store, base, items="every")
    assert len(store.runs()) == runs_before and store.studies() == [], "nothing half-created"


def test_study_in_the_background_resumes_where_it_stopped(store, workspace):
    with StubServer(policy_following(keyword_rule)) as server:
        base, endpoint = base_run(store, workspace, server, texts=[f"threats {i}" for i in range(40)])
        variants = [Variant(f"v{i}", f"variant {i}", POLICY + f"- Extra clause {i}.\n") for i in range(3)]
        study = create_study(store, kind="ablation", base_run=base, variants=variants)
        manager = RunManager(workspace)
        before = len(chat_requests(server))
        execute_run(store, study.runs[0].run_id, endpoint, workspace_root=workspace.root)  # as if stopped after one
        assert manager.start_study(study.id, endpoint) is True
        assert manager.wait(study.id, 60) == 0 and manager.error(study.id) is None
        assert [effective_status(store.run(m.run_id)) for m in study.runs] == ["completed"] * 3
        assert len(chat_requests(server)) - before == 3 * 40, "each item once per variant, resumed or not"
    assert study_status(store, store.study(study.id)) == "completed"


def test_study_against_vllm(store, workspace, model_server):
    endpoint = Endpoint(model_server.base_url, model_server.model)
    run = create_run(store, policy=make_policy(POLICY), golden=make_golden(texts=TEXTS), endpoint=endpoint)
    execute_run(store, run.id, endpoint, workspace_root=workspace.root)
    study = create_study(store, kind="probes", base_run=store.run(run.id),
                         variants=[Variant("off-topic", "off-topic", "# Criteria\n\n#### Includes\n- Chess moves.\n")])
    execute_study(store, study.id, endpoint, workspace_root=workspace.root)
    frame = load_study(store, store.study(study.id)).variants["off-topic"]
    assert len(frame) == len(TEXTS) and frame["error"].isna().all()
    assert frame["score"].between(0, 1).all()
