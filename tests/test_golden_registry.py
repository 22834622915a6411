"""Label corrections make new golden-set versions with history; old runs stay reproducible."""

import pytest

from cope_eval.errors import ValidationError
from cope_eval.golden import correct_label
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy


def test_relabel_creates_a_new_version_with_history_and_old_runs_keep_theirs(workspace):
    with Store(workspace.private_dir) as store:
        golden = make_golden(4)
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=Endpoint("http://h/v1", "m"))
        v2 = correct_label(store, golden.hash, "item-00001", 0, author="ana", reason="sarcasm, not a threat")
        v3 = correct_label(store, v2.hash, "item-00002", 1, author="bo", reason="implied threat")

        assert len({golden.hash, v2.hash, v3.hash}) == 3
        assert store.golden_set(run.golden_hash).items.equals(golden.items), "the run's set is unchanged"
        assert store.golden_set(v3.hash).items.set_index("id")["label"].to_dict() == {
            "item-00000": 0, "item-00001": 0, "item-00002": 1, "item-00003": 1}
        history = store.label_history(v3.hash)
        assert history[["item_id", "old_label", "new_label", "author", "reason"]].values.tolist() == [
            ["item-00001", 1, 0, "ana", "sarcasm, not a threat"], ["item-00002", 0, 1, "bo", "implied threat"]]
        assert store.label_history(v2.hash)["item_id"].tolist() == ["item-00001"]
        assert store.golden_sets().set_index("hash").loc[v3.hash, "parent_hash"] == v2.hash


def test_a_label_change_needs_a_reason(workspace):
    with Store(workspace.private_dir) as store:
        golden = make_golden(2)
        store.put_golden_set(golden)
        with pytest.raises(ValidationError, match="needs a reason"):
            correct_label(store, golden.hash, "item-00000", 1, author="ana", reason="  ")
        assert len(store.golden_sets()) == 1

