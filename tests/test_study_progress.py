"""A study's progress from the store: counts over every variant, live status from the manager."""

import threading

from cope_eval.app import RunManager, run_view, study_choices, study_view
from cope_eval.insight import PROBES
from cope_eval.insight._studies import Variant, create_study
from cope_eval.records import Endpoint
from cope_eval.scoring import execute_run
from cope_eval.store import Store
from tests.policy_stub import keyword_rule, policy_following
from tests.stub_server import StubServer
from tests.test_studies import POLICY, base_run


def test_progress_counts_every_variant_and_survives_a_new_manager(workspace):
    with StubServer(policy_following(keyword_rule)) as server, Store(workspace.private_dir) as store:
        base, endpoint = base_run(store, workspace, server)
        variants = [Variant("a", "A", POLICY + "- Extra.\n"), Variant("b", "B", "# Criteria\n")]
        study = create_study(store, kind="probes", base_run=base, variants=variants, item_ids=["item-00000", "item-00002"])
        manager = RunManager(workspace)

        view = study_view(store, manager, study.id)
        assert (view.status, view.done, view.total, view.fraction, view.active) == ("pending", 0, 4, 0.0, False)

        execute_run(store, study.runs[0].run_id, endpoint, workspace_root=workspace.root)
        view = study_view(store, manager, study.id)
        assert (view.done, view.fraction, view.summary()) == (2, 0.5, "2 / 4 scores · 0 errors")

        assert manager.start_study(study.id, Endpoint(server.base_url, "stub"))
        manager.wait(study.id, 30)
        view = study_view(store, RunManager(workspace), study.id)
    assert (view.status, view.done, view.failure) == ("completed", 4, None)


def test_a_variant_run_this_app_is_starting_shows_running_as_on_the_evaluate_page(workspace):
    """A worker of the app has started a variant run (not yet claimed in the store, or claimed and
    waiting on a slow server). The runs table says running, and so must the study: one rule,
    ``RunManager.status``."""
    held = threading.Event()
    answer = policy_following(keyword_rule)

    def slow(path, body):
        if "chat" in path:
            held.wait(30)
        return answer(path, body)

    with StubServer(slow) as server, Store(workspace.private_dir) as store:
        held.set()
        base, endpoint = base_run(store, workspace, server)
        held.clear()
        study = create_study(store, kind="probes", base_run=base, item_ids=["item-00000"],
                             variants=[Variant("a", "A", POLICY + "- Extra.\n")])
        variant = study.runs[0].run_id
        manager = RunManager(workspace)
        assert study_view(store, manager, study.id).status == "pending"
        try:
            manager.start(variant, endpoint)
            assert run_view(store, manager, variant).status == "running"
            assert study_view(store, manager, study.id).status == "running"
            assert study_choices(store, manager, PROBES, base.id)[study.id].endswith("variants · running")
        finally:
            held.set()
            assert manager.wait(variant, 60) == 0
