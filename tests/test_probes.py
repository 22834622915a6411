"""Probes: one study over the base run's items under the inverted and the off-topic policy, and
a report whose numbers come from the stored predictions."""

import time

import pytest

from cope_eval.app import RunManager, completed_runs, start_study
from cope_eval.errors import ConfigError
from cope_eval.insight import (
    PROBES, create_probe_study, execute_study, probe_items, probe_policy_texts, probe_report,
    probe_table, study_status, threshold_notes
)
from cope_eval.insight._probe_policies import INVERTED, OFF_TOPIC, OFF_TOPIC_POLICY, invert_policy
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.label_reader import ignores_policy, label_reader
from tests.policy_stub import parse_prompt, policy_following
from tests.stub_server import Reply, StubServer, chat_reply, chat_requests

POLICY = ("# Criteria\n\n## Overview\n\nFlags abuse.\n\n## Definition of Label\n\n### Abuse (AB)\n\n"
          "#### Includes\n\n- Threats of violence.\n- Insults aimed at someone.\n\n"
          "#### Excludes\n\n- Quoting abuse to condemn it.\n- Jokes between friends.\n")
KINDS = ["threats again", "insults everywhere", "quoting threats to condemn", "jokes between friends", "a quiet walk"]


def texts(n):
    return [f"{KINDS[i % len(KINDS)]} {i}" for i in range(n)]


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def base_run(store, workspace, server, n=40):
    endpoint = Endpoint(server.base_url, "stub")
    run = create_run(store, policy=make_policy(POLICY), golden=make_golden(texts=texts(n)), endpoint=endpoint)
    execute_run(store, run.id, endpoint, workspace_root=workspace.root)
    return store.run(run.id), endpoint


def probe(store, workspace, base, endpoint, **choice):
    study = create_probe_study(store, base.id, **choice)
    requests = execute_study(store, study.id, endpoint, workspace_root=workspace.root)
    return store.study(study.id), requests


def test_a_policy_following_model_flips_every_decision_and_draws_no_warning(store, workspace):
    with StubServer(policy_following(label_reader)) as server:
        base, endpoint = base_run(store, workspace, server)
        before = len(chat_requests(server))
        study, requests = probe(store, workspace, base, endpoint)
        sent = chat_requests(server)[before:]
        assert len(sent) == requests == 40 * 2, "one request per item per variant"
        assert {parse_prompt(body)[0] for body in sent} == {invert_policy(POLICY), OFF_TOPIC_POLICY}

        again, repeat_requests = probe(store, workspace, base, endpoint)
        assert repeat_requests == 0 and len(chat_requests(server)) == before + 80, "a repeated probe is all cache"

    report = probe_report(store, study)
    assert study.kind == PROBES.name and [m.role for m in study.runs] == [INVERTED, OFF_TOPIC]
    assert study_status(store, study) == "completed" and report.complete
    assert report.items == 40 and report.errors == {INVERTED: 0, OFF_TOPIC: 0}
    assert (report.flip_rate.count, report.flip_rate.n) == (40, 40)
    assert report.flips_to_0 == 16 and report.flips_to_1 == 24, "threats and insults lose the label, the rest gain it"
    assert report.mean_abs_delta == pytest.approx(0.8)
    assert (report.off_topic_flag_rate.count, report.off_topic_flag_rate.n) == (0, 40)
    assert report.base_flag_rate.estimate == pytest.approx(16 / 40)
    assert report.warnings == ()
    assert probe_report(store, again).to_dict() | {"study_id": study.id} == report.to_dict()


def test_a_model_that_ignores_the_policy_is_called_out(store, workspace):
    with StubServer(policy_following(ignores_policy)) as server:
        base, endpoint = base_run(store, workspace, server)
        study, _ = probe(store, workspace, base, endpoint)
    report = probe_report(store, study)
    assert report.flip_rate.count == 0
    codes = [w.code for w in report.warnings]
    assert "weak_flips" in codes and "off_topic_flags" in codes
    weak = next(w.message for w in report.warnings if w.code == "weak_flips")
    assert "barely reacts to inverting the policy" in weak and "wrong template" in weak.lower()


def test_errors_are_counted_per_variant_and_flagged_when_too_many(store, workspace):
    reader = policy_following(label_reader)

    def fails_inverted_quiet_walks(path, body):
        if path.endswith("/chat/completions"):
            policy, content = parse_prompt(body)
            if "Not Abuse" in policy and "quiet walk" in content:
                return Reply(body=chat_reply("The", {"The": -0.1}))  # not a 0/1 answer: an error, not retried
        return reader(path, body)

    with StubServer(reader) as server:
        base, endpoint = base_run(store, workspace, server, n=20)
        server.behaviour = fails_inverted_quiet_walks
        study, _ = probe(store, workspace, base, endpoint)
    report = probe_report(store, study)
    assert report.errors == {INVERTED: 4, OFF_TOPIC: 0} and report.complete
    assert (report.flip_rate.count, report.flip_rate.n) == (16, 16), "errored items are left out, not counted as flips"
    assert report.off_topic_flag_rate.n == 20
    [errors] = [w for w in report.warnings if w.code == "errors"]
    assert "4 of 20 items failed under the inverted policy" in errors.message
    table = probe_table(store, study)
    failed = probe_items(table, "errors")
    assert len(failed) == 4 and failed["flipped"].isna().all() and failed["text"].str.contains("quiet walk").all()
    assert len(probe_items(table, "flipped")) == 16 and probe_items(table, "not flipped").empty
    assert probe_items(table, "flagged off-topic").empty and len(probe_items(table, "all")) == 20
    with pytest.raises(ConfigError, match="Unknown item view"):
        probe_items(table, "everything")


def test_sample_and_near_selections_probe_only_the_chosen_items(store, workspace):
    with StubServer(policy_following(label_reader)) as server:
        base, endpoint = base_run(store, workspace, server, n=30)
        before = len(chat_requests(server))
        study, requests = probe(store, workspace, base, endpoint, selection="sample", limit=7, seed=3)
        assert requests == 14 and len(chat_requests(server)) - before == 14
        near, _ = probe(store, workspace, base, endpoint, selection="near", limit=5)
    assert study.params == {"selection": "sample", "limit": 7, "seed": 3, "items": 7}
    assert probe_report(store, study).items == 7 and probe_report(store, near).items == 5
    assert set(completed_runs(store)) == {base.id}, "variant runs are not offered as base runs"


def test_small_samples_are_not_over_read(store, workspace):
    with StubServer(policy_following(label_reader)) as server:
        base, endpoint = base_run(store, workspace, server, n=6)
        study, _ = probe(store, workspace, base, endpoint)
    report = probe_report(store, study)
    assert report.flip_rate.estimate == 1.0 and report.flip_rate.low == pytest.approx(0.6097, abs=1e-4)
    [uncertain] = report.warnings
    assert uncertain.code == "uncertain" and "off-topic" in uncertain.message and "above 10%" in uncertain.message


def test_an_unfinished_probe_says_so(store, workspace):
    with StubServer(policy_following(label_reader)) as server:
        base, endpoint = base_run(store, workspace, server, n=10)
        study = create_probe_study(store, base.id)
        execute_run(store, study.runs[0].run_id, endpoint, workspace_root=workspace.root)
    report = probe_report(store, store.study(study.id))
    assert not report.complete and report.unscored == {INVERTED: 0, OFF_TOPIC: 10}
    assert report.off_topic_flag_rate.n == 0 and report.flip_rate.n == 10
    assert [w.code for w in report.warnings] == ["unfinished"], "10 of 10 flips: sure enough; no off-topic rate yet"


def test_probes_go_to_the_runs_own_model_only(store, workspace):
    with StubServer(policy_following(label_reader)) as server:
        base, endpoint = base_run(store, workspace, server, n=5)
        manager = RunManager(workspace)
        studies_before = len(store.studies())
        for wrong in (None, Endpoint(server.base_url, "other")):
            with pytest.raises(ConfigError, match="choose that server and model"):
                start_study(store, manager, wrong, PROBES, base)
        assert len(store.studies()) == studies_before, "nothing created for a wrong endpoint"
        study = start_study(store, manager, endpoint, PROBES, base, items="sample", limit=3)
        manager.wait(study.id, 30)
    assert manager.error(study.id) is None and probe_report(store, study).flip_rate.n == 3
    with pytest.raises(ConfigError, match="Unknown item selection"):
        create_probe_study(store, base.id, selection="every")


def test_policy_texts_and_threshold_notes_name_the_limits(store, workspace):
    with StubServer(policy_following(label_reader)) as server:
        base, endpoint = base_run(store, workspace, server, n=5)
        study = create_probe_study(store, base.id)
    texts_by_label = probe_policy_texts(store, study)
    assert list(texts_by_label.values()) == [invert_policy(POLICY), OFF_TOPIC_POLICY]
    notes = " ".join(threshold_notes())
    assert "50%" in notes and "10%" in notes and "5%" in notes and "Wilson" in notes


def test_probes_against_vllm_match_the_stored_predictions(store, workspace, model_server):
    endpoint = Endpoint(model_server.base_url, model_server.model)
    run = create_run(store, policy=make_policy(POLICY), golden=make_golden(texts=texts(6)), endpoint=endpoint)
    execute_run(store, run.id, endpoint, workspace_root=workspace.root)
    started = time.perf_counter()
    study = create_probe_study(store, run.id)
    execute_study(store, study.id, endpoint, workspace_root=workspace.root)
    elapsed = time.perf_counter() - started
    study = store.study(study.id)
    assert study_status(store, study) == "completed"
    report = probe_report(store, study)

    threshold = store.run(run.id).threshold
    base = store.predictions(run.id).set_index("item_id")
    inverted, off_topic = (store.predictions(m.run_id).set_index("item_id") for m in study.runs)
    scored = inverted[inverted["error"].isna()].index
    flips = sum((base.loc[i, "score"] >= threshold) != (inverted.loc[i, "score"] >= threshold) for i in scored)
    flagged = int((off_topic.loc[off_topic["error"].isna(), "score"] >= threshold).sum())
    assert (report.flip_rate.count, report.flip_rate.n) == (flips, len(scored))
    off_topic_scored = int(off_topic["error"].isna().sum())
    assert (report.off_topic_flag_rate.count, report.off_topic_flag_rate.n) == (flagged, off_topic_scored)
    assert report.errors == {INVERTED: len(inverted) - len(scored), OFF_TOPIC: len(off_topic) - off_topic_scored}
    print(f"\nvLLM probe: 6 items x 2 variants in {elapsed:.1f} s; flips {flips}/{len(scored)}, "
          f"off-topic flags {flagged}; warnings {[w.code for w in report.warnings]}")
