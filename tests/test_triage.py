"""Error triage: confident disagreements, tags that survive relabels and new versions, label
errors into the relabeling flow (all or nothing), the policy-gap checklist; end to end on vLLM."""

from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest

from cope_eval.errors import ConfigError, NotFoundError, ValidationError
from cope_eval.golden import correct_label, load_golden_set
from cope_eval.insight import (
    _triage as triage_module, mark_gap_done, policy_gaps, send_label_errors_to_relabeling, tag_item,
    triage_run, untag_item
)
from cope_eval.insight._triage import disagreements
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store, run_results
from tests.conftest import REPO_ROOT
from tests.factories import make_golden, make_policy
from tests.fault_proxy import FaultProxy

V1 = "# Criteria\n\n#### Includes\n- Threats of violence.\n"
V2 = V1 + "- Praise of attacks.\n"
# Gold labels of make_golden are i % 2: 0, 1, 0, 1, 0, 1, 0, 1, 0. Item 5 errors, item 8 is never scored.
SCORES = [0.95, 0.10, 0.85, 0.70, 0.60, None, 0.05, 0.12]
# By hand, at threshold 0.5: item 0 FP 0.95, item 1 FN 0.90, item 7 FN 0.88, item 2 FP 0.85, item 4 FP 0.60.
CONFIDENT = [("item-00000", "FP", 0.95), ("item-00001", "FN", 0.90), ("item-00007", "FN", 0.88),
             ("item-00002", "FP", 0.85)]


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def scored_run(store, golden, scores, *, text=V1, slug="violence", template="cope-b", threshold=0.5):
    """A completed run with these scores (None: the item errored; past the list: never scored)."""
    run = create_run(store, policy=make_policy(text, slug), golden=golden, template=template, threshold=threshold,
                     endpoint=Endpoint("http://127.0.0.1:9/v1", "m"), concurrency=4)
    rows = [(item, s, None, "", None if s is not None else "HTTP 500", 1.0, 0)
            for item, s in zip(golden.items["id"], scores)]
    store.add_predictions(run.id, rows)
    store.mark_run(run.id, "completed")
    return run


def listed(triage):
    return [(r.item_id, r.kind, round(r.confidence, 6)) for r in triage.items.itertuples()]


def test_disagreements_are_confident_misses_most_confident_first(store):
    run = scored_run(store, make_golden(9), SCORES)

    triage = triage_run(store, run.id)

    assert listed(triage) == CONFIDENT
    assert triage.items["text"].tolist() == [f"post number {i}" for i in (0, 1, 7, 2)]
    assert triage.items["category"].tolist() == ["a", "b", "b", "a"]
    assert (triage.scored, triage.left_out, triage.disagreeing) == (7, 2, 5), "the errored and unscored items"
    assert "4 disagreement(s) (2 FP, 2 FN) among 7 scored item(s)" in triage.note
    assert "1 less confident than 0.8 not shown" in triage.note and "2 errored or unscored" in triage.note
    assert listed(triage_run(store, run.id, min_confidence=0.6)) == CONFIDENT + [("item-00004", "FP", 0.6)]
    assert listed(triage_run(store, run.id, min_confidence=0.99)) == []
    frame = run_results(store, run.id)  # as a page's cache holds it: used as given, left unchanged
    assert listed(triage_run(store, run.id, results=frame)) == CONFIDENT and frame.equals(run_results(store, run.id))


def test_disagreements_on_a_bare_frame_and_its_input_checks():
    frame = pd.DataFrame({"item_id": ["b", "a", "c", "d"], "label": [0, 0, 1, 1], "score": [0.9, 0.9, 0.2, np.nan],
                          "error": [None, None, None, "timeout"]})
    out = disagreements(frame, 0.5, min_confidence=0.8)
    assert out[["item_id", "kind", "confidence"]].values.tolist() == [["a", "FP", 0.9], ["b", "FP", 0.9],
                                                                      ["c", "FN", 0.8]], "ties by item id"
    assert list(out.columns) == ["item_id", "kind", "label", "score", "confidence", "category"]
    assert disagreements(frame, 0.95, min_confidence=0.0)["kind"].tolist() == ["FN"], "FPs below 0.95 are 0s now"
    for bad in (dict(min_confidence=1.5), dict(min_confidence=-0.1)):
        with pytest.raises(ConfigError, match="Minimum confidence must be a number from 0 to 1"):
            disagreements(frame, 0.5, **bad)
    with pytest.raises(ConfigError, match="Threshold must be a number from 0 to 1"):
        disagreements(frame, 2.0)


def test_a_hard_label_run_lists_every_disagreement_and_says_so(store):
    run = scored_run(store, make_golden(6), [1.0, 0.0, 0.0, 1.0, 1.0, 1.0], template="safeguard")

    triage = triage_run(store, run.id, min_confidence=0.99)

    assert triage.hard_label
    assert listed(triage) == [("item-00000", "FP", 1.0), ("item-00001", "FN", 1.0), ("item-00004", "FP", 1.0)]
    assert "hard-label run gives no probabilities, so every disagreement is listed" in triage.note


def test_tag_retag_and_withdraw_keep_history(store):
    run = scored_run(store, make_golden(9), SCORES)
    first = tag_item(store, run.id, "item-00000", "policy_gap", note="quotes of threats", author="ana")
    second = tag_item(store, run.id, "item-00000", "label_error", note="it is a threat", author="bo")

    [row] = triage_run(store, run.id).items.query("item_id == 'item-00000'").itertuples()
    assert (row.tag, row.note, row.tag_author, row.tag_status, row.tag_id) == (
        "label_error", "it is a threat", "bo", "open", second.id)
    assert (second.gold_label, second.score, second.text, second.run_id) == (0, 0.95, "post number 0", run.id)
    history = store.triage_tag_history(second.policy, second.lineage, "item-00000")
    assert history[["id", "tag", "author"]].values.tolist() == [[first.id, "policy_gap", "ana"],
                                                                [second.id, "label_error", "bo"]]
    assert history["replaced"].notna().tolist() == [True, False]

    assert untag_item(store, run.id, "item-00000") and not untag_item(store, run.id, "item-00000")
    assert triage_run(store, run.id).items["tag"].isna().all()
    assert store.triage_tag_history(second.policy, second.lineage, "item-00000")["replaced"].notna().all(), \
        "withdrawn, still in history"


@pytest.mark.parametrize("item, tag, note, error, message", [
    ("item-00003", "policy_gap", "", ConfigError, "agrees with the gold label"),
    ("item-00005", "policy_gap", "", ConfigError, "has no score"),
    ("item-00008", "policy_gap", "", ConfigError, "has no score"),
    ("nope", "policy_gap", "", NotFoundError, "has no item 'nope'"),
    ("item-00000", "label_error", "  ", ConfigError, "needs a note"),
    ("item-00000", "typo", "", ConfigError, "choose one of policy_gap, label_error"),
])
def test_only_scored_disagreements_can_be_tagged(store, item, tag, note, error, message):
    run = scored_run(store, make_golden(9), SCORES)
    with pytest.raises(error, match=message):
        tag_item(store, run.id, item, tag, note=note)
    assert store.triage_tags("violence").empty


def test_label_errors_become_label_corrections_with_history_and_resolve_their_tags(store):
    golden = make_golden(9)
    run = scored_run(store, golden, SCORES)
    fp = tag_item(store, run.id, "item-00000", "label_error", note="a real threat", author="ana")
    fn = tag_item(store, run.id, "item-00001", "label_error", note="sarcasm", author="bo")
    gap = tag_item(store, run.id, "item-00002", "policy_gap", note="threats to property?", author="ana")
    assert triage_run(store, run.id).open_label_errors == 2

    done = send_label_errors_to_relabeling(store, run.id, author="cy")

    labels = done.golden.items.set_index("id")["label"]
    assert (labels["item-00000"], labels["item-00001"]) == (1, 0)
    assert done.changes[["item_id", "old_label", "new_label", "tag_id"]].values.tolist() == [
        ["item-00000", 0, 1, fp.id], ["item-00001", 1, 0, fn.id]]
    history = store.label_history(done.golden.hash)
    assert history[["item_id", "old_label", "new_label", "author"]].values.tolist() == [
        ["item-00000", 0, 1, "cy"], ["item-00001", 1, 0, "cy"]]
    assert history["reason"][0].startswith(f"a real threat (error triage: run {run.id} scored it 0.950 against gold 0")
    assert "tagged label error by ana" in history["reason"][0]
    resolved = store.triage_tag(fn.id)
    assert (resolved.status, resolved.done_by, resolved.resolved_hash) == ("done", "cy", done.golden.hash)
    assert store.triage_tag(fp.id).resolved_hash == done.changes["golden_hash"][0] != done.golden.hash
    assert store.triage_tag(gap.id).status == "open", "policy gaps are not relabeled"
    assert store.golden_set(run.golden_hash).items.equals(golden.items), "the run's own set is unchanged"
    assert triage_run(store, run.id).open_label_errors == 0
    with pytest.raises(ConfigError, match="no open label-error tags"):
        send_label_errors_to_relabeling(store, run.id, author="cy")


def test_one_invalid_label_error_changes_nothing(store):
    golden = make_golden(9)
    run = scored_run(store, golden, SCORES)
    tags = [tag_item(store, run.id, item, "label_error", note="wrong", author="ana")
            for item in ("item-00000", "item-00001", "item-00002")]
    fixed = correct_label(store, golden.hash, "item-00001", 0, author="dee", reason="fixed by hand meanwhile")
    before = store.golden_sets()

    with pytest.raises(ValidationError, match=r"1 of 3 label-error tag\(s\) cannot be applied, so no label was "
                                              r"changed.*'item-00001'.*already labeled 0"):
        send_label_errors_to_relabeling(store, run.id, author="cy")

    assert store.golden_sets().equals(before), "no new golden version"
    assert store.label_history(fixed.hash)["author"].tolist() == ["dee"]
    assert [store.triage_tag(t.id).status for t in tags] == ["open"] * 3


def test_a_failure_while_writing_rolls_every_correction_back(store, monkeypatch):
    golden = make_golden(9)
    run = scored_run(store, golden, SCORES)
    tags = [tag_item(store, run.id, item, "label_error", note="wrong", author="ana")
            for item in ("item-00000", "item-00001")]
    real, calls = triage_module.correct_label, []

    def second_one_fails(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(triage_module, "correct_label", second_one_fails)
    with pytest.raises(OSError):
        send_label_errors_to_relabeling(store, run.id, author="cy")

    assert calls == ["item-00000", "item-00001"]
    assert store.golden_sets()["hash"].tolist() == [golden.hash], "the first correction was rolled back"
    assert [store.triage_tag(t.id).status for t in tags] == ["open", "open"]
    assert store.integrity_ok()


def test_corrections_continue_from_the_newest_version_and_refuse_a_branch(store):
    golden = make_golden(9)
    run = scored_run(store, golden, SCORES)
    tag_item(store, run.id, "item-00000", "label_error", note="wrong", author="ana")
    by_hand = correct_label(store, golden.hash, "item-00003", 0, author="dee", reason="by hand")

    done = send_label_errors_to_relabeling(store, run.id, author="cy")
    assert store.golden_sets().set_index("hash").loc[done.golden.hash, "parent_hash"] == by_hand.hash
    assert store.label_history(done.golden.hash)["item_id"].tolist() == ["item-00003", "item-00000"]

    correct_label(store, by_hand.hash, "item-00006", 1, author="dee", reason="a branch")
    tag_item(store, run.id, "item-00002", "label_error", note="wrong too", author="ana")
    with pytest.raises(ConfigError, match="branch apart"):
        send_label_errors_to_relabeling(store, run.id, author="cy")
    explicit = send_label_errors_to_relabeling(store, run.id, author="cy", golden_hash=done.golden.hash)
    assert explicit.changes["item_id"].tolist() == ["item-00002"]
    with pytest.raises(ConfigError, match="needs|author"):
        send_label_errors_to_relabeling(store, run.id, author=" ")


def test_policy_gap_checklist_open_and_done(store):
    run = scored_run(store, make_golden(9), SCORES)
    a = tag_item(store, run.id, "item-00000", "policy_gap", note="quoted threats", author="ana")
    b = tag_item(store, run.id, "item-00001", "policy_gap", note="coded threats", author="bo")
    error = tag_item(store, run.id, "item-00002", "label_error", note="wrong", author="bo")

    gaps = policy_gaps(store, "violence")
    assert gaps[["id", "status", "note", "item_id", "text", "run_id", "policy_version_id"]].values.tolist() == [
        [a.id, "open", "quoted threats", "item-00000", "post number 0", run.id, run.policy_version_id],
        [b.id, "open", "coded threats", "item-00001", "post number 1", run.id, run.policy_version_id]]

    mark_gap_done(store, a.id, author="cy")
    gaps = policy_gaps(store, "violence")
    assert gaps[["id", "status"]].values.tolist() == [[b.id, "open"], [a.id, "done"]]
    assert gaps["done_by"].fillna("").tolist() == ["", "cy"] and gaps["done"].notna().tolist() == [False, True]
    mark_gap_done(store, a.id, done=False)
    assert policy_gaps(store, "violence")["status"].tolist() == ["open", "open"]
    with pytest.raises(ConfigError, match="is a label error, not a policy gap"):
        mark_gap_done(store, error.id)
    with pytest.raises(NotFoundError):
        mark_gap_done(store, 999)
    assert policy_gaps(store, "spam").empty


def test_tags_survive_a_relabel_and_the_next_policy_version_but_not_another_policy(store):
    golden = make_golden(9)
    run = scored_run(store, golden, SCORES)
    gap = tag_item(store, run.id, "item-00002", "policy_gap", note="threats to property?", author="ana")
    error = tag_item(store, run.id, "item-00000", "label_error", note="a real threat", author="ana")
    relabeled = send_label_errors_to_relabeling(store, run.id, author="cy").golden

    # The next version of the policy, scored on the relabeled set: item 0 now agrees (gold 1).
    next_run = scored_run(store, relabeled, [0.96, 0.10, 0.90, 0.70, 0.20, 0.30, 0.05, 0.12], text=V2)
    triage = triage_run(store, next_run.id)
    assert triage.lineage == store.golden_lineage(golden.hash) == golden.hash
    tagged = triage.items.set_index("item_id")
    assert tagged.loc["item-00002", ["tag", "tag_id", "tag_status"]].tolist() == ["policy_gap", gap.id, "open"]
    assert "item-00000" not in tagged.index
    assert store.triage_tag(error.id).status == "done"
    assert policy_gaps(store, "violence")["id"].tolist() == [gap.id]

    other = scored_run(store, relabeled, [0.96, 0.10, 0.90], text="# Insults\n- Name-calling.\n", slug="harassment")
    assert triage_run(store, other.id).items["tag"].isna().all(), "tags belong to their policy"
    fresh = scored_run(store, make_golden(texts=[f"post number {i}" for i in range(8)] + ["new"]), SCORES)
    assert triage_run(store, fresh.id).items["tag"].isna().all(), "a set uploaded anew starts untagged"


@pytest.mark.model
def test_end_to_end_on_vllm_triage_tag_relabel_and_the_relabeled_set_is_served_from_cache(
        model_server, workspace, capsys):
    from cope_eval.cli import main

    sample = pd.read_csv(REPO_ROOT / "golden_sets" / "openai-moderation" / "mixed.csv")
    sample.groupby("label").head(4).to_csv(workspace.root / "eight.csv", index=False)  # 4 of each label
    golden = load_golden_set(workspace.root / "eight.csv", workspace.root).golden_set
    target = urlsplit(model_server.base_url)
    with FaultProxy(target.hostname, target.port) as proxy, Store(workspace.private_dir) as store:
        endpoint = Endpoint(proxy.base_url, model_server.model)
        options = dict(policy=make_policy(V1), endpoint=endpoint, answer_mode="constrained", concurrency=4)
        run = create_run(store, golden=golden, **options)
        execute_run(store, run.id, endpoint, workspace_root=workspace.root)
        assert proxy.calls() == 8
        # The stand-in's judgement is noise: work from what the store says it answered.
        results = run_results(store, run.id)
        assert results["error"].isna().all()
        score, gold = results["score"].to_numpy(), results["label"].to_numpy()
        if ((score >= 0.5) != (gold == 1)).sum() < 2:  # too few misses at 0.5: a threshold that makes some
            run = create_run(store, golden=golden, threshold=0.0, **options)  # every gold-0 item is a FP
            execute_run(store, run.id, endpoint, workspace_root=workspace.root)
            assert proxy.calls() == 8, "same policy, same texts: all from the cache"
        said_one = score >= store.run(run.id).threshold
        wrong = said_one != (gold == 1)
        confidence = np.where(said_one, score, 1 - score)
        floor = float(np.sort(confidence[wrong])[-2])  # the two most confident misses (and any tied)
        expected = sorted((-c, item) for c, item in zip(confidence[wrong], results["item_id"][wrong]) if c >= floor)

        assert main(["triage", run.id, "--min-confidence", str(floor), "--json"]) == 0
        listing = __import__("json").loads(capsys.readouterr().out)
        assert [i["item_id"] for i in listing["items"]] == [item for _, item in expected]
        top, second = listing["items"][:2]
        assert main(["triage", "tag", run.id, top["item_id"], "--label-error", "--note", "gold is wrong",
                     "--author", "ana"]) == 0
        assert main(["triage", "tag", run.id, second["item_id"], "--gap", "--note", "not covered"]) == 0
        assert main(["triage", "relabel", run.id, "--author", "bo"]) == 0
        capsys.readouterr()

        [new_hash] = store.golden_leaves(golden.hash)
        [change] = store.label_history(new_hash).itertuples()
        assert (change.item_id, change.old_label, change.new_label, change.author) == (
            top["item_id"], top["label"], 1 - top["label"], "bo")
        assert change.reason.startswith(f"gold is wrong (error triage: run {run.id} scored it {top['score']:.3f}")
        rerun = create_run(store, golden=store.golden_set(new_hash), threshold=store.run(run.id).threshold, **options)
        execute_run(store, rerun.id, endpoint, workspace_root=workspace.root)
        assert proxy.calls() == 8, "a relabel changes no text: every answer is cached"
        assert store.prediction_counts(rerun.id) == (8, 0, 8)
        after = triage_run(store, rerun.id, min_confidence=floor)
        assert top["item_id"] not in set(after.items["item_id"]), "the corrected item agrees now"
        assert after.items.set_index("item_id").loc[second["item_id"], "tag"] == "policy_gap"

        assert main(["triage", "gaps", "violence"]) == 0
        assert "1 open, 0 done" in capsys.readouterr().out
