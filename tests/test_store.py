"""The SQLite store: migrations, WAL, one prediction per item, snapshots."""

import sqlite3

import pytest

from cope_eval.errors import NotFoundError
from cope_eval.records import Endpoint, Run, Study, StudyRun
from cope_eval.scoring import create_run
from cope_eval.store import Store
from cope_eval.store._schema import MIGRATIONS
from tests.factories import make_golden, make_policy


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def test_migrations_are_recorded_once_and_wal_is_on(workspace, store):
    assert store.migrations() == [name for name, _ in MIGRATIONS]
    Store(workspace.private_dir).close()  # reopening applies nothing twice
    raw = sqlite3.connect(store.path)
    assert raw.execute("SELECT COUNT(*) FROM migrations").fetchone()[0] == len(MIGRATIONS)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.integrity_ok()


def test_a_second_prediction_for_an_item_is_refused_and_nothing_of_the_batch_is_kept(store):
    run = create_run(store, policy=make_policy(), golden=make_golden(3), endpoint=Endpoint("http://h/v1", "m"))
    row = ("item-00000", 0.9, 1, "1", None, 5.0, 0)
    store.add_predictions(run.id, [row])
    with pytest.raises(sqlite3.IntegrityError):
        store.add_predictions(run.id, [("item-00001", 0.2, 0, "0", None, 5.0, 0), row])
    assert store.predictions(run.id)["item_id"].tolist() == ["item-00000"]


def test_foreign_keys_are_enforced(store):
    with pytest.raises(sqlite3.IntegrityError):
        store.add_predictions("no-such-run", [("i", 0.5, 1, "1", None, 1.0, 0)])


def test_golden_snapshot_round_trips_exactly(store):
    golden = make_golden(25)
    store.put_golden_set(golden)
    store.put_golden_set(golden)  # idempotent
    loaded = store.golden_set(golden.hash)
    assert loaded.name == golden.name and loaded.items.equals(golden.items)
    assert store.golden_sets()["hash"].tolist() == [golden.hash]


def test_a_study_item_subset_is_not_listed_as_a_golden_set(store):
    """A set only study variants scored is a study's item subset: left out of the list the pages
    offer (derived from the runs, so subsets stored before the rule are left out too)."""
    endpoint, policy = Endpoint("http://h/v1", "m"), make_policy()
    golden, unused = make_golden(4, name="analyst"), make_golden(3, name="fresh")
    part = make_golden(texts=["post number 0", "post number 1"], name="analyst (probes items)")
    base = create_run(store, policy=policy, golden=golden, endpoint=endpoint)
    store.put_golden_set(unused)
    variant = create_run(store, policy=policy, golden=part, endpoint=endpoint)
    shared = create_run(store, policy=policy, golden=golden, endpoint=endpoint)  # a study over all items
    store.put_study(Study("study-1", "probes", base.id, runs=(StudyRun("inverted", "", variant.id),
                                                              StudyRun("off", "", shared.id))))

    assert set(store.golden_sets()["hash"]) == {golden.hash, unused.hash}
    assert set(store.golden_sets(study_subsets=True)["hash"]) == {golden.hash, unused.hash, part.hash}
    assert store.golden_set(part.hash).name == "analyst (probes items)", "still stored for its study"
    create_run(store, policy=policy, golden=part, endpoint=endpoint)  # an analyst runs on it by hand
    assert part.hash in store.golden_sets()["hash"].tolist()


def test_policy_versions_are_kept_verbatim(store):
    policy = make_policy("line one\r\nline two  \n")
    store.put_policy_version(policy)
    assert store.policy_version(policy.id).text == "line one\r\nline two  \n"


def test_unknown_ids_are_not_found_errors(store):
    for lookup in (store.run, store.golden_set, store.policy_version):
        with pytest.raises(NotFoundError, match="No .* 'nope'"):
            lookup("nope")


def test_runs_created_in_the_same_second_keep_their_creation_order(tmp_path):
    with Store(tmp_path) as store:
        golden, policy = make_golden(2), make_policy()
        store.put_golden_set(golden)
        store.put_policy_version(policy)
        ids = ["run-20261130-000000-ffffff", "run-20261130-000000-000000", "run-20261130-000000-888888"]
        for run_id in ids:  # same second, ids out of order
            store.create_run(Run(run_id, policy.id, golden.hash, "http://h/v1", "m", "cope-b", "logprobs", 0.5, 1,
                                 "pending", 2, created="2026-11-30T00:00:00+00:00"))
        assert [r.id for r in store.runs()] == ids


def test_a_store_from_before_the_answer_source_learns_it_and_drops_unattributable_cache_entries(tmp_path):
    """Cache entries keyed on the request alone could be any server's answer: the migration drops
    them; runs gain a checkpoint column (unknown for runs scored before it)."""
    from cope_eval.store._schema import MIGRATIONS as ALL

    db = sqlite3.connect(tmp_path / "store.sqlite3")
    db.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for name, sql in ALL[:4]:
        db.executescript(sql)
        db.execute("INSERT INTO migrations VALUES (?, '2026-01-01')", (name,))
    db.execute("INSERT INTO cache (key, score, hard_label, raw) VALUES ('sha256:old', 0.5, NULL, '')")
    db.commit()
    db.close()
    with Store(tmp_path) as store:
        assert store.migrations()[4] == "m005_answer_source"
        assert store.cached(["sha256:old"]) == {}
        golden, policy = make_golden(1), make_policy()
        run = create_run(store, policy=policy, golden=golden, endpoint=Endpoint("http://h/v1", "m"))
        assert store.run(run.id).checkpoint is None
        store.mark_run(run.id, "running", pid=1, checkpoint="org/ckpt")
        store.mark_run(run.id, "running", pid=1)  # None keeps what was recorded
        assert store.run(run.id).checkpoint == "org/ckpt"


def test_a_run_from_before_adaptive_concurrency_reads_as_fixed_and_an_adaptive_one_keeps_its_level(tmp_path):
    from cope_eval.store._schema import MIGRATIONS as ALL

    db = sqlite3.connect(tmp_path / "store.sqlite3")
    db.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for name, sql in ALL[:5]:
        db.executescript(sql)
        db.execute("INSERT INTO migrations VALUES (?, '2026-01-01')", (name,))
    db.commit()
    db.close()
    with Store(tmp_path) as store:
        old = create_run(store, policy=make_policy(), golden=make_golden(1), endpoint=Endpoint("http://h/v1", "m"),
                         concurrency=16)
        assert (store.run(old.id).adaptive, store.run(old.id).settled_concurrency) == (False, None)
        run = create_run(store, policy=make_policy(), golden=make_golden(1), endpoint=Endpoint("http://h/v1", "m"))
        assert store.run(run.id).adaptive is True
        store.mark_run(run.id, "completed", settled_concurrency=97)
        store.mark_run(run.id, "completed")  # None keeps what was recorded
        assert store.run(run.id).settled_concurrency == 97
