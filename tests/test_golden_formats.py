"""Golden-set readers (cope_eval/golden/_formats.py): Excel's Windows-1252 files keep their quotes and
euro signs, and integer ids stay exact whatever the format (no "101.0", no collisions past 2**53)."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cope_eval.golden import load_golden_set
from cope_eval.golden._validate import generated_id

EXCEL_TEXT = "“Smart quotes” cost 5 € – café"


@pytest.mark.parametrize("name", ["excel.csv", "excel.tsv", "excel.jsonl", "excel.json"])
def test_a_windows_1252_file_is_read_as_windows_1252_and_says_so(ws, name):
    if name.endswith("sv"):
        sep = "\t" if name.endswith("tsv") else ","
        text = f"text{sep}label\n{EXCEL_TEXT}{sep}1\nplain{sep}0\n"
    elif name.endswith("jsonl"):
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in [{"text": EXCEL_TEXT, "label": 1},
                                                                      {"text": "plain", "label": 0}])
    else:
        text = json.dumps([{"text": EXCEL_TEXT, "label": 1}, {"text": "plain", "label": 0}], ensure_ascii=False)
    data = text.encode("cp1252")
    (ws / name).write_bytes(data)
    result = load_golden_set(ws / name, ws)
    assert result.golden_set.items["text"].tolist() == [EXCEL_TEXT, "plain"]
    offset = data.index("“".encode("cp1252"))
    assert [str(w) for w in result.warnings] == [
        f"{name}: file is not valid UTF-8 (first bad byte 0x93 at offset {offset}); read it as Windows-1252: "
        "check accented characters"]


@pytest.mark.parametrize("name", ["odd.csv", "odd.jsonl"])
def test_a_file_with_a_byte_windows_1252_leaves_undefined_is_read_as_latin_1_and_says_why(ws, name):
    data = (b"text,label\ncaf\xe9 \x81,1\n" if name.endswith("csv") else b'{"text": "caf\xe9 \x81", "label": 1}\n')
    (ws / name).write_bytes(data)
    result = load_golden_set(ws / name, ws)
    assert result.golden_set.items["text"].tolist() == ["café \x81"]
    bad, undefined = data.index(b"\xe9"), data.index(b"\x81")
    assert [w.problem for w in result.warnings] == [
        f"file is not valid UTF-8 (first bad byte 0xe9 at offset {bad}); read it as Latin-1 "
        f"(not Windows-1252: byte 0x81 at offset {undefined} is undefined there): check accented characters"]


def _parquet(ws, ids, *, type=pa.int64()):
    texts = [f"item {i}" for i in range(len(ids))]
    pq.write_table(pa.table({"id": pa.array(ids, type=type), "text": texts, "label": [i % 2 for i in range(len(ids))]}),
                   ws / "ids.parquet")
    return load_golden_set(ws / "ids.parquet", ws).golden_set.items


def test_parquet_integer_ids_with_a_null_stay_integers_and_the_null_gets_a_derived_id(ws):
    items = _parquet(ws, [101, None, 103])
    assert items["id"].tolist() == ["101", generated_id("item 1"), "103"]


@pytest.mark.parametrize("ids", [[2**60, 2**60 + 1], [2**60, 2**60 + 1, None]])
def test_parquet_ids_beyond_2_to_the_53_stay_distinct(ws, ids):
    items = _parquet(ws, ids)
    assert items["id"].tolist()[:2] == ["1152921504606846976", "1152921504606846977"]


def test_parquet_unsigned_and_small_integer_ids_are_exact(ws):
    assert _parquet(ws, [2**64 - 1, None], type=pa.uint64())["id"].tolist()[0] == "18446744073709551615"
    assert _parquet(ws, [-7, 7], type=pa.int8())["id"].tolist() == ["-7", "7"]


def test_parquet_integer_labels_with_a_null_are_still_labels(ws):
    pq.write_table(pa.table({"text": ["a", "b", "c"], "label": pa.array([1, None, 0])}), ws / "labels.parquet")
    from cope_eval.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        load_golden_set(ws / "labels.parquet", ws)
    assert [str(p) for p in refused.value.problems] == [
        "labels.parquet, row 2, column 'label': label is missing (expected 0 or 1)"]
    items = load_golden_set(ws / "labels.parquet", ws, drop_bad_rows=True).golden_set.items
    assert items["label"].tolist() == [1, 0]


@pytest.mark.parametrize("name, content", [
    ("ids.csv", "id,text,label\n101,a,1\n,b,0\n1152921504606846977,c,1\n1152921504606846976,d,0\n"),
    ("ids.jsonl", "\n".join(json.dumps(r) for r in [
        {"id": 101, "text": "a", "label": 1}, {"id": None, "text": "b", "label": 0},
        {"id": 2**60 + 1, "text": "c", "label": 1}, {"id": 2**60, "text": "d", "label": 0}])),
    ("ids.json", json.dumps([
        {"id": 101, "text": "a", "label": 1}, {"text": "b", "label": 0},
        {"id": 2**60 + 1, "text": "c", "label": 1}, {"id": 2**60, "text": "d", "label": 0}])),
])
def test_text_format_integer_ids_stay_exact(ws, name, content):
    (ws / name).write_text(content)
    items = load_golden_set(ws / name, ws).golden_set.items
    assert items["id"].tolist() == ["101", generated_id("b"), "1152921504606846977", "1152921504606846976"]
