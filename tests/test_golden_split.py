"""The dev / test split of a golden set (cope_eval/golden/_split.py): how items are drawn, the hash,
relabels, import and export, and cutting a run's results to one split."""

from __future__ import annotations

import hashlib
import json
import math
import struct

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from cope_eval.errors import ConfigError, NotFoundError
from cope_eval.export._predictions_csv import bundle_prediction_rows
from cope_eval.export._zentropi import samples_json, zentropi_samples
from cope_eval.golden import (
    add_golden_set, assign_split, check_test_fraction, correct_label, find_golden_set, golden_set_hash, has_split,
    load_golden_set, make_split, relabel, split_counts, split_golden_set, split_results, write_golden_set
)
from cope_eval.metrics import metrics_at_threshold
from cope_eval.records import ITEM_COLUMNS, SPLITS, GoldenSet
from cope_eval.store import Store, run_results
from tests.factories import make_golden
from tests.test_export import scored_run


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def strata_set(sizes: dict[tuple[int, str | None], int], *, name: str = "strata") -> GoldenSet:
    """A set with ``sizes[(label, category)]`` items in each stratum (ids unique, rows interleaved)."""
    rows = [(label, category) for (label, category), n in sizes.items() for _ in range(n)]
    items = pd.DataFrame({"id": [f"it-{i:04d}" for i in range(len(rows))],
                          "text": [f"post {i}" for i in range(len(rows))],
                          "label": [label for label, _ in rows], "image": None,
                          "category": pd.Series([category for _, category in rows], dtype="str")})
    items = items.sample(frac=1.0, random_state=7).reset_index(drop=True)  # strata not in blocks
    return GoldenSet(name, golden_set_hash(items), items)


def per_stratum(golden: GoldenSet, split: pd.Series) -> dict:
    frame = golden.items.assign(split=split, category=golden.items["category"].fillna("(none)"))
    test = frame[frame["split"] == "test"]
    return {key: int(n) for key, n in test.groupby(["label", "category"], dropna=False).size().items()}


# --- drawing ---------------------------------------------------------------------------------

def test_each_stratum_gets_exactly_its_share_when_the_share_is_whole():
    golden = strata_set({(0, "a"): 10, (1, "a"): 20, (0, "b"): 30, (1, "b"): 40})
    split = assign_split(golden.items, test_fraction=0.3, seed=0)
    assert per_stratum(golden, split) == {(0, "a"): 3, (0, "b"): 9, (1, "a"): 6, (1, "b"): 12}
    assert (split == "test").sum() == 30 and split.isin(["dev", "test"]).all()


def test_remainders_go_to_the_largest_fractions_and_the_total_is_round_f_n():
    # exact shares: 2.1 (7 items), 1.5 (5), 0.9 (3), 0.3 (1): floors 2+1+0+0 = 3; T = round(0.3 * 16) = 5
    golden = strata_set({(0, "a"): 7, (1, "a"): 5, (0, "b"): 3, (1, "b"): 1})
    split = assign_split(golden.items, test_fraction=0.3, seed=4)
    assert per_stratum(golden, split) == {(0, "a"): 2, (0, "b"): 1, (1, "a"): 2}
    assert (split == "test").sum() == 5


def test_ties_go_to_the_larger_stratum_then_label_order():
    golden = strata_set({(1, None): 5, (0, None): 5})  # no category: strata by label alone; 1.5 each, T = 3
    split = assign_split(golden.items, test_fraction=0.3, seed=0)
    assert per_stratum(golden, split) == {(0, "(none)"): 2, (1, "(none)"): 1}
    unequal = strata_set({(0, None): 5, (1, None): 15})  # 1.5 and 4.5: the larger stratum wins the tie
    counts = (unequal.items.assign(split=assign_split(unequal.items, test_fraction=0.3))
              .query("split == 'test'")["label"].value_counts().to_dict())
    assert counts == {0: 1, 1: 5}


def test_many_one_item_strata_still_give_the_overall_share():
    golden = strata_set({(i % 2, f"cat-{i}"): 1 for i in range(20)})
    split = assign_split(golden.items, test_fraction=0.3, seed=1)
    assert (split == "test").sum() == 6 and (split == "dev").sum() == 14


@pytest.mark.parametrize("n, fraction, test", [(2, 0.3, 1), (3, 0.5, 2), (4, 0.3, 1), (10, 0.25, 3), (7, 0.9, 6)])
def test_tiny_sets_round_half_up(n, fraction, test):
    golden = make_golden(n)
    split = assign_split(golden.items, test_fraction=fraction)
    assert (split == "test").sum() == test == math.floor(fraction * n + 0.5)


@pytest.mark.parametrize("n, fraction, side", [(1, 0.3, "test"), (4, 0.1, "test"), (3, 0.9, "dev")])
def test_a_split_that_leaves_one_side_empty_is_refused(n, fraction, side):
    with pytest.raises(ConfigError, match=f"leaves no item in {side}"):
        assign_split(make_golden(n).items, test_fraction=fraction)


def test_within_a_stratum_test_is_the_first_ids_by_seeded_hash():
    golden = strata_set({(1, "x"): 10})
    for seed in (0, 7):
        split = assign_split(golden.items, test_fraction=0.3, seed=seed)
        ranked = sorted(golden.items["id"], key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
        assert set(golden.items["id"][(split == "test").to_numpy()]) == set(ranked[:3])


def test_the_draw_is_seeded_and_ignores_row_order():
    golden = make_golden(200)
    first = assign_split(golden.items, test_fraction=0.3, seed=11)
    again = assign_split(golden.items, test_fraction=0.3, seed=11)
    assert first.tolist() == again.tolist()
    shuffled = golden.items.sample(frac=1.0, random_state=3)
    by_id = dict(zip(shuffled["id"], assign_split(shuffled, test_fraction=0.3, seed=11)))
    assert [by_id[i] for i in golden.items["id"]] == first.tolist()
    other = assign_split(golden.items, test_fraction=0.3, seed=12)
    assert other.tolist() != first.tolist() and (other == "test").sum() == (first == "test").sum() == 60


def test_the_fraction_is_read_from_its_decimal_spelling():
    # 0.35 * 20 is 6.999999999999999 in floats; as 7/20 * 20 it is 7 exactly
    golden = strata_set({(0, "a"): 20, (1, "a"): 20})
    split = assign_split(golden.items, test_fraction=0.35)
    assert per_stratum(golden, split) == {(0, "a"): 7, (1, "a"): 7}


@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, -0.1, 1.5, float("nan"), float("inf"), "abc", "", None, True])
def test_a_test_fraction_outside_0_1_names_the_flag(value):
    with pytest.raises(ConfigError, match=r"^--test-fraction must be a number between 0 and 1 \(both excluded"):
        check_test_fraction(value, source="--test-fraction")
    with pytest.raises(ConfigError, match="test fraction must be"):
        make_split(make_golden(10), test_fraction=value)


# --- the set hash ----------------------------------------------------------------------------

def naive_hash(items: pd.DataFrame) -> str:
    """The documented serialisation (format v1, steps 1-3 and 5) written out naively."""
    columns = ["id", "text", "label", "image", "category"]
    if items["split"].notna().any():
        columns.append("split")
    rows = sorted(items[columns].itertuples(index=False), key=lambda r: r[0].encode("utf-8"))
    out = [b"cope-eval/golden-set@1\n", struct.pack("<Q", len(rows))]
    for k in range(len(columns)):
        values = [None if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v) for v in (r[k] for r in rows)]
        out += [struct.pack("<q", -1 if v is None else len(v.encode("utf-8"))) for v in values]
        out += [v.encode("utf-8") for v in values if v is not None]
    return "sha256:" + hashlib.sha256(b"".join(out)).hexdigest()


def test_a_set_without_a_split_hashes_as_before_splits():
    golden = make_golden(12)
    assert "split" in golden.items.columns and not has_split(golden.items)  # added empty by GoldenSet
    assert golden.hash == golden_set_hash(golden.items) == golden_set_hash(golden.items.drop(columns="split"))
    assert golden.hash == naive_hash(golden.items)


def test_the_split_is_hashed_and_moving_one_item_makes_another_version():
    golden = make_golden(12)
    split = make_split(golden, test_fraction=0.25, seed=2)
    assert split.hash == naive_hash(split.items) != golden.hash
    assert split.items.drop(columns="split").equals(golden.items.drop(columns="split"))
    moved = split.items.copy()
    moved.loc[0, "split"] = "dev" if moved.loc[0, "split"] == "test" else "test"
    assert golden_set_hash(moved) not in (split.hash, golden.hash)
    assert make_split(golden, test_fraction=0.25, seed=2).hash == split.hash


def test_a_set_that_has_a_split_is_not_split_again():
    split = make_split(make_golden(10), test_fraction=0.3)
    with pytest.raises(ConfigError, match=r"already has a dev/test split: a new draw would move test items"):
        make_split(split, test_fraction=0.3, seed=1)


# --- the store: versions, relabels -----------------------------------------------------------

def test_splitting_a_stored_set_stores_a_child_version(store):
    golden = make_golden(20)
    store.put_golden_set(golden, source="test")
    result = split_golden_set(store, golden.hash, test_fraction=0.3, seed=5)
    stored = store.golden_set(result.golden.hash)
    assert stored.items["split"].tolist() == result.golden.items["split"].tolist()
    row = store.golden_sets().set_index("hash").loc[result.golden.hash]
    assert row["parent_hash"] == golden.hash and row["source"].startswith(f"split of {golden.hash}")
    assert store.golden_lineage(result.golden.hash) == golden.hash
    assert result.to_dict()["items"] == {"dev": 14, "test": 6} and result.other_splits == ()
    again = split_golden_set(store, golden.hash, test_fraction=0.3, seed=5)
    assert again.golden.hash == result.golden.hash and again.other_splits == ()
    third = split_golden_set(store, golden.hash, test_fraction=0.3, seed=6)
    assert third.other_splits == (result.golden.hash,)


def test_a_split_version_or_its_relabel_is_refused_naming_the_unsplit_parent(store):
    golden = make_golden(20)
    store.put_golden_set(golden)
    split = split_golden_set(store, golden.hash).golden
    relabeled = correct_label(store, split.hash, "item-00003", 0, author="ana", reason="wrong")
    for version in (split.hash, relabeled.hash):
        with pytest.raises(ConfigError, match=rf"already has a dev/test split.*\({golden.hash[7:19]}\)"):
            split_golden_set(store, version)


def test_a_relabel_keeps_every_items_split(store):
    golden = make_golden(30)
    store.put_golden_set(golden)
    split = split_golden_set(store, golden.hash, test_fraction=0.3, seed=9).golden
    test_item = split.items.loc[split.items["split"] == "test", "id"].iat[0]
    label = int(split.items.set_index("id").at[test_item, "label"])
    changed = correct_label(store, split.hash, test_item, 1 - label, author="ana", reason="mislabelled")
    assert changed.hash != split.hash
    stored = store.golden_set(changed.hash)
    assert dict(zip(stored.items["id"], stored.items["split"])) == dict(zip(split.items["id"], split.items["split"]))
    pure, _ = relabel(split, test_item, 1 - label)
    assert pure.items["split"].tolist() == split.items["split"].tolist() and pure.hash == changed.hash


def test_find_golden_set_by_hash_prefix_or_name(store):
    golden = make_golden(10, name="toxic")
    store.put_golden_set(golden)
    assert find_golden_set(store, golden.hash) == golden.hash
    assert find_golden_set(store, golden.hash[7:15]) == golden.hash
    assert find_golden_set(store, "toxic") == golden.hash
    split = split_golden_set(store, golden.hash).golden
    with pytest.raises(NotFoundError, match=r"2 versions of golden set 'toxic' are stored .*name one by its hash"):
        find_golden_set(store, "toxic")
    assert find_golden_set(store, split.hash[:20]) == split.hash
    with pytest.raises(NotFoundError, match=r"No golden set 'nope'.*stored sets, newest first: 'toxic'"):
        find_golden_set(store, "nope")


# --- import and export -----------------------------------------------------------------------

@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_an_exported_split_loads_back_as_the_split(ws, ext):
    split = make_split(make_golden(20), test_fraction=0.3, seed=1)
    path = write_golden_set(split, ws / f"split.{ext}")
    loaded = load_golden_set(path, ws)
    assert loaded.golden_set.hash == split.hash and not loaded.warnings
    assert loaded.golden_set.items["split"].tolist() == split.items["split"].tolist()
    assert list(loaded.golden_set.items.columns) == list(ITEM_COLUMNS)


def test_an_exported_set_without_a_split_loads_back_without_one(ws):
    golden = make_golden(6)
    loaded = load_golden_set(write_golden_set(golden, ws / "plain.csv"), ws)
    assert "split," in (ws / "plain.csv").read_text().splitlines()[0] + ","  # the empty column is written
    assert loaded.golden_set.hash == golden.hash and list(loaded.golden_set.items.columns) == list(ITEM_COLUMNS)
    assert not loaded.warnings


def test_a_file_split_column_with_spaces_is_read(ws):
    (ws / "s.csv").write_text("id,text,label,split\n1,a,1, test \n2,b,0,dev\n3,c,1,dev\n")
    items = load_golden_set(ws / "s.csv", ws).golden_set.items
    assert items["split"].tolist() == ["test", "dev", "dev"]


@pytest.mark.parametrize("cells, bad_row, shown", [
    (["train", "dev", "test"], 1, "train"),
    (["DEV", "dev", "test"], 1, "DEV"),
    (["dev", "", "test"], 2, None),
    (["dev", "test", "1"], 3, "1"),
    (["dev", "test", "=cmd|' /C calc'!A0"], 3, "=cmd|' /C calc'!A0"),
])
def test_any_other_split_column_stays_metadata_with_a_warning(ws, cells, bad_row, shown):
    body = "".join(f'{i},post {i},{i % 2},"{c}"\n' for i, c in enumerate(cells, 1))
    (ws / "h.csv").write_text("id,text,label,split\n" + body)
    loaded = load_golden_set(ws / "h.csv", ws)
    items = loaded.golden_set.items
    assert not has_split(items) and "orig_split" in items.columns
    assert [None if pd.isna(v) else str(v) for v in items["orig_split"]] == [c or None for c in cells]
    (warning,) = [w for w in loaded.warnings if w.column == "split"]
    assert (warning.row, warning.value) == (bad_row, shown)
    assert "kept as metadata 'orig_split', not as a dev/test split" in warning.problem
    plain = load_golden_set(ws / "h.csv", ws).golden_set.items.drop(columns="orig_split")
    assert loaded.golden_set.hash == golden_set_hash(plain)  # metadata: the hash is the unsplit one


def test_a_json_split_field_that_is_not_text_stays_metadata(ws):
    (ws / "j.jsonl").write_text('{"id": "1", "text": "a", "label": 1, "split": {"ignore": "me"}}\n'
                                '{"id": "2", "text": "b", "label": 0, "split": "dev"}\n')
    loaded = load_golden_set(ws / "j.jsonl", ws)
    assert not has_split(loaded.golden_set.items) and loaded.golden_set.items["orig_split"].iat[0] == '{"ignore": "me"}'


def test_zentropi_json_samples_carry_the_split_and_round_trip(ws):
    split = make_split(make_golden(10), test_fraction=0.3, seed=3)
    samples = zentropi_samples(split, ws)
    assert [r["split"] for r in samples.records] == split.items["split"].tolist()
    assert any("split is in the JSON samples only" in w for w in samples.warnings)
    (ws / "samples.json").write_bytes(samples_json(samples))
    assert load_golden_set(ws / "samples.json", ws).golden_set.hash == split.hash
    plain = zentropi_samples(make_golden(10), ws)
    assert all("split" not in r for r in plain.records) and not any("split" in w for w in plain.warnings)


# --- a run's results cut to one split --------------------------------------------------------

def test_split_results_cuts_a_runs_results_and_metrics_match_sklearn(store, workspace):
    golden = make_split(make_golden(40), test_fraction=0.3, seed=0)
    store.put_golden_set(golden)
    run, _ = scored_run(store, workspace, golden)
    results = run_results(store, run.id, split="all")
    assert results["split"].tolist() == golden.items["split"].tolist()
    assert run_results(store, run.id).equals(split_results(results, "dev"))  # dev unless test is asked for
    for split, n in (("dev", 28), ("test", 12), ("all", 40)):
        part = split_results(results, split)
        assert len(part) == n and (split == "all" or set(part["split"]) == {split})
        m = metrics_at_threshold(part, threshold=0.5)
        y, pred = part["label"].to_numpy(), (part["score"] >= 0.5).astype(int).to_numpy()
        assert (m.precision, m.recall, m.f1) == pytest.approx(
            (precision_score(y, pred), recall_score(y, pred), f1_score(y, pred)))
    table = bundle_prediction_rows(results, 0.5)
    assert table["split"].tolist() == golden.items["split"].tolist()


def test_a_set_without_a_split_is_all_dev_and_has_no_test(store, workspace):
    golden = make_golden(10)
    run, _ = scored_run(store, workspace, golden)
    results = run_results(store, run.id)
    assert split_results(results, "dev").equals(results) and split_results(results, "all").equals(results)
    with pytest.raises(ConfigError, match="This golden set has no test split: make one with cope-eval split"):
        split_results(results, "test")
    with pytest.raises(ConfigError, match=r"Unknown split 'train'; use one of dev, test, all"):
        split_results(results, "train")
    assert "split" not in bundle_prediction_rows(results, 0.5).columns
    assert SPLITS == ("dev", "test", "all")


def test_split_counts_by_split_label_and_category():
    golden = make_split(strata_set({(0, "a"): 10, (1, "a"): 10, (0, None): 10}), test_fraction=0.3)
    counts = split_counts(golden.items)
    assert counts["items"].sum() == 30 and list(counts.columns) == ["split", "label", "category", "items"]
    assert counts.set_index(["split", "label"]).loc[("test", 0), "items"].sum() == 6
    assert json.loads(counts.to_json(orient="records"))[0]["split"] == "dev"
