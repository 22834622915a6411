"""Change attribution: each hunk of the edit A -> B reverted alone, with a rule-following stub model.

With ``keyword_rule`` an item scores 0.9 while some policy bullet shares a word with it, else
0.1, so reverting a hunk moves exactly the items its old or new bullets decide.
"""

import pandas as pd
import pytest

from cope_eval.app import RunManager, start_study
from cope_eval.errors import ConfigError
from cope_eval.golden import golden_set_hash
from cope_eval.insight import (
    ATTRIBUTION, attribution_candidates, attribution_report, create_attribution, execute_study, study_status
)
from cope_eval.insight._attribution import INTERACTION_NOTE, moved_items, pair_problem
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store
from tests.policy_stub import keyword_rule, parse_prompt, policy_following
from tests.stub_server import StubServer, chat_requests

OLD = "# Criteria\n\n#### Includes\n- Insults about someone.\n- Threats of violence.\n\n#### Excludes\n- Satire pieces.\n"
NEW = "# Criteria\n\n#### Includes\n- Doxxing addresses.\n- Threats of violence.\n- Cooking recipes.\n\n#### Excludes\n"
ITEMS = [("insults everywhere", 1), ("doxxing my neighbour", 1), ("cooking tonight", 0), ("satire column", 0),
         ("threats again", 1), ("satire about cooking", 0)]
MOVES = {"hunk-1": {"item-0": -0.8, "item-1": 0.8}, "hunk-2": {"item-2": 0.8, "item-5": 0.8},
         "hunk-3": {"item-3": -0.8}}
"""ΔP = P_B - P_(B with the hunk reverted) of the items each hunk moves; every other ΔP is 0.
item-5 matches the removed Satire bullet in A and the added Cooking bullet in B: it does not
move from A to B, but reverting the Cooking hunk alone drops it (the hunks interact)."""


def golden() -> GoldenSet:
    frame = pd.DataFrame({"id": [f"item-{i}" for i in range(len(ITEMS))], "text": [t for t, _ in ITEMS],
                          "label": [g for _, g in ITEMS], "image": None, "category": None})
    return GoldenSet("attribution", golden_set_hash(frame), frame)


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


@pytest.fixture
def stub():
    with StubServer(policy_following(keyword_rule)) as server:
        yield server


def two_runs(store, workspace, endpoint, old=OLD, new=NEW):
    a_version = save_version(workspace.root, "harassment", old, note="v1")
    b_version = save_version(workspace.root, "harassment", new, parent=a_version.id, note="v2")
    runs = []
    for version in (a_version, b_version):
        run = create_run(store, policy=version, golden=golden(), endpoint=endpoint, concurrency=4)
        execute_run(store, run.id, endpoint, workspace_root=workspace.root)
        runs.append(store.run(run.id))
    return runs


def test_reverting_a_hunk_moves_exactly_its_items(store, workspace, stub):
    endpoint = Endpoint(stub.base_url, "stub")
    a, b = two_runs(store, workspace, endpoint)
    before = len(chat_requests(stub))

    study = create_attribution(store, a, b)
    assert execute_study(store, study.id, endpoint, workspace_root=workspace.root) == 3 * len(ITEMS)
    assert len(chat_requests(stub)) - before == 3 * len(ITEMS)
    report = attribution_report(store, study.id)

    assert [(e.hunk.id, e.hunk.old_lines, e.hunk.new_lines) for e in report.effects] == [
        ("hunk-1", ("- Insults about someone.",), ("- Doxxing addresses.",)),
        ("hunk-2", (), ("- Cooking recipes.",)),
        ("hunk-3", ("- Satire pieces.",), ())]
    for effect in report.effects:
        moved = effect.items[effect.items["delta_p"].abs() > 1e-9]
        assert dict(zip(moved["item_id"], moved["delta_p"])) == pytest.approx(MOVES[effect.hunk.id]), effect.hunk.id
        assert effect.items["delta_p"].abs().is_monotonic_decreasing, "largest move first"
        assert effect.top(1)["item_id"].tolist() == [next(iter(MOVES[effect.hunk.id]))]

    explained = report.explained.set_index("item_id")
    assert explained.loc["item-0", ["total_move", "explained", "residual", "share"]].tolist() == pytest.approx(
        [-0.8, -0.8, 0.0, 1.0])
    interacting = explained.loc["item-5"]
    assert (interacting["total_move"], interacting["explained"]) == pytest.approx((0.0, 0.8))
    assert interacting["residual"] == pytest.approx(-0.8) and pd.isna(interacting["share"]), "no share of no move"
    assert report.note == INTERACTION_NOTE and report.rescored == report.scored == len(ITEMS)

    again = create_attribution(store, a, b)
    assert execute_study(store, again.id, endpoint, workspace_root=workspace.root) == 0, "served from the cache"


def test_moved_selection_sends_only_the_items_that_moved_most(store, workspace, stub):
    endpoint = Endpoint(stub.base_url, "stub")
    a, b = two_runs(store, workspace, endpoint)
    before = len(chat_requests(stub))
    study = create_attribution(store, a, b, items="moved", limit=4)
    execute_study(store, study.id, endpoint, workspace_root=workspace.root)

    sent = [parse_prompt(body)[1] for body in chat_requests(stub)[before:]]
    assert sorted(sent) == sorted([t for t, _ in ITEMS[:4]] * 3), "items 0-3 moved by 0.8; 4 and 5 not at all"
    report = attribution_report(store, study.id)
    assert report.rescored == 4 and report.note.startswith("Only 4 of the 6 items run B scored were rescored (moved).")
    assert store.study(study.id).params == {"run_a": a.id, "selection": "moved", "limit": 4, "hunks": 3, "items": 4}


def test_moved_items_ranks_by_absolute_move_among_items_both_runs_scored():
    frame = lambda scores, errors=None: pd.DataFrame({  # noqa: E731
        "item_id": list("abcd"), "score": scores, "error": errors or [None] * 4})
    a = frame([0.1, 0.5, 0.9, 0.2], [None, None, None, "boom"])
    b = frame([0.2, 0.1, 0.95, 0.9])
    assert moved_items(a, b, 2) == ["a", "b"]
    assert moved_items(a, b) == ["a", "b", "c"], "d errored in A"
    with pytest.raises(ConfigError, match="at least 1"):
        moved_items(a, b, 0)


def test_pairs_must_differ_in_policy_only_and_candidates_find_the_parent_first(store, workspace, stub):
    endpoint = Endpoint(stub.base_url, "stub")
    a, b = two_runs(store, workspace, endpoint)
    assert pair_problem(a, b) is None
    assert "same policy text" in pair_problem(b, b)
    other_model = create_run(store, policy=store.policy_version(a.policy_version_id), golden=golden(),
                             endpoint=Endpoint(stub.base_url, "other"))
    assert "different models" in pair_problem(other_model, b)
    assert [r.id for r in attribution_candidates(store, b)] == [a.id]
    with pytest.raises(ConfigError, match="different models"):
        create_attribution(store, other_model, b)
    with pytest.raises(ConfigError, match="Unknown item selection 'some'"):
        create_attribution(store, a, b, items="some")
    same_lines = save_version(workspace.root, "harassment", NEW.rstrip("\n"))  # only the final newline differs
    c = create_run(store, policy=same_lines, golden=golden(), endpoint=endpoint)
    execute_run(store, c.id, endpoint, workspace_root=workspace.root)
    with pytest.raises(ConfigError, match="have the same lines"):
        create_attribution(store, store.run(c.id), b)


def test_attribution_in_the_background(store, workspace, stub):
    endpoint = Endpoint(stub.base_url, "stub")
    a, b = two_runs(store, workspace, endpoint)
    manager = RunManager(workspace)
    with pytest.raises(ConfigError, match="choose that server"):
        start_study(store, manager, None, ATTRIBUTION, b, run_a=a)
    study = start_study(store, manager, endpoint, ATTRIBUTION, b, run_a=a, items="near", limit=2)
    manager.wait(study.id, 60)
    assert manager.error(study.id) is None and study_status(store, store.study(study.id)) == "completed"
    assert attribution_report(store, study.id).rescored == 2


@pytest.mark.model
def test_attribution_against_vllm(store, workspace, model_server):
    endpoint = Endpoint(model_server.base_url, model_server.model)
    old = "# Criteria\n\n#### Includes\n- Threats of violence.\n- Insults about someone.\n"
    new = "# Criteria\n\n#### Includes\n- Threats of violence or harm.\n- Insults about someone.\n- Spam links.\n"
    a, b = two_runs(store, workspace, endpoint, old=old, new=new)
    study = create_attribution(store, a, b, items="moved", limit=3)
    assert execute_study(store, study.id, endpoint, workspace_root=workspace.root) == 2 * 3
    report = attribution_report(store, study.id)
    b_scores = store.predictions(b.id).set_index("item_id")["score"]
    for effect in report.effects:
        reverted = store.predictions(effect.run_id).set_index("item_id")["score"]
        expected = b_scores.reindex(reverted.index) - reverted
        got = effect.items.set_index("item_id")["delta_p"].reindex(reverted.index)
        assert got.to_numpy() == pytest.approx(expected.to_numpy())
