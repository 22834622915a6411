"""``preview_file(rows=N)`` reads only a file's first records, as the full read would read them."""

import io

import pandas as pd
import pytest

from cope_eval.errors import ValidationError
from cope_eval.golden import load_golden_set, preview_file


def test_a_csv_preview_stops_before_bytes_the_load_rejects(tmp_path):
    path = tmp_path / "big.csv"
    head = "id,text,label\n" + "".join(f"i{i},post {i},{i % 2}\n" for i in range(1, 5000))
    path.write_bytes(head.encode() + b"i5000,caf\xe9,1\n")  # row 5,000 is not UTF-8

    preview = preview_file(path, encoding="utf-8", rows=5)

    assert preview.frame["id"].tolist() == ["i1", "i2", "i3", "i4", "i5"]
    assert (preview.delimiter, preview.encoding, preview.encoding_how) == (",", "utf-8", "chosen")
    with pytest.raises(ValidationError, match="cannot be read as utf-8"):
        load_golden_set(path, tmp_path, encoding="utf-8")


@pytest.mark.parametrize("data", [
    "id;text;label\nh1;caf\xe9;0\nh2;na\xefve;1\nh3;x;1\n".encode("cp1252"),
    "\ufeffid\ttext\tlabel\r\nh1\t\"a\nb\"\t0\r\nh2\t\tn\r\nh3\tc\t1\r\n".encode("utf-8"),
    "id,text,label\nh1,a,0\nh2, b ,1\nh3,c,1\n".encode("utf-16"),
])
def test_the_first_rows_read_as_the_whole_file_reads_them(data):
    whole = preview_file(data, filename="f.csv")
    first = preview_file(data, filename="f.csv", rows=2)

    assert (first.delimiter, first.delimiter_how, first.encoding, first.guessed) == (
        whole.delimiter, whole.delimiter_how, whole.encoding, whole.guessed)
    pd.testing.assert_frame_equal(first.frame, whole.frame.head(2))


def test_jsonl_and_parquet_previews_read_their_first_records():
    lines = [f'{{"text": "t{i}", "label": {i % 2}}}' for i in range(10)] + ["{not json"]
    jsonl = preview_file("\n".join(lines).encode(), filename="f.jsonl", rows=3)
    assert jsonl.frame["text"].tolist() == ["t0", "t1", "t2"]

    buffer = io.BytesIO()
    pd.DataFrame({"id": [10, 11, 12], "text": ["a", "b", "c"], "label": [0, 1, 0]}).to_parquet(buffer)
    parquet = preview_file(buffer.getvalue(), filename="f.parquet", rows=2)
    # integers as text, as the whole file is read
    assert parquet.frame.to_dict("list") == {"id": ["10", "11"], "text": ["a", "b"], "label": ["0", "1"]}
