"""A finished run's scores are read from its score file only while it holds the run's predictions
version: any later write (a resume's batch, errors forgotten for a resend) is seen at once."""

import pandas as pd

from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy


def _run(store: Store, n: int = 40):
    run = create_run(store, policy=make_policy(), golden=make_golden(n), endpoint=Endpoint("http://h/v1", "m"))
    rows = [(f"item-{i}", None, None, None, "HTTP 500", 5.0, 0) if i % 7 == 0 else
            (f"item-{i}", i / n, int(i / n >= 0.5), "1", None, 5.0, i % 2) for i in range(n - 10)]
    store.add_predictions(run.id, rows)
    return run


def _file(store: Store, run_id: str):
    return store.private_dir / "scores" / f"{run_id}.parquet"


def _plain(scores: pd.DataFrame) -> pd.DataFrame:
    """Ids and errors as objects (missing: None): a file keeps them as Arrow text, the database as
    Python strings; the values are what must agree."""
    return scores.assign(**{c: scores[c].astype(object).where(scores[c].notna(), None) for c in ("item_id", "error")})


def _database(store: Store, run_id: str) -> pd.DataFrame:
    return _plain(store._read_scores(run_id))


def _scores(store: Store, run_id: str) -> pd.DataFrame:
    """``prediction_scores`` less the file's ``row`` (the database has no such column)."""
    return _plain(store.prediction_scores(run_id).drop(columns="row", errors="ignore"))


def test_a_finished_runs_scores_come_from_its_file_exactly_as_from_the_database(workspace):
    with Store(workspace.private_dir) as store:
        run = _run(store)
        store.mark_run(run.id, "completed")
        first = _scores(store, run.id)
        assert _file(store, run.id).is_file()
        again = _scores(store, run.id)  # from the file
        pd.testing.assert_frame_equal(again, first)
        pd.testing.assert_frame_equal(again, _database(store, run.id))
        assert again["error"].tolist().count("HTTP 500") == 5 and again["error"].isna().sum() == 25


def test_any_later_write_is_seen_the_file_is_never_used_for_predictions_it_lacks(workspace):
    with Store(workspace.private_dir) as store:
        run = _run(store)
        store.mark_run(run.id, "completed")
        _scores(store, run.id)  # writes the file
        assert store.delete_errors(run.id) == 5  # a resend of the errors
        pd.testing.assert_frame_equal(_scores(store, run.id), _database(store, run.id))
        assert _scores(store, run.id)["error"].notna().sum() == 0
        store.add_predictions(run.id, [(f"item-{i}", 0.9, 1, "1", None, 5.0, 0) for i in range(30, 40)])
        after = _scores(store, run.id)
        assert len(after) == 35 and set(after["item_id"]) >= {f"item-{i}" for i in range(30, 40)}
        pd.testing.assert_frame_equal(after, _database(store, run.id))


def test_a_run_still_scoring_gets_no_file_and_a_damaged_file_is_read_past(workspace):
    with Store(workspace.private_dir) as store:
        run = _run(store)
        store.mark_run(run.id, "running")
        _scores(store, run.id)
        assert not _file(store, run.id).exists()
        store.mark_run(run.id, "interrupted")
        _scores(store, run.id)
        _file(store, run.id).write_bytes(b"not parquet")
        pd.testing.assert_frame_equal(_scores(store, run.id), _database(store, run.id))
        assert _file(store, run.id).read_bytes()[:4] == b"PAR1"  # written again


def test_completing_a_run_writes_its_file_so_the_first_page_to_open_it_reads_no_rows(workspace):
    with Store(workspace.private_dir) as store:
        run = _run(store)
        store.mark_run(run.id, "cancelled")
        assert not _file(store, run.id).exists()  # only a completion writes it unasked
        store.mark_run(run.id, "completed")
        assert _file(store, run.id).is_file()
        store._read_scores = None  # a read of the rows would now raise
        first = _scores(store, run.id)
        del store._read_scores
        pd.testing.assert_frame_equal(first, _database(store, run.id))


def test_a_run_that_only_errored_is_kept_and_read_back(workspace):
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=make_policy(), golden=make_golden(5), endpoint=Endpoint("http://h/v1", "m"))
        store.add_predictions(run.id, [(f"item-{i}", None, None, None, "timeout", 5.0, 0) for i in range(5)])
        store.mark_run(run.id, "completed")
        scores = _scores(store, run.id)
        assert _file(store, run.id).is_file() and scores["score"].isna().all() and scores["error"].eq("timeout").all()
        pd.testing.assert_frame_equal(scores, _database(store, run.id))


def test_prediction_counts_are_counted_once_per_version_and_see_every_write(workspace):
    with Store(workspace.private_dir) as store:
        run = _run(store)
        assert store.prediction_counts(run.id) == (30, 5, 13)
        statements = []
        store._db.set_trace_callback(statements.append)
        assert store.prediction_counts(run.id) == (30, 5, 13)
        assert not [s for s in statements if "COUNT(" in s]  # unchanged: not counted again
        with Store(workspace.private_dir) as other:  # another process's runner
            other.add_predictions(run.id, [("item-35", 0.9, 1, "1", None, 5.0, 1)])
        assert store.prediction_counts(run.id) == (31, 5, 14)
        store.delete_errors(run.id)
        assert store.prediction_counts(run.id) == (26, 0, 14)


def test_a_files_rows_place_each_score_as_the_merge_with_the_set_does(workspace):
    """``run_scores`` places a file's scores by their rows in the set; the database's are merged on
    item ids: the same frame, dtypes and "not scored yet" rows, complete or not, in every split."""
    from cope_eval.golden import make_split
    from cope_eval.store import run_scores

    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=make_policy(), golden=make_split(make_golden(40), test_fraction=0.25, seed=1),
                         endpoint=Endpoint("http://h/v1", "m"))
        ids = store.golden_columns(run.golden_hash, only=["id"])["id"].tolist()
        rows = [(ids[i], None, None, None, "HTTP 500", 5.0, 0) if i % 7 == 0 else
                (ids[i], i / 40, int(i >= 20), "1", None, 5.0, i % 2) for i in range(39, 9, -1)]  # 10 missing
        store.add_predictions(run.id, rows + [("not-in-the-set", 0.5, 1, "1", None, 5.0, 0)])
        for status in ("cancelled", "completed"):
            store.mark_run(run.id, "running")
            merged = {split: run_scores(store, run.id, split=split) for split in ("dev", "test", "all")}
            store.mark_run(run.id, status)
            store.keep_scores(run.id)
            kept = store.prediction_scores(run.id)
            assert [ids[r] if r >= 0 else "not-in-the-set" for r in kept["row"]] == kept["item_id"].tolist()
            for split, frame in merged.items():
                pd.testing.assert_frame_equal(run_scores(store, run.id, split=split), frame, check_dtype=False)
            if status == "cancelled":  # then complete it
                store.add_predictions(run.id, [(ids[i], 0.5, 1, "1", None, 5.0, 0) for i in range(10)])
        assert run_scores(store, run.id, split="all")["cached"].dtype == "int64"  # complete: no missing count


def test_completing_a_run_deleted_meanwhile_or_without_its_sets_copy_writes_no_file_and_raises_nothing(workspace):
    with Store(workspace.private_dir) as store:
        run = _run(store)
        store._copies.path(run.golden_hash).unlink()  # the set's copy is gone
        store.mark_run(run.id, "completed")
        assert not _file(store, run.id).exists() and store.run(run.id).status == "completed"
        store.mark_run("run-that-is-not-there", "completed")  # a runner finishing a run deleted meanwhile
