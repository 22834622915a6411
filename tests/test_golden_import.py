"""Importing any file: delimiter sniffing and override, chosen encodings, label rules (map and
threshold) with errors naming file, row and column, and the rule kept with the stored set."""

from __future__ import annotations

import pytest

from cope_eval.app import label_rule_from, label_values, save_label, suggested_fix
from cope_eval.errors import ConfigError, RowProblem, ValidationError
from cope_eval.golden import (
    ColumnSpec, LabelRule, add_golden_set, check_delimiter, check_encoding, correct_label, import_note,
    load_golden_set, parse_label_map, parse_label_threshold, preview_file, sniff_delimiter
)
from cope_eval.store import Store

HATE = (b"id;comment;isHate\nh1;you are lovely;0.0\nh2;I hate all of them, truly;0.83\n"
        b"h3;meh, whatever;0.33\nh4;borderline;0.5\nh5;so kind;0\n")
SPEC = ColumnSpec(text="comment", label="isHate")


def labels(result) -> dict[str, int]:
    return result.golden_set.items.set_index("id")["label"].to_dict()


# --- delimiter and encoding -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("a;b;c\n1;2,5;3\n", (";", True)), ("a,b\n1,x;y\n", (",", True)), ("a\tb\n1\t2\n", ("\t", True)),
    ("a|b\n1|2\n", ("|", True)), ("\ufeffa;b\n1;2\n", (";", True)), ("justone\nx\n", (",", False)), ("", (",", False)),
])
def test_sniff_delimiter(text, expected):
    assert sniff_delimiter(text) == expected


def test_a_semicolon_file_is_sniffed_and_the_delimiter_can_be_overridden(tmp_path):
    result = load_golden_set(HATE, tmp_path, filename="hate.csv", spec=SPEC, label_rule=LabelRule(threshold=0.5))
    assert result.rule.delimiter == ";" and result.rule.delimiter_how == "sniffed"
    assert result.golden_set.items.set_index("id").at["h2", "text"] == "I hate all of them, truly"
    with pytest.raises(ValidationError) as info:
        load_golden_set(HATE, tmp_path, filename="hate.csv", spec=SPEC, delimiter=",")
    assert "delimiter" in info.value.options
    tabbed = HATE.replace(b";", b"\t")
    assert load_golden_set(tabbed, tmp_path, filename="hate.txt", spec=SPEC, delimiter="\t",
                           label_rule=LabelRule(threshold=0.5)).rule.delimiter_how == "chosen"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252"])
def test_chosen_encodings(tmp_path, encoding):
    text = "text,label\ncafé €,1\n" if encoding == "cp1252" else "text,label\ncafé,1\n"
    data = text.encode("utf-8" if encoding.startswith("utf") else encoding)
    if encoding == "utf-8":
        data = b"\xef\xbb\xbf" + data  # a BOM is tolerated
    result = load_golden_set(data, tmp_path, filename="e.csv", encoding=encoding)
    assert result.golden_set.items["text"].tolist() == [text.split("\n")[1].split(",")[0]]
    assert result.rule.encoding == encoding and result.rule.encoding_how == "chosen"
    assert list(result.golden_set.items.columns[:3]) == ["id", "text", "label"]  # no "\ufefftext" column


def test_a_wrong_encoding_names_the_byte_and_offset(tmp_path):
    with pytest.raises(ValidationError) as info:
        load_golden_set("text,label\ncafé,1\n".encode("latin-1"), tmp_path, filename="l.csv", encoding="utf-8")
    assert str(info.value.problems[0]) == "l.csv: byte 0xe9 at offset 14 cannot be read as utf-8; is the file in " \
                                          "another encoding?"
    assert info.value.options == ("encoding",)
    with pytest.raises(ValidationError, match="byte 0x81 at offset 14 cannot be read as cp1252"):
        load_golden_set(b"text,label\ncaf\x81,1\n", tmp_path, filename="l.csv", encoding="cp1252")


def test_flag_checks_say_what_would_be_valid():
    assert check_delimiter("semicolon", source="--delimiter") == ";" and check_delimiter("\\t", source="x") == "\t"
    assert check_encoding("Latin1", source="--encoding") == "latin-1"
    with pytest.raises(ConfigError, match=r"^--delimiter: ':' is not a delimiter cope-eval reads; use one of"):
        check_delimiter(":", source="--delimiter")
    with pytest.raises(ConfigError, match=r"^--encoding: 'utf-16' is not an encoding cope-eval reads"):
        check_encoding("utf-16", source="--encoding")


# --- label rules ------------------------------------------------------------------------------------

def test_threshold_rule_turns_fractions_into_labels(tmp_path):
    result = load_golden_set(HATE, tmp_path, filename="hate.csv", spec=SPEC, label_rule=LabelRule(threshold=0.5))
    assert labels(result) == {"h1": 0, "h2": 1, "h3": 0, "h4": 1, "h5": 0}  # 0.5 >= 0.5 is 1
    assert result.rule.describe() == ("delimiter semicolon (sniffed); encoding utf-8 (detected); columns "
                                      "text='comment', label='isHate', id='id'; label rule: 1 when value ≥ 0.5, else 0")
    scores = b"text,score\na,3\nb,4.5\nc,1\n"  # scores on any scale
    assert load_golden_set(scores, tmp_path, filename="s.csv", spec=ColumnSpec(label="score"),
                           label_rule=LabelRule(threshold=4)).golden_set.items["label"].tolist() == [0, 1, 0]


def test_threshold_rule_rejects_what_is_not_a_number_naming_file_row_and_column(tmp_path):
    data = b"text,isHate\na,0.2\nb,lots\nc,\nd,inf\n"
    with pytest.raises(ValidationError) as info:
        load_golden_set(data, tmp_path, filename="h.csv", spec=ColumnSpec(label="isHate"),
                        label_rule=LabelRule(threshold=0.5))
    assert [str(p) for p in info.value.problems] == [
        "h.csv, row 2, column 'isHate': label is not a number (label rule: 1 when value ≥ 0.5, else 0) (value 'lots')",
        "h.csv, row 3, column 'isHate': label is missing (label rule: 1 when value ≥ 0.5, else 0)",
        "h.csv, row 4, column 'isHate': label is not a number (label rule: 1 when value ≥ 0.5, else 0) (value 'inf')",
    ]
    assert "label_rule" not in info.value.options, "a rule was given: the fix is the file or the rule's values"


def test_map_rule_is_case_insensitive_and_rejects_unlisted_values(tmp_path):
    data = b"text,verdict\na,Yes\nb,no\nc,maybe\n"
    rule = LabelRule(mapping=parse_label_map("yes=1, no=0", source="--label-map"))
    result = load_golden_set(data, tmp_path, filename="v.csv", spec=ColumnSpec(label="verdict"), label_rule=rule,
                             drop_bad_rows=True)
    assert result.golden_set.items["label"].tolist() == [1, 0]
    assert [str(p) for p in result.problems] == [
        "v.csv, row 3, column 'verdict': label is not in the label map (label rule: map 'yes'=1, 'no'=0) (value 'maybe')"]


def test_the_default_rule_points_at_a_label_rule_for_fractions(tmp_path):
    with pytest.raises(ValidationError) as info:
        load_golden_set(HATE, tmp_path, filename="hate.csv", spec=SPEC)
    assert info.value.options[0] == "label_rule"
    assert "hate.csv, row 2, column 'isHate': label must be 0 or 1 (value '0.83')" in str(info.value)


@pytest.mark.parametrize("text, said", [
    ("yes", "--label-map: 'yes' has no '='"), ("yes=2", "'yes=2' maps to '2'; a value maps to 1 or 0"),
    ("=1", "'=1' names no value before '='"), ("a=1,A=0", "'A' is mapped to both 0 and 1"), ("", "no values given"),
])
def test_bad_label_maps(text, said):
    with pytest.raises(ConfigError, match=said):
        parse_label_map(text, source="--label-map")


def test_label_map_parsing():
    assert parse_label_map(" yes = 1 , no=0,true=1,", source="x") == (("yes", 1), ("no", 0), ("true", 1))
    assert parse_label_map("a=b=1", source="x") == (("a=b", 1),)  # the last '=' splits


@pytest.mark.parametrize("value, said", [("abc", "'abc' is not a number"), ("nan", "'nan' is not a finite number"),
                                         (None, "None is not a number")])
def test_bad_thresholds(value, said):
    with pytest.raises(ConfigError, match=f"^--label-threshold: {said}"):
        parse_label_threshold(value, source="--label-threshold")
    assert parse_label_threshold("0", source="x") == 0.0  # 0 is a value


def test_a_rule_is_a_threshold_or_a_map_not_both():
    with pytest.raises(ConfigError, match="not both"):
        LabelRule(threshold=0.5, mapping=(("yes", 1),))
    assert LabelRule(threshold=0.0).kind == "threshold", "0 is a threshold, not 'no rule'"


# --- video column -----------------------------------------------------------------------------------

def test_a_chosen_video_column_is_read_as_the_video(tmp_path):
    data = b"text,label,clip\na,1,\nb,0,https://x/v.mp4\n"
    result = load_golden_set(data, tmp_path, filename="v.csv", spec=ColumnSpec(video="clip"))
    items = result.golden_set.items
    assert items["video"].tolist()[1] == "https://x/v.mp4" and items["video"].isna().tolist() == [True, False]
    assert items["video_digest"].isna().all(), "a URL not fetched has no digest: it is hashed by reference"
    assert [w.problem for w in result.warnings] == [
        "1 video URL(s) kept as references, not fetched (URL fetching is off)"]
    assert ("video", "clip") in result.rule.columns and "clip" not in items.columns


# --- the rule kept with the set ---------------------------------------------------------------------

def test_the_import_rule_is_stored_with_the_set_and_its_later_versions(workspace, tmp_path):
    result = load_golden_set(HATE + b"h6;;1\n", tmp_path, filename="hate.csv", spec=SPEC,
                             label_rule=LabelRule(threshold=0.5), drop_bad_rows=True)
    with Store(workspace.private_dir) as store:
        golden = add_golden_set(store, result, origin="upload hate.csv")
        note = import_note(store, golden.hash)
        assert note == ("upload hate.csv; delimiter semicolon (sniffed); encoding utf-8 (detected); columns "
                        "text='comment', label='isHate', id='id'; label rule: 1 when value ≥ 0.5, else 0; "
                        "left out 1 rejected row(s): 6")
        v2 = correct_label(store, golden.hash, "h3", 1, author="ana", reason="it is hateful")
        assert import_note(store, v2.hash) == note, "a corrected version still says how its labels were derived"
        assert import_note(store, "sha256:unknown") == ""


# --- the page's logic -------------------------------------------------------------------------------

def test_page_helpers(tmp_path):
    preview = preview_file(HATE, filename="hate.csv")
    assert preview.delimiter == ";" and preview.guessed["id"] == "id" and preview.guessed["label"] is None
    assert label_values(preview, "isHate")[0] == "0.0" and set(label_values(preview, "isHate")) == {
        "0.0", "0.83", "0.33", "0.5", "0"}
    problems = [RowProblem("f", 2, "isHate", "0.83", "label must be 0 or 1")]
    assert suggested_fix(problems, "isHate") == "threshold"
    assert suggested_fix([RowProblem("f", 2, "v", "maybe", "label must be 0 or 1")], "v") == "map"
    assert suggested_fix([RowProblem("f", 2, "id", "x", "duplicate id: row 1 has the same id")], "v") is None
    assert label_rule_from("threshold", threshold=0.0) == LabelRule(threshold=0.0)
    with pytest.raises(ConfigError, match="pick the values that mean 1"):
        label_rule_from("map")
    dropped = load_golden_set(HATE, tmp_path, filename="hate.csv", spec=SPEC, drop_bad_rows=True)
    assert save_label(dropped) == "Save the 2 valid rows (leaves out 3)"
