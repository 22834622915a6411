"""Golden sets: formats, column detection, row-level validation, drops, hashing, relabel."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from cope_eval.errors import NotFoundError, ValidationError
from cope_eval.golden import (
    ColumnSpec, LabelChange, golden_set_hash, load_golden_set, relabel, write_golden_set
)
from cope_eval.golden._validate import generated_id
from cope_eval.records import ITEM_COLUMNS
from tests.factories import png_bytes

REPO = Path(__file__).resolve().parents[1]


def put(ws: Path, name: str, content) -> Path:
    path = ws / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def rejection(path, ws, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as info:
        load_golden_set(path, ws, **kwargs)
    return [str(p) for p in info.value.problems]


# --- formats -------------------------------------------------------------------------------------


def test_csv_keeps_ids_as_text_and_metadata_columns(ws):
    path = put(ws, "set.csv", "id,text,label,category,source\n007,hello,1,hate,forum\n010,bye,0,,chat\n")
    result = load_golden_set(path, ws)
    items = result.golden_set.items
    assert list(items.columns) == [*ITEM_COLUMNS, "source"]
    assert items["id"].tolist() == ["007", "010"]
    assert items["label"].tolist() == [1, 0] and items["label"].dtype == np.int64
    assert items["category"].tolist()[0] == "hate" and pd.isna(items["category"].iloc[1])
    assert items["source"].tolist() == ["forum", "chat"]
    assert result.golden_set.name == "set" and result.warnings == () and result.problems == ()
    assert result.dropped.empty
    item = next(result.golden_set.iter_items())
    assert (item.id, item.text, item.label, item.image, item.category, item.meta) == (
        "007", "hello", 1, None, "hate", {"source": "forum"})


def test_csv_with_quoted_newlines_commas_and_whitespace(ws):
    path = put(ws, "q.csv", 'text,label\n"line one\nline two, with comma",1\n"  padded  ",0\n"say ""hi""",1\n')
    items = load_golden_set(path, ws).golden_set.items
    assert items["text"].tolist() == ["line one\nline two, with comma", "  padded  ", 'say "hi"']


def test_tsv(ws):
    items = load_golden_set(put(ws, "set.tsv", "text\tlabel\na, b\t1\n"), ws).golden_set.items
    assert items["text"].tolist() == ["a, b"]


def test_jsonl_with_nested_metadata(ws):
    lines = [{"id": "a", "text": "hi", "label": 1, "extra": {"k": [1, 2]}}, {"id": "b", "text": "yo", "label": "0"}]
    path = put(ws, "set.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    items = load_golden_set(path, ws).golden_set.items
    assert items["label"].tolist() == [1, 0]
    assert items["extra"].iloc[0] == '{"k": [1, 2]}' and pd.isna(items["extra"].iloc[1])


def test_zentropi_json_samples(ws):
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    samples = [
        {"content_text": "You are all vermin", "expected_label": "1"},
        {"content_image": data_url, "expected_label": "0"},
        {"content_text": "caption", "content_image": data_url, "expected_label": "1"},
    ]
    items = load_golden_set(put(ws, "samples.json", json.dumps(samples)), ws).golden_set.items
    assert items["text"].tolist() == ["You are all vermin", "", "caption"]
    assert items["image"].iloc[0] is np.nan or pd.isna(items["image"].iloc[0])
    assert items["image"].iloc[1] == data_url
    assert items["label"].tolist() == [1, 0, 1]
    assert items["id"].tolist() == [generated_id("You are all vermin"), generated_id("", data_url),
                                    generated_id("caption", data_url)]


def test_zentropi_csv_import_format(ws):
    path = put(ws, "z.csv", "content_text,content_image_url,content_video_url,expected_label,sample_id\n"
                            "hello,,,1,s1\n,https://example.com/a.png,,0,s2\n")
    result = load_golden_set(path, ws)
    items = result.golden_set.items
    assert items["id"].tolist() == ["s1", "s2"]
    assert items["image"].iloc[1] == "https://example.com/a.png"
    assert list(items.columns) == list(ITEM_COLUMNS)  # the empty video column is not kept
    assert [w.problem for w in result.warnings] == [
        "1 image URL(s) kept as references, not fetched (URL fetching is off)"]


def test_vibecheck_format(ws):
    path = put(ws, "vibe.csv", "id,content,ground_truth,source,subgroup\n1,hey you,1,reddit,teen\n2,hello,0,x,adult\n")
    items = load_golden_set(path, ws).golden_set.items
    assert items[["id", "text", "label", "category", "source"]].values.tolist() == [
        ["1", "hey you", 1, "teen", "reddit"], ["2", "hello", 0, "adult", "x"]]


def test_parquet_with_typed_columns(ws):
    frame = pd.DataFrame({"sample_id": [3, 4], "prompt": ["a", "b"], "gold": [1, 0], "score": [0.5, 0.25]})
    path = ws / "set.parquet"
    frame.to_parquet(path)
    result = load_golden_set(path, ws)
    items = result.golden_set.items
    assert items["id"].tolist() == ["3", "4"] and items["label"].tolist() == [1, 0]
    # metadata is typed; "score" is a column of a run's results, so the file's is kept as orig_score
    assert items["orig_score"].tolist() == [0.5, 0.25] and items["orig_score"].dtype == "Float64"
    assert result.warnings == ()


def test_parquet_bool_and_float_labels_are_normalised_with_warnings(ws):
    path = ws / "set.parquet"
    pd.DataFrame({"text": ["a", "b", "c"], "label": [True, False, True]}).to_parquet(path)
    result = load_golden_set(path, ws)
    assert result.golden_set.items["label"].tolist() == [1, 0, 1]
    assert [w.problem for w in result.warnings] == ["label 'true' read as 1 (2 row(s))",
                                                    "label 'false' read as 0 (1 row(s))"]
    pd.DataFrame({"text": ["a", "b"], "label": [1.0, np.nan]}).to_parquet(path)
    assert rejection(path, ws) == ["set.parquet, row 2, column 'label': label is missing (expected 0 or 1)"]


def test_format_override_and_bytes_upload(ws):
    data = b"text,label\nfrom bytes,1\n"
    result = load_golden_set(data, ws, filename="upload.txt", fmt="csv")
    assert result.golden_set.name == "upload" and result.golden_set.items["text"].tolist() == ["from bytes"]
    sniffed = load_golden_set(b'{"text": "x", "label": 0}\n', ws, filename="noext")
    assert sniffed.golden_set.items["label"].tolist() == [0]
    assert rejection(data, ws, filename="f.csv", fmt="xml") == [
        "f.csv: unknown format; use one of csv, tsv, jsonl, json, parquet (value 'xml')"]


# --- columns ------------------------------------------------------------------------------------


def test_column_spec_overrides_detection(ws):
    path = put(ws, "c.csv", "body,verdict,key,topic,text\nhello,1,k1,t,other\n")
    result = load_golden_set(path, ws, spec=ColumnSpec(text="body", label="verdict", id="key", category="topic"))
    items = result.golden_set.items
    assert items[["id", "text", "label", "category"]].values.tolist() == [["k1", "hello", 1, "t"]]
    assert items["orig_text"].tolist() == ["other"]  # a metadata column named like a canonical one


def test_case_insensitive_detection(ws):
    items = load_golden_set(put(ws, "c.csv", "Text,LABEL\nhi,1\n"), ws).golden_set.items
    assert items["text"].tolist() == ["hi"]


def test_missing_columns(ws):
    assert rejection(put(ws, "m.csv", "text,foo\nhi,1\n"), ws) == [
        "m.csv, column 'label': missing column: no label column (looked for label, expected_label, "
        "ground_truth, gold); columns: text, foo"]
    assert rejection(put(ws, "n.csv", "body,label\nhi,1\n"), ws) == [
        "n.csv, column 'text': missing column: no content column (looked for content, content_text, text, "
        "prompt, image, content_image, content_image_url, video, content_video, content_video_url); "
        "columns: body, label"]
    assert len(rejection(put(ws, "p.csv", "body,verdict\nhi,1\n"), ws)) == 2  # both missing columns listed
    assert rejection(put(ws, "o.csv", "text,label\nhi,1\n"), ws, spec=ColumnSpec(label="verdict")) == [
        "o.csv, column 'verdict': the label column was set to 'verdict', which is not in the file; columns: text, label"]
    # Each problem names its setting neutrally; the CLI shows it as a flag (tests/test_cli_errors.py).
    for header, spec, options in [("text,foo", None, ("label_column",)), ("body,verdict", None, ("text_column", "label_column")),
                                  ("text,label", ColumnSpec(label="verdict"), ("label_column",))]:
        with pytest.raises(ValidationError) as info:
            load_golden_set(put(ws, "q.csv", f"{header}\nhi,1\n"), ws, spec=spec)
        assert info.value.options == options and "ColumnSpec" not in str(info.value)


def test_semicolon_files_are_sniffed_and_a_wrong_delimiter_gets_a_hint(ws):
    path = put(ws, "eu.csv", "text;label\nhallo;1\n")
    assert load_golden_set(path, ws).golden_set.items["text"].tolist() == ["hallo"]
    with pytest.raises(ValidationError) as info:
        load_golden_set(path, ws, delimiter=",")
    assert str(info.value.problems[0]).endswith(
        "columns: text;label (one column: is the file separated by another delimiter?)")
    assert "delimiter" in info.value.options  # the CLI says --delimiter, the page its Delimiter control


def test_missing_columns_are_not_droppable(ws):
    with pytest.raises(ValidationError, match="missing column: no label column"):
        load_golden_set(put(ws, "m.csv", "text\nhi\n"), ws, drop_bad_rows=True)


# --- row-level validation ------------------------------------------------------------------------


def test_labels_outside_0_1(ws):
    path = put(ws, "l.csv", "text,label\na,1\nb,2\nc,maybe\nd,\ne,-1\n")
    assert rejection(path, ws) == [
        "l.csv, row 2, column 'label': label must be 0 or 1 (value '2')",
        "l.csv, row 3, column 'label': label must be 0 or 1 (value 'maybe')",
        "l.csv, row 4, column 'label': label is missing (expected 0 or 1)",
        "l.csv, row 5, column 'label': label must be 0 or 1 (value '-1')",
    ]


def test_label_spellings_are_normalised_with_a_warning(ws):
    path = put(ws, "l.csv", "text,label\na,yes\nb,No\nc,TRUE\nd,false\ne,1.0\nf,0.0\ng, 1 \nh,yes\n")
    result = load_golden_set(path, ws)
    assert result.golden_set.items["label"].tolist() == [1, 0, 1, 0, 1, 0, 1, 1]
    assert [str(w) for w in result.warnings] == [
        "l.csv, row 1, column 'label': label 'yes' read as 1 (2 row(s)) (value 'yes')",
        "l.csv, row 2, column 'label': label 'No' read as 0 (1 row(s)) (value 'No')",
        "l.csv, row 3, column 'label': label 'TRUE' read as 1 (1 row(s)) (value 'TRUE')",
        "l.csv, row 4, column 'label': label 'false' read as 0 (1 row(s)) (value 'false')",
        "l.csv, row 5, column 'label': label '1.0' read as 1 (1 row(s)) (value '1.0')",
        "l.csv, row 6, column 'label': label '0.0' read as 0 (1 row(s)) (value '0.0')",
    ]


def test_empty_content(ws):
    path = put(ws, "e.csv", "text,image,label\nhi,,1\n,,0\n   ,,1\n,img/ok.png,1\n")
    assert rejection(path, ws) == [
        "e.csv, row 2, column 'text': empty content: no text and no image",
        "e.csv, row 3, column 'text': empty content: no text and no image",
    ]


def test_duplicate_ids(ws):
    path = put(ws, "d.csv", "id,text,label\na,one,1\nb,two,0\na,three,1\na,four,0\n")
    assert rejection(path, ws) == [
        "d.csv, row 3, column 'id': duplicate id: row 1 has the same id (value 'a')",
        "d.csv, row 4, column 'id': duplicate id: row 1 has the same id (value 'a')",
    ]


def test_conflicting_duplicate_content(ws):
    path = put(ws, "c.csv", "id,text,label\n1,same words,1\n2,other,0\n3,same words,0\n4,same words,1\n")
    message = "conflicting duplicate content: the same content is in rows 1, 3, 4 with labels 0 and 1"
    assert rejection(path, ws) == [
        f"c.csv, row {r}, column 'text': {message} (value 'same words')" for r in (1, 3, 4)]


def test_same_text_with_different_images_is_not_a_conflict(ws):
    (ws / "img" / "two.png").write_bytes(png_bytes(color="blue"))
    path = put(ws, "c.csv", "text,image,label\nlook,img/ok.png,1\nlook,img/two.png,0\n")
    assert load_golden_set(path, ws).golden_set.items["label"].tolist() == [1, 0]


def test_exact_repeats_are_kept_with_a_warning_and_distinct_generated_ids(ws):
    path = put(ws, "r.csv", "text,label\nhello,1\nworld,0\nhello,1\nhello,1\n")
    result = load_golden_set(path, ws)
    base = generated_id("hello")
    assert result.golden_set.items["id"].tolist() == [base, generated_id("world"), f"{base}-2", f"{base}-3"]
    assert [str(w) for w in result.warnings] == [
        "r.csv, row 3: 2 row(s) repeat the content and label of an earlier row; kept"]


def test_generated_ids_are_stable_across_formats(ws):
    csv_items = load_golden_set(put(ws, "a.csv", "text,label\nsame text,1\n"), ws).golden_set.items
    json_items = load_golden_set(put(ws, "a.json", '[{"content_text": "same text", "expected_label": "1"}]'),
                                 ws).golden_set.items
    expected = "gen-" + hashlib.sha256("same text\x1f".encode()).hexdigest()[:16]
    assert csv_items["id"].tolist() == json_items["id"].tolist() == [expected]


def test_partly_missing_ids_are_generated(ws):
    items = load_golden_set(put(ws, "p.csv", "id,text,label\nx1,a,1\n,b,0\n  ,c,1\n"), ws).golden_set.items
    assert items["id"].tolist() == ["x1", generated_id("b"), generated_id("c")]


def test_image_problems(ws, tmp_path):
    (tmp_path / "outside.png").write_bytes(png_bytes())
    (ws / "img" / "broken.png").write_bytes(png_bytes((32, 32))[:60])
    (ws / "img" / "big.png").write_bytes(b"\x89PNG" + b"\x00" * (10 * 1024 * 1024))
    path = put(ws, "i.csv", "text,image,label\n"
                            "a,img/ok.png,1\n"
                            "b,../outside.png,0\n"
                            "c,/etc/passwd,1\n"
                            "d,img/nope.png,0\n"
                            "e,img/broken.png,1\n"
                            "f,img/big.png,0\n"
                            'g,"data:image/png;base64,@@",1\n')
    problems = rejection(path, ws)
    assert problems[0].endswith("image path points outside the workspace (value '../outside.png')")
    assert problems[1].endswith("absolute image paths are not allowed; give a path relative to the workspace "
                                "(value '/etc/passwd')")
    assert problems[2] == "i.csv, row 4, column 'image': image file not found in the workspace (value 'img/nope.png')"
    assert problems[3].startswith("i.csv, row 5, column 'image': corrupt image (")
    assert problems[4] == ("i.csv, row 6, column 'image': image is 10,485,764 bytes, over the limit of "
                           "10,485,760 bytes (value 'img/big.png')")
    assert problems[5] == "i.csv, row 7, column 'image': data URL holds invalid base64 (value 'data:image/png;base64,@@')"
    assert len(problems) == 6


def test_unreadable_image(ws, monkeypatch):
    from cope_eval.golden import _references as references

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(references, "open", denied, raising=False)
    assert rejection(put(ws, "u.csv", "text,image,label\na,img/ok.png,1\n"), ws) == [
        "u.csv, row 1, column 'image': image file is unreadable (Permission denied) (value 'img/ok.png')"]


def test_decompression_bomb_image(ws):
    buf = io.BytesIO()
    Image.new("1", (9_000, 9_000)).save(buf, format="PNG")
    (ws / "img" / "bomb.png").write_bytes(buf.getvalue())
    assert rejection(put(ws, "b.csv", "text,image,label\na,img/bomb.png,1\n"), ws) == [
        "b.csv, row 1, column 'image': image is 9000x9000 pixels, over the limit of 40,000,000 pixels "
        "(value 'img/bomb.png')"]


def test_each_image_reference_is_opened_once(ws, monkeypatch):
    from cope_eval.golden import _validate as gv

    calls = []
    real = gv.check_image
    monkeypatch.setattr(gv, "check_image", lambda ref, *a, **k: calls.append(ref) or real(ref, *a, **k))
    rows = "".join(f"text {i},img/ok.png,{i % 2}\n" for i in range(50))
    assert len(load_golden_set(put(ws, "m.csv", "text,image,label\n" + rows), ws).golden_set) == 50
    assert calls == ["img/ok.png"]


def test_non_text_json_values(ws):
    lines = ['{"text": {"nested": true}, "label": 1}', '{"text": "ok", "label": [1]}', '{"text": "x\\ud800", "label": 0}']
    assert rejection(put(ws, "n.jsonl", "\n".join(lines)), ws) == [
        "n.jsonl, row 1, column 'text': text must be text (a string of valid Unicode) (value '{\"nested\": true}')",
        "n.jsonl, row 1, column 'text': empty content: no text and no image",
        "n.jsonl, row 2, column 'label': label must be 0 or 1 (value '[1]')",
        "n.jsonl, row 3, column 'text': text must be text (a string of valid Unicode) (value \"'x\\\\ud800'\")",
        "n.jsonl, row 3, column 'text': empty content: no text and no image",
    ]


# --- encodings -----------------------------------------------------------------------------------


def test_utf8_bom_is_accepted_silently(ws):
    result = load_golden_set(put(ws, "b.csv", b"\xef\xbb\xbfid,text,label\n1,caf\xc3\xa9,1\n"), ws)
    assert result.golden_set.items[["id", "text"]].values.tolist() == [["1", "café"]]
    assert result.warnings == ()
    result = load_golden_set(put(ws, "b.jsonl", b'\xef\xbb\xbf{"text": "x", "label": 1}\n'), ws)
    assert result.warnings == ()


def test_latin1_is_read_with_a_warning(ws):
    for name in ("l.csv", "l.jsonl"):
        data = ("text,label\ncafé,1\n" if name.endswith("csv") else '{"text": "café", "label": 1}\n').encode("latin-1")
        result = load_golden_set(put(ws, name, data), ws)
        assert result.golden_set.items["text"].tolist() == ["café"]
        offset = data.index(b"\xe9")
        assert [str(w) for w in result.warnings] == [
            f"{name}: file is not valid UTF-8 (first bad byte 0xe9 at offset {offset}); read it as Windows-1252: "
            "check accented characters"]  # é is 0xe9 in both; tests/test_golden_formats.py has Latin-1 proper


def test_utf16_is_read_with_a_warning(ws):
    result = load_golden_set(put(ws, "w.csv", "text,label\nnaïve,0\n".encode("utf-16")), ws)
    assert result.golden_set.items["text"].tolist() == ["naïve"]
    assert [w.problem for w in result.warnings] == ["file is UTF-16; read it as UTF-16"]


# --- file-level problems -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("e.csv", b"", "e.csv: file is empty"),
        ("e.csv", b"\xef\xbb\xbf\n\n", "e.csv: file is empty"),
        ("h.csv", b"text,label\n", "h.csv: file has no data rows"),
        ("d.csv", b"text,label,text\na,1,b\n", "d.csv, column 'text': column 'text' appears twice in the header; "
                                                "rename one of them"),
        ("o.json", b'{"text": "a"}', "o.json: expected a JSON array of objects (Zentropi test samples), found a JSON object"),
        ("b.json", b"[1, 2", "b.json: not valid JSON (Expecting ',' delimiter: line 1 column 6 (char 5))"),
        ("p.parquet", b"PAR1 not really", None),
    ],
)
def test_file_level_problems(ws, name, content, message):
    problems = rejection(put(ws, name, content), ws, drop_bad_rows=True)
    if message is None:
        assert problems[0].startswith(f"{name}: not a readable Parquet file (")
    else:
        assert problems == [message]


def test_missing_file(ws):
    assert rejection(ws / "nope.csv", ws)[0].startswith("nope.csv: cannot read file (")


def test_ragged_csv_rows(ws):
    path = put(ws, "r.csv", 'text,label\na,1\nb,0,extra\n"multi\nline",1\nc\n')
    assert rejection(path, ws) == [
        "r.csv, row 2: row has 3 fields but the header has 2 (value 'b,0,extra')",
        "r.csv, row 4: row has 1 fields but the header has 2 (value 'c')",
    ]
    result = load_golden_set(path, ws, drop_bad_rows=True)
    assert result.golden_set.items["text"].tolist() == ["a", "multi\nline"]
    assert result.dropped[["row", "problem", "raw"]].values.tolist() == [
        [2, "row has 3 fields but the header has 2", "b,0,extra"],
        [4, "row has 1 fields but the header has 2", "c"],
    ]


def test_jsonl_bad_lines(ws):
    path = put(ws, "j.jsonl", '{"text": "a", "label": 1}\n\nnot json\n[1, 2]\n{"text": "b", "label": 0}\n')
    assert rejection(path, ws) == [
        "j.jsonl, row 3: line is not valid JSON (Expecting value: line 1 column 1 (char 0)) (value 'not json')",
        "j.jsonl, row 4: line is a JSON array, not an object (value '[1, 2]')",
    ]


# --- reject whole file vs drop bad rows ----------------------------------------------------------


BAD = ("id,text,label,note\n"
       "1,fine,1,keep\n"
       "2,,0,empty\n"
       "3,also fine,yes,keep\n"
       "4,bad label,7,\n"
       "1,dup id,0,dup\n"
       "6,clash,1,\n"
       "7,clash,0,\n")


def test_a_bad_file_is_rejected_whole_with_every_problem(ws):
    path = put(ws, "bad.csv", BAD)
    with pytest.raises(ValidationError) as info:
        load_golden_set(path, ws)
    assert [(p.row, p.column, p.value) for p in info.value.problems] == [
        (2, "text", None), (4, "label", "7"), (5, "id", "1"), (6, "text", "clash"), (7, "text", "clash")]
    assert str(info.value).startswith("bad.csv was rejected: 5 problem(s) in 5 row(s): bad.csv, row 2, column 'text'")
    # No "drop_bad_rows=True": the CLI cannot drop rows, so it is not offered; the option stays named for callers.
    assert str(info.value).endswith("Fix them and load the file again.")
    # A label other than 0/1 ('7') may be a score: a label rule is offered (--label-threshold, --label-map).
    assert info.value.options == ("label_rule", "drop_bad_rows")


def test_dropping_bad_rows_returns_exactly_what_was_dropped(ws):
    result = load_golden_set(put(ws, "bad.csv", BAD), ws, drop_bad_rows=True)
    assert result.golden_set.items[["id", "text", "label", "note"]].values.tolist() == [
        ["1", "fine", 1, "keep"], ["3", "also fine", 1, "keep"]]
    dropped = result.dropped
    assert dropped["row"].tolist() == [2, 4, 5, 6, 7]
    assert dropped["problem"].tolist() == [
        "empty content: no text and no image",
        "label must be 0 or 1",
        "duplicate id: row 1 has the same id",
        "conflicting duplicate content: the same content is in rows 6, 7 with labels 0 and 1",
        "conflicting duplicate content: the same content is in rows 6, 7 with labels 0 and 1",
    ]
    assert dropped["id"].tolist() == ["2", "4", "1", "6", "7"]  # the rows as read
    assert dropped["label"].tolist() == ["0", "7", "0", "1", "0"]
    assert [p.row for p in result.problems] == [2, 4, 5, 6, 7]
    assert [w.problem for w in result.warnings] == ["label 'yes' read as 1 (1 row(s))"]
    assert result.golden_set.hash == golden_set_hash(result.golden_set.items)


def test_dropped_rows_keep_a_column_named_row(ws):
    result = load_golden_set(put(ws, "r.csv", "row,text,label\n10,a,1\n11,b,9\n"), ws, drop_bad_rows=True)
    assert result.dropped[["row", "problem", "orig_row"]].values.tolist() == [[2, "label must be 0 or 1", "11"]]
    assert result.golden_set.items["row"].tolist() == [10]  # typed by the rows kept


def test_dropping_every_row_is_still_an_error(ws):
    with pytest.raises(ValidationError, match="no valid rows left after dropping bad rows"):
        load_golden_set(put(ws, "x.csv", "text,label\na,5\n"), ws, drop_bad_rows=True)


# --- hashing, writing, relabeling ----------------------------------------------------------------


def reference_hash(items: pd.DataFrame) -> str:
    """The documented canonical serialisation, written out naively."""
    columns = ["id", "text", "label", "image", "category"]
    if items["video"].notna().any():  # step 4: only sets with video hash these two as well
        columns += ["video", "video_digest"]
    rows = sorted(items[columns].itertuples(index=False), key=lambda r: r[0].encode("utf-8"))
    out = [b"cope-eval/golden-set@1\n", struct.pack("<Q", len(rows))]
    for k, column in enumerate(columns):
        values = [None if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v) for v in (r[k] for r in rows)]
        out += [struct.pack("<q", -1 if v is None else len(v.encode("utf-8"))) for v in values]
        out += [v.encode("utf-8") for v in values if v is not None]
    return "sha256:" + hashlib.sha256(b"".join(out)).hexdigest()


def test_hash_follows_the_documented_serialisation(ws):
    path = put(ws, "h.csv", "id,text,image,label,category,extra\n"
                            "b,zwei \u00fc,,1,hate,x\n"
                            "a,one,img/ok.png,0,,y\n"
                            "\u00e9,,img/ok.png,1,cat,z\n")
    gs = load_golden_set(path, ws).golden_set
    assert gs.hash == reference_hash(gs.items) == golden_set_hash(gs.items)
    assert gs.hash.startswith("sha256:") and len(gs.hash) == 71


def test_hash_ignores_row_order_and_metadata_but_not_content(ws):
    base = load_golden_set(put(ws, "a.csv", "id,text,label,m\n1,x,1,p\n2,y,0,q\n"), ws).golden_set.hash
    assert load_golden_set(put(ws, "b.csv", "id,text,label\n2,y,0\n1,x,1\n"), ws).golden_set.hash == base
    for changed in ("id,text,label\n1,x,1\n2,y,1\n", "id,text,label\n1,x,1\n3,y,0\n",
                    "id,text,label\n1,x ,1\n2,y,0\n", "id,text,label,category\n1,x,1,c\n2,y,0,\n",
                    "id,text,label,image\n1,x,1,img/ok.png\n2,y,0,\n"):
        assert load_golden_set(put(ws, "c.csv", changed), ws).golden_set.hash != base


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_write_and_reload_keeps_the_hash(ws, ext):
    src = put(ws, "s.csv", 'id,text,image,label,category,note\n1,"multi\nline, ""quoted""",,1,hate,n\n'
                           "2,,img/ok.png,0,,\n3,  spaced  ,,1,c,m\n")
    gs = load_golden_set(src, ws).golden_set
    dest = write_golden_set(gs, ws / f"out.{ext}")
    again = load_golden_set(dest, ws).golden_set
    assert again.hash == gs.hash
    assert again.items["note"].tolist()[0] == "n"
    with pytest.raises(Exception, match="already exists"):
        write_golden_set(gs, dest)


def test_relabel_returns_a_new_set_and_leaves_the_old_one(ws):
    gs = load_golden_set(put(ws, "r.csv", "id,text,label\na,one,1\nb,two,0\n"), ws).golden_set
    before = gs.items.copy()
    new, change = relabel(gs, "b", 1)
    assert change == LabelChange(item_id="b", old_label=0, new_label=1, old_hash=gs.hash, new_hash=new.hash)
    assert new.hash != gs.hash and new.hash == golden_set_hash(new.items)
    assert new.items["label"].tolist() == [1, 1]
    pd.testing.assert_frame_equal(gs.items, before)
    assert gs.hash == golden_set_hash(gs.items)
    back, _ = relabel(new, "b", 0)
    assert back.hash == gs.hash


def test_relabel_errors(ws):
    gs = load_golden_set(put(ws, "r.csv", "id,text,label\na,one,1\n"), ws).golden_set
    with pytest.raises(NotFoundError, match="Golden set 'r' has no item with id 'zzz'"):
        relabel(gs, "zzz", 0)
    with pytest.raises(ValidationError, match="item 'a' already has label 1; nothing to change"):
        relabel(gs, "a", 1)
    for bad in (2, -1, "1", 0.0):
        with pytest.raises(ValidationError, match="new label must be 0 or 1"):
            relabel(gs, "a", bad)


# --- shipped sample sets -------------------------------------------------------------------------


def test_sample_golden_sets_load_cleanly():
    files = sorted((REPO / "golden_sets").rglob("*.csv"))
    assert len(files) == 10
    for path in files:
        result = load_golden_set(path, REPO)
        items = result.golden_set.items
        assert result.warnings == (), path
        assert set(items["label"]) == {0, 1}, path
        assert path.stat().st_size < 300_000, path
    mixed = load_golden_set(REPO / "golden_sets/openai-moderation/mixed.csv", REPO).golden_set.items
    assert set(mixed["category"]) == {"none", "multiple", "sexual", "hate", "violence", "harassment", "self-harm"}
    images = load_golden_set(REPO / "golden_sets/images/harassment-images.csv", REPO).golden_set.items
    assert images["image"].notna().all()
    total = sum(p.stat().st_size for p in (REPO / "golden_sets/images").rglob("*"))
    assert total < 1_000_000
    assert (REPO / "golden_sets/openai-moderation/LICENSE").read_text().startswith("MIT License")


# --- fuzzing: malformed files end in a set or a ValidationError, nothing else ---------------------

HEADERS = ["id", "text", "content", "label", "expected_label", "ground_truth", "image", "content_image",
           "content_video", "category", "subgroup", "sample_id", "prompt", "gold", "x", "", "Text", "LABEL",
           "row", "problem", "raw", "orig_text"]
CELLS = ["0", "1", "yes", "no", "true", "1.0", "2", "-1", "", " ", "maybe", "hello", "same", "same",
         "img/ok.png", "../ws/img/ok.png", "/etc/passwd", "img/missing.png", "data:image/png;base64,@@",
         "data:image/png;base64," + base64.b64encode(png_bytes()).decode(), "https://example.com/x.png",
         "file:///etc/passwd", '"', '""', "a,b", "line\nbreak", "\x00", "caf\u00e9", "\ud83d\ude00", "\\", "NaN", "null"]

cells = st.one_of(st.sampled_from(CELLS), st.text(max_size=12))
FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))


def _attempt(ws: Path, data: bytes, name: str):
    for drop in (False, True):
        try:
            result = load_golden_set(data, ws, filename=name, drop_bad_rows=drop)
        except ValidationError as ex:
            assert ex.problems and all(str(p) for p in ex.problems)
            event(f"drop={drop}: rejected")
            continue
        event(f"drop={drop}: loaded")
        items = result.golden_set.items
        assert len(items) > 0
        assert set(items["label"].unique()) <= {0, 1}
        assert items["id"].is_unique and items["id"].notna().all()
        assert result.golden_set.hash == golden_set_hash(items)
        if not drop:
            assert result.dropped.empty


@st.composite
def csv_files(draw):
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=0, max_size=5))
    usable = draw(st.booleans())  # half the files have usable columns, so row checks get exercised
    if usable:
        header = ["text", "label", *header[:3]]
    width = len(header)
    labels = st.sampled_from(["0", "1", "1", "0", "yes", "2", ""])
    good_row = st.tuples(cells, labels, st.lists(cells, min_size=width - 2, max_size=width - 2)).map(
        lambda t: [t[0], t[1], *t[2]])
    row = st.one_of(good_row, good_row, st.lists(cells, max_size=6)) if usable else st.lists(cells, max_size=6)
    rows = draw(st.lists(row, max_size=8))
    sep = "," if usable else draw(st.sampled_from([",", "\t", ";"]))
    buf = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_NONE, csv.QUOTE_ALL]))
    writer = csv.writer(buf, delimiter=sep, quoting=quoting, escapechar="\\", lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    try:
        writer.writerow(header)
        writer.writerows(rows)
    except csv.Error:
        pass
    text = buf.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "utf-8"]))
    data = text.encode(encoding, errors="surrogatepass" if encoding.startswith("utf-8") else "replace")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=8)) + data[cut:]
    return data


@st.composite
def json_records(draw):
    key = st.one_of(st.sampled_from(HEADERS), st.text(max_size=5))
    leaf = st.one_of(cells, st.integers(-3, 3), st.floats(allow_nan=True), st.booleans(), st.none(),
                     st.integers(min_value=2**63, max_value=2**70))
    value = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                         max_leaves=6)
    usable = st.fixed_dictionaries({"text": cells, "label": st.sampled_from([0, 1, "0", "1", "yes", 2, None])},
                                   optional={"id": cells, "image": cells, "category": value})
    return draw(st.lists(st.one_of(usable, usable, st.dictionaries(key, value, max_size=6), value), max_size=6))


@FUZZ
@given(data=csv_files())
def test_fuzz_csv(tmp_path_factory, data):
    ws = _fuzz_ws(tmp_path_factory)
    _attempt(ws, data, "fuzz.csv")


@settings(FUZZ, max_examples=300)
@given(records=json_records(), as_lines=st.booleans(), noise=st.binary(max_size=6), cut=st.integers(0, 2000))
def test_fuzz_json_and_jsonl(tmp_path_factory, records, as_lines, noise, cut):
    ws = _fuzz_ws(tmp_path_factory)
    if as_lines:
        text = "\n".join(json.dumps(r) for r in records)
        data = text.encode("utf-8", "surrogatepass")
        data = data[:cut] + noise + data[cut:]
        _attempt(ws, data, "fuzz.jsonl")
    else:
        data = json.dumps(records).encode("utf-8", "surrogatepass")
        _attempt(ws, data[:cut] + noise + data[cut:] if noise else data, "fuzz.json")


@settings(FUZZ, max_examples=400)
@given(columns=st.dictionaries(st.sampled_from(["text", "label", "id", "image", "category", "gold", "prompt", "x"]),
                               st.sampled_from(["int", "float", "str", "bool", "bytes", "list", "null", "mixed"]),
                               max_size=5),
       rows=st.integers(0, 5), flip=st.one_of(st.none(), st.integers(0, 10_000)), seed=st.integers(0, 100))
def test_fuzz_parquet(tmp_path_factory, columns, rows, flip, seed):
    import pyarrow as pa
    import pyarrow.parquet as pq

    ws = _fuzz_ws(tmp_path_factory)
    rng = np.random.default_rng(seed)
    if seed % 2:  # half the files have usable columns
        columns = {"text": "str", "label": "int" if seed % 3 else "float", **columns}
    arrays = {}
    for name, kind in columns.items():
        if kind == "int":
            arrays[name] = pa.array(rng.integers(-1, 3, rows))
        elif kind == "float":
            arrays[name] = pa.array(rng.choice([0.0, 1.0, 0.5, np.nan], rows))
        elif kind == "str":
            arrays[name] = pa.array([str(rng.choice(CELLS[:20])) for _ in range(rows)])
        elif kind == "bool":
            arrays[name] = pa.array(rng.integers(0, 2, rows).astype(bool))
        elif kind == "bytes":
            arrays[name] = pa.array([b"\x00\xff" for _ in range(rows)])
        elif kind == "list":
            arrays[name] = pa.array([[1, 2] for _ in range(rows)])
        elif kind == "null":
            arrays[name] = pa.nulls(rows)
        else:
            arrays[name] = pa.array([{"a": int(i)} for i in range(rows)])
    buf = io.BytesIO()
    pq.write_table(pa.table(arrays) if arrays else pa.table({"x": pa.nulls(rows)}), buf)
    data = bytearray(buf.getvalue())
    if flip is not None and data:
        data[flip % len(data)] ^= 0xFF
    _attempt(ws, bytes(data), "fuzz.parquet")


@settings(FUZZ, max_examples=1000)
@given(data=st.binary(max_size=200), fmt=st.sampled_from(["fuzz.csv", "fuzz.tsv", "fuzz.jsonl", "fuzz.json", "fuzz.parquet"]))
def test_fuzz_random_bytes(tmp_path_factory, data, fmt):
    _attempt(_fuzz_ws(tmp_path_factory), data, fmt)


_WS: dict[str, Path] = {}


def _fuzz_ws(factory) -> Path:
    if "ws" not in _WS:
        root = factory.mktemp("fuzz") / "ws"
        (root / "img").mkdir(parents=True)
        (root / "img" / "ok.png").write_bytes(png_bytes())
        _WS["ws"] = root
    return _WS["ws"]
