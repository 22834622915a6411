"""``run``'s golden-set import flags: --delimiter, --encoding, --label-threshold, --label-map.

A bad value is one ``error:`` line naming the flag and what would be valid (exit 2, no
traceback); a good one loads the file as asked and stores the rule with the set.
"""

from __future__ import annotations

import pytest

from cope_eval.cli import main
from cope_eval.store import Store
from tests.stub_server import StubServer
from tests.test_cli_errors import one_error_line

HATE = "id;comment;isHate\nh1;you are lovely;0.0\nh2;I hate all of them;0.83\nh3;meh, whatever;0.33\nh4;borderline;0.5\n"
YES_NO = "text,label\nfine post,no\nthreat,YES\nanother,No\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "hate.csv").write_text(HATE)
    (tmp_path / "yesno.csv").write_text(YES_NO)
    (tmp_path / "policy.md").write_text("# Criteria\n\nFlag hate.\n")
    return tmp_path


def run(files, golden, *flags):
    with StubServer() as server:
        return main(["run", "--golden", str(files / golden), "--policy", str(files / "policy.md"),
                     "--base-url", server.base_url, "--model", "stub", *flags])


def stored(workspace):
    with Store(workspace.private_dir) as store:
        sets = store.golden_sets()
        return sets, {h: store.golden_set(h).items for h in sets["hash"]}


def test_label_threshold_turns_fractions_into_labels_and_the_rule_is_stored(workspace, files, capsys):
    assert run(files, "hate.csv", "--text-column", "comment", "--label-column", "isHate",
               "--label-threshold", "0.5") == 0, capsys.readouterr().err
    sets, items = stored(workspace)
    [golden] = items.values()
    assert golden.set_index("id")["label"].to_dict() == {"h1": 0, "h2": 1, "h3": 0, "h4": 1}  # 0.5 ≥ 0.5
    source = sets["source"].item()
    assert source.startswith(f"file {files / 'hate.csv'}; delimiter semicolon (sniffed); encoding utf-8 (detected)")
    assert "columns text='comment', label='isHate', id='id'" in source
    assert source.endswith("label rule: 1 when value ≥ 0.5, else 0")


def test_label_map_and_an_explicit_delimiter(workspace, files, capsys):
    assert run(files, "yesno.csv", "--label-map", "yes=1,no=0", "--delimiter", ",") == 0, capsys.readouterr().err
    sets, items = stored(workspace)
    [golden] = items.values()
    assert golden.set_index("text")["label"].to_dict() == {"fine post": 0, "threat": 1, "another": 0}
    assert "delimiter comma (chosen)" in sets["source"].item()
    assert sets["source"].item().endswith("label rule: map 'yes'=1, 'no'=0")


def test_without_a_label_rule_fractions_are_refused_with_the_flags_that_fix_them(workspace, files, capsys):
    assert run(files, "hate.csv", "--text-column", "comment", "--label-column", "isHate") == 2
    line = one_error_line(capsys)
    assert "hate.csv was rejected" in line and "row 2, column 'isHate': label must be 0 or 1 (value '0.83')" in line
    assert line.endswith("turn other label values into 0/1 with --label-threshold T or --label-map 'yes=1,no=0'.")
    assert stored(workspace)[0].empty


def test_a_value_outside_the_label_map_names_file_row_and_column(workspace, files, capsys):
    assert run(files, "yesno.csv", "--label-map", "yes=1") == 2
    line = one_error_line(capsys)
    assert "yesno.csv, row 1, column 'label': label is not in the label map (label rule: map 'yes'=1) (value 'no')" in line


@pytest.mark.parametrize("flags, said", [
    (["--label-threshold", "abc"], "error: --label-threshold: 'abc' is not a number; give the value at or above "
                                   "which the label is 1, e.g. 0.5"),
    (["--label-threshold", "nan"], "error: --label-threshold: 'nan' is not a finite number; give e.g. 0.5"),
    (["--label-map", "yes"], "error: --label-map: 'yes' has no '='; write value=1 or value=0 pairs separated by "
                             "commas, e.g. 'yes=1,no=0'"),
    (["--label-map", "yes=2"], "error: --label-map: 'yes=2' maps to '2'; a value maps to 1 or 0"),
    (["--label-map", "yes=1,YES=0"], "error: --label-map: 'YES' is mapped to both 0 and 1"),
    (["--label-map", ","], "error: --label-map: no values given; write value=1 or value=0 pairs, e.g. 'yes=1,no=0'"),
    (["--delimiter", "x"], "error: --delimiter: 'x' is not a delimiter cope-eval reads; use one of ',' (comma), "
                           "';' (semicolon), '\\t' (tab), '|' (pipe)"),
    (["--encoding", "klingon"], "error: --encoding: 'klingon' is not an encoding cope-eval reads; use one of utf-8, "
                                "utf-8-sig, latin-1, cp1252"),
])
def test_a_bad_flag_value_is_one_line_naming_the_flag(workspace, files, capsys, flags, said):
    assert run(files, "hate.csv", *flags) == 2
    assert one_error_line(capsys) == said
    assert stored(workspace)[0].empty


def test_label_threshold_and_label_map_exclude_each_other(workspace, files, capsys):
    with pytest.raises(SystemExit) as info:
        run(files, "hate.csv", "--label-threshold", "0.5", "--label-map", "yes=1")
    assert info.value.code == 2
    assert "--label-map: not allowed with argument --label-threshold" in capsys.readouterr().err


def test_a_wrong_encoding_or_delimiter_says_which_flag_fixes_it(workspace, files, capsys):
    (files / "latin.csv").write_bytes("text;label\ncafé;1\n".encode("latin-1"))
    assert run(files, "latin.csv", "--encoding", "utf-8") == 2
    line = one_error_line(capsys)
    assert "latin.csv: byte 0xe9 at offset 14 cannot be read as utf-8" in line
    assert line.endswith("choose the encoding with --encoding")
    assert run(files, "latin.csv", "--encoding", "latin1") == 0
    capsys.readouterr()
    assert stored(workspace)[1].popitem()[1]["text"].tolist() == ["café"]

    assert run(files, "hate.csv", "--delimiter", "tab", "--text-column", "comment") == 2
    line = one_error_line(capsys)
    assert "(one column: is the file separated by another delimiter?); choose the delimiter with --delimiter" in line
