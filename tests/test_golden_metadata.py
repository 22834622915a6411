"""Metadata columns of a golden set: typed once per file (text, number, boolean), kept by name,
and carried through versions, relabels, rewrites, run results and the Zentropi samples."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cope_eval.errors import ValidationError
from cope_eval.export._zentropi import CSV_COLUMNS, samples_csv, samples_json, zentropi_samples
from cope_eval.golden import (
    METADATA_RESERVED, ColumnSpec, add_golden_set, correct_label, golden_set_hash, load_golden_set, metadata_columns,
    write_golden_set
)
from cope_eval.records import ITEM_COLUMNS, Endpoint, GoldenSet
from cope_eval.scoring import create_run
from cope_eval.store import Store, run_results, with_predicted_labels
from tests.factories import make_policy

FORMULA = "=cmd|' /C calc'!A0"
SCRIPT = "<script>alert(1)</script>"

TYPED_CSV = (
    "id,text,label,age,share,flagged,answer,zip,mixed,nan,exp,huge,big,bigmix,note\n"
    f"a,first,1,30,0.5,true,yes,007,1,NaN,1e3,1e999,99999999999999999999,9007199254740993,\"{FORMULA}\"\n"
    f"b,second,0,,1.25,FALSE,no,010,2,1,2.5E-2,1,1,0.5,{SCRIPT}\n"
    "c,third,1,-4,,True,,,x,,,,,,\n"
)


def load(data: bytes | str, name: str, ws: Path, **kwargs):
    data = data.encode("utf-8") if isinstance(data, str) else data
    return load_golden_set(data, ws, filename=name, **kwargs).golden_set


def dtypes(items: pd.DataFrame) -> dict[str, str]:
    return {c: str(items[c].dtype) for c in metadata_columns(items)}


def values(series: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in series.astype(object)]


# --- typing ---------------------------------------------------------------------------------


def test_each_column_is_typed_once_by_all_its_values(ws):
    items = load(TYPED_CSV, "t.csv", ws).items
    assert dtypes(items) == {
        "age": "Int64", "share": "Float64", "flagged": "boolean",
        "answer": "str",  # yes/no is an answer, not a boolean
        "zip": "str",  # 007: a code whose zeros matter
        "mixed": "str",  # numbers and one text cell
        "nan": "str", "huge": "str",  # NaN and 1e999 are not finite numbers
        "exp": "Float64",
        "big": "str",  # beyond 64 bits: text keeps it exact
        "bigmix": "str",  # 2**53 + 1 beside a float would not be exact
        "note": "str",
    }
    assert values(items["age"]) == [30, None, -4]
    assert values(items["share"]) == [0.5, 1.25, None]
    assert values(items["flagged"]) == [True, False, True]
    assert values(items["zip"]) == ["007", "010", None]
    assert values(items["mixed"]) == ["1", "2", "x"]
    assert values(items["exp"]) == [1000.0, 0.025, None]
    assert values(items["big"]) == ["99999999999999999999", "1", None]
    assert values(items["note"]) == [FORMULA, SCRIPT, None]  # content, kept exactly


def test_json_and_parquet_values_type_as_their_csv_spelling_would(ws):
    rows = [{"text": "a", "label": 1, "n": 3, "f": 0.5, "b": True, "s": "x", "e": "", "obj": {"k": [1]}},
            {"text": "b", "label": 0, "n": None, "f": 2, "b": False, "s": 7, "e": "", "obj": None},
            {"text": "c", "label": 1, "n": -1, "f": 1e-7, "b": None, "s": True, "e": None}]
    items = load("\n".join(json.dumps(r) for r in rows), "t.jsonl", ws).items
    assert dtypes(items) == {"n": "Int64", "f": "Float64", "b": "boolean", "s": "str", "e": "str", "obj": "str"}
    assert values(items["f"]) == [0.5, 2.0, 1e-7]
    assert values(items["s"]) == ["x", "7", "true"]
    assert values(items["e"]) == [None, None, None], "an empty string is missing, as in a CSV cell"
    assert values(items["obj"]) == ['{"k": [1]}', None, None]

    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": [1, 0, 1],
                          "n": pd.array([1, None, 2**62], dtype="Int64"), "f": [0.1, np.nan, 3.0],
                          "b": pd.array([True, None, False], dtype="boolean"), "s": ["p", None, "q"]})
    frame.to_parquet(ws / "t.parquet")
    parquet = load_golden_set(ws / "t.parquet", ws).golden_set.items
    assert dtypes(parquet) == {"n": "Int64", "f": "Float64", "b": "boolean", "s": "str"}
    assert values(parquet["n"]) == [1, None, 2**62]
    assert values(parquet["f"]) == [0.1, None, 3.0]


def test_a_dropped_rows_cell_does_not_decide_a_columns_type(ws):
    result = load_golden_set(b"text,label,n\na,1,1\nb,7,oops\nc,0,2\n", ws, filename="d.csv", drop_bad_rows=True)
    assert values(result.golden_set.items["n"]) == [1, 2] and result.golden_set.items["n"].dtype == "Int64"


def test_metadata_does_not_change_the_hash(ws):
    typed = load("id,text,label,n\na,x,1,1\nb,y,0,2\n", "a.csv", ws)
    text = load("id,text,label,n\na,x,1,one\nb,y,0,two\n", "b.csv", ws)
    bare = load("id,text,label\na,x,1\nb,y,0\n", "c.csv", ws)
    assert typed.hash == text.hash == bare.hash


# --- through versions, relabels, rewrites, results --------------------------------------------


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_upload_version_relabel_write_reload_keeps_names_types_values_and_hash(workspace, ext):
    ws = workspace.root
    loaded = load_golden_set(TYPED_CSV.encode(), ws, filename="upload.csv")
    with Store(workspace.private_dir) as store:
        first = add_golden_set(store, loaded, origin="upload upload.csv")
        stored = store.golden_set(first.hash)
        pd.testing.assert_frame_equal(stored.items, first.items)  # the parquet snapshot keeps the dtypes
        changed = correct_label(store, first.hash, "b", 1, author="ana", reason="typo")
        relabeled = store.golden_set(changed.hash)
    pd.testing.assert_frame_equal(relabeled.items.drop(columns="label"), first.items.drop(columns="label"))
    assert relabeled.items["label"].tolist() == [1, 1, 1]

    dest = write_golden_set(relabeled, ws / f"out.{ext}")
    again = load_golden_set(dest, ws).golden_set
    assert again.hash == relabeled.hash
    pd.testing.assert_frame_equal(again.items, relabeled.items)


def test_floats_keep_every_digit_through_jsonl(ws):
    exact = [1 / 3, 0.1 + 0.2, 123456789.123456789, -2.5e-300]
    lines = "\n".join(json.dumps({"text": f"t{i}", "label": i % 2, "f": v}) for i, v in enumerate(exact))
    gs = load(lines, "f.jsonl", ws)
    for ext in ("csv", "jsonl", "parquet"):
        back = load_golden_set(write_golden_set(gs, ws / f"f.{ext}"), ws).golden_set.items
        assert back["f"].tolist() == exact, ext


def test_run_results_keep_metadata_typed_even_when_named_like_result_columns(workspace):
    names = ["score", "error", "_merge", "pred", "item_id", "raw", "cached"]
    header = "id,text,label," + ",".join(names) + ",group\n"
    rows = "".join(f"i{k},text {k},{k % 2}," + ",".join(["0.5"] * len(names)) + f",{'ab'[k % 2]}\n" for k in range(4))
    golden = load(header + rows, "r.csv", workspace.root)
    assert [f"orig_{n}" for n in names] == metadata_columns(golden.items)[:-1]
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
        store.add_predictions(run.id, [(i, 0.9, None, "", None, 1.0, 0) for i in golden.items["id"][:3]])
        results = with_predicted_labels(run_results(store, run.id), 0.5)
    assert results["score"].tolist()[:3] == [0.9] * 3 and pd.isna(results["score"].iloc[3])
    assert results["error"].tolist()[3] == "not scored yet"
    assert results["orig_score"].dtype == "Float64" and results["orig_score"].tolist() == [0.5] * 4
    assert results["group"].tolist() == ["a", "b", "a", "b"]


# --- names --------------------------------------------------------------------------------


def test_columns_named_like_cope_evals_own_are_kept_under_orig(ws):
    data = "key,body,verdict,id,label,text,video_digest,content,sample_id,orig_label\nk1,hi,1,X,L,T,D,C,S,O\n"
    gs = load(data, "n.csv", ws, spec=ColumnSpec(text="body", label="verdict", id="key"))
    assert gs.items[["id", "text", "label"]].values.tolist() == [["k1", "hi", 1]]
    assert {c: gs.items[c].iat[0] for c in metadata_columns(gs.items)} == {
        "orig_id": "X", "orig_label": "L", "orig_text": "T", "orig_content": "C", "orig_sample_id": "S",
        "orig_orig_label": "O"}  # the file's own orig_label came after label took that name
    assert "video_digest" not in metadata_columns(gs.items)  # recomputed, never trusted
    for ext in ("csv", "jsonl", "parquet"):  # "content" would be read as the text on the way back
        back = load_golden_set(write_golden_set(gs, ws / f"n.{ext}"), ws).golden_set
        assert back.hash == gs.hash, ext
        pd.testing.assert_frame_equal(back.items, gs.items)


def test_blank_odd_and_very_long_names(ws):
    long = "g" * 10_000
    data = f"text,label,,Unnamed: 3,{long}, \nx,1,a,b,c,d\n"
    gs = load(data, "o.csv", ws)
    assert metadata_columns(gs.items) == ["column_3", "Unnamed: 3", long, "column_6"]
    item = next(gs.iter_items())
    assert item.meta == {"column_3": "a", "Unnamed: 3": "b", long: "c", "column_6": "d"}

    blank_key = load(json.dumps({"text": "x", "label": 1, "": 5, "  ": True}) + "\n", "o.jsonl", ws)
    assert dtypes(blank_key.items) == {"column_3": "Int64", "column_4": "boolean"}  # by position, as in CSV
    for ext in ("csv", "jsonl", "parquet"):
        back = load_golden_set(write_golden_set(blank_key, ws / f"o.{ext}"), ws).golden_set
        pd.testing.assert_frame_equal(back.items, blank_key.items)


def test_a_repeated_csv_header_is_refused_by_name(ws):
    with pytest.raises(ValidationError) as info:
        load("text,label,group,group\nx,1,a,b\n", "dup.csv", ws)
    assert [str(p) for p in info.value.problems] == [
        "dup.csv, column 'group': column 'group' appears twice in the header; rename one of them"]


def test_ten_thousand_distinct_values_round_trip(ws):
    rows = "".join(f"t{i},{i % 2},group-{i},{i * 7}\n" for i in range(10_000))
    gs = load("text,label,group,n\n" + rows, "big.csv", ws)
    assert gs.items["group"].nunique() == 10_000 and gs.items["n"].dtype == "Int64"
    back = load_golden_set(write_golden_set(gs, ws / "big.parquet"), ws).golden_set
    pd.testing.assert_frame_equal(back.items, gs.items)


# --- Zentropi samples ------------------------------------------------------------------------


def test_zentropi_json_carries_category_and_metadata_as_typed_extra_fields(workspace):
    ws = workspace.root
    gs = load("id,text,label,category\n" "a,first,1,c1\n" "b,second,0,\n" "c,third,1,c2\n", "z.csv", ws)
    typed = load(TYPED_CSV, "t.csv", ws)
    items = pd.concat([gs.items, typed.items[metadata_columns(typed.items)]], axis=1)
    golden = GoldenSet("z", golden_set_hash(items), items)
    samples = zentropi_samples(golden, ws)
    records = json.loads(samples_json(samples))
    assert records[0] == {
        "content_text": "first", "expected_label": "1", "sample_id": "a", "category": "c1", "age": 30,
        "share": 0.5, "flagged": True, "answer": "yes", "zip": "007", "mixed": "1", "nan": "NaN", "exp": 1000.0,
        "huge": "1e999", "big": "99999999999999999999", "bigmix": "9007199254740993", "note": FORMULA}
    assert "category" not in records[1] and "age" not in records[1], "a missing value leaves its key out"
    assert records[1]["note"] == SCRIPT

    back = load_golden_set(samples_json(samples), ws, filename="samples.json").golden_set
    assert back.hash == golden.hash
    pd.testing.assert_frame_equal(back.items, golden.items)

    rows = list(csv.reader(io.StringIO(samples_csv(samples).decode(), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS, "Zentropi's CSV import header is fixed"
    assert samples.warnings == ("12 metadata column(s) are in the JSON samples only: Zentropi's CSV import "
                                "header is fixed",)


def test_zentropi_json_never_lets_metadata_take_a_sample_key(workspace):
    # A frame built in code (or stored before these names were reserved) may use any name.
    items = pd.DataFrame({"id": ["a"], "text": ["hi"], "label": [1], "image": [None], "category": [None],
                          "sample_id": ["other"], "content_image": ["x.png"], "score": [np.float64(0.25)]})
    record = zentropi_samples(GoldenSet("k", golden_set_hash(items), items), workspace.root).records[0]
    assert record == {"content_text": "hi", "expected_label": "1", "sample_id": "a",
                      "orig_sample_id": "other", "orig_content_image": "x.png", "orig_score": 0.25}
    assert json.loads(samples_json(zentropi_samples(GoldenSet("k", "h", items), workspace.root)))[0] == record


def test_reserved_names_cover_the_item_role_and_result_columns():
    assert set(ITEM_COLUMNS) <= METADATA_RESERVED
    assert {"content", "content_text", "expected_label", "sample_id", "subgroup", "score", "error",
            "item_id", "_merge"} <= METADATA_RESERVED
