"""The runs the Compare and Export pages offer, their names, and the default pair."""

from cope_eval.app import RunInfo, default_pair, scored_runs
from cope_eval.records import Endpoint, Run
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy

GOLDEN = make_golden(8)


def test_scored_runs_lists_runs_with_predictions_and_names_them(workspace):
    with Store(workspace.private_dir) as store:
        empty = create_run(store, policy=make_policy(), golden=GOLDEN, endpoint=Endpoint("http://h/v1", "m"))
        hard = create_run(store, policy=make_policy(), golden=GOLDEN, endpoint=Endpoint("http://h/v1", "m"),
                          template="safeguard")
        store.add_predictions(hard.id, [("item-00000", 1.0, 1, "1", None, 1.0, 0)])
        runs = scored_runs(store)
    assert list(runs) == [hard.id] and empty.id not in runs
    info = runs[hard.id]
    assert info.hard_label and info.stored == 1
    # a version the workspace does not hold: no "v" label, the policy and hash name it
    assert info.name == f"violence ({hard.policy_version_id[7:15]}) · run {hard.id[-6:]}"


def test_default_pair_puts_the_older_policy_version_first():
    def info(run_id, created, version_created):
        run = Run(run_id, "sha256:x", "sha256:g", "http://h/v1", "m", "cope-b", "logprobs", 0.5, 1, "completed", 8,
                  created=created)
        return RunInfo(run, run_id, 8, 1, False, version_created)

    newest_first = {"r3": info("r3", "2026-03-01", "2026-01-01"), "r2": info("r2", "2026-02-01", "2026-02-01"),
                    "r1": info("r1", "2026-01-01", "2025-01-01")}
    assert default_pair(newest_first) == ["r3", "r2"]  # r3 scored the older version: it is A
    same_version = {"r3": info("r3", "2026-03-01", "v"), "r2": info("r2", "2026-02-01", "v")}
    assert default_pair(same_version) == ["r2", "r3"]
    assert default_pair({"r1": newest_first["r1"]}) == ["r1"]
