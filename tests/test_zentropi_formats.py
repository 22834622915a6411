"""Zentropi criteria and test-sample files, round-tripped through the golden-set loader."""

import base64
import csv
import io
import json

import pandas as pd
import pytest
from PIL import Image

from cope_eval.export._zentropi import (
    CSV_COLUMNS, criteria_bytes, criteria_warnings, samples_csv, samples_json, zentropi_model,
    zentropi_samples
)
from cope_eval.golden import golden_set_hash, load_golden_set
from cope_eval.records import GoldenSet
from tests.factories import make_policy


def png(color: str, size=(3, 2)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


@pytest.fixture
def golden(workspace) -> GoldenSet:
    """Text, unicode, quotes and newlines, an image-only item, a workspace image, an inline image."""
    (workspace.root / "golden_sets" / "img").mkdir(parents=True)
    (workspace.root / "golden_sets" / "img" / "blue.png").write_bytes(png("blue"))
    items = pd.DataFrame({
        "id": ["t1", "t2", "t3", "img-only", "img-path", "img-inline"],
        "text": ["I will hurt you", "Ça va? “quoted”, comma", "two\nlines\r\nhere", "", "caption", "meme text"],
        "label": [1, 0, 0, 1, 0, 1],
        "image": [None, None, None, data_url(png("red")), "golden_sets/img/blue.png", data_url(png("green"))],
        "category": ["threat", "other", "other", "threat", "other", "threat"],
    })
    return GoldenSet("zset", golden_set_hash(items), items)


def reload(data: bytes, name: str, workspace):
    return load_golden_set(data, workspace.root, filename=name).golden_set.items


def test_json_samples_keep_content_labels_ids_and_embed_images(golden, workspace):
    samples = zentropi_samples(golden, workspace.root)
    data = samples_json(samples)
    records = json.loads(data)

    assert records[0] == {"content_text": "I will hurt you", "expected_label": "1", "sample_id": "t1",
                          "category": "threat"}  # the category as an extra field (test_golden_metadata.py)
    assert records[3] == {"content_image": golden.items["image"][3], "expected_label": "1", "sample_id": "img-only",
                          "category": "threat"}
    assert all(set(r) <= {"content_text", "content_image", "expected_label", "sample_id", "category"}
               for r in records)
    assert all(r["expected_label"] in ("0", "1") for r in records)
    assert samples.skipped == () and samples.warnings == ()

    back = reload(data, "samples.json", workspace)
    original = golden.items
    assert list(back["id"]) == list(original["id"])
    assert list(back["text"]) == list(original["text"])
    assert list(back["label"]) == list(original["label"])
    assert back["image"][3] == original["image"][3] and back["image"][5] == original["image"][5]
    assert back["image"][4] == data_url(png("blue")), "a workspace image is embedded with its own bytes"
    assert back["image"][:3].isna().all()


def test_json_samples_without_ids_still_match_on_content_and_labels(golden, workspace):
    records = [{k: v for k, v in r.items() if k != "sample_id"}
               for r in zentropi_samples(golden, workspace.root).records]

    back = reload(json.dumps(records).encode(), "samples.json", workspace)

    assert list(zip(back["text"], back["label"])) == list(zip(golden.items["text"], golden.items["label"]))
    assert back["id"].str.startswith("gen-").all()


def test_csv_samples_have_zentropis_header_and_round_trip(golden, workspace):
    data = samples_csv(zentropi_samples(golden, workspace.root))
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))

    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1] == ["I will hurt you", "", "", "1", "t1"]
    assert rows[4][0] == "" and rows[4][1].startswith("data:image/png;base64,")
    back = reload(data, "samples.csv", workspace)
    for column in ("id", "text", "label"):
        assert list(back[column]) == list(golden.items[column]), column
    assert list(back["image"][3:]) == [golden.items["image"][3], data_url(png("blue")), golden.items["image"][5]]


def test_formula_like_texts_are_neutralised_in_csv_and_exact_in_json(workspace):
    texts = ["=1+1", "+49 123", "-5 reasons", "@user hello", "\tindented", "\r\nnewline first", "plain"]
    items = pd.DataFrame({"id": [f"f{i}" for i in range(7)], "text": texts, "label": [0, 1] * 3 + [0],
                          "image": [None] * 7, "category": [None] * 7})
    samples = zentropi_samples(GoldenSet("f", golden_set_hash(items), items), workspace.root)

    cells = [row[0] for row in csv.reader(io.StringIO(samples_csv(samples).decode(), newline=""))][1:]
    assert cells == ["'" + t for t in texts[:6]] + ["plain"]
    assert [r["content_text"] for r in json.loads(samples_json(samples))] == texts
    assert samples.warnings == ("6 text(s) start with =, +, -, @, tab or CR: the CSV file prefixes them with an "
                                "apostrophe for spreadsheet safety; the JSON file keeps them exact",)
    back = reload(samples_csv(samples), "f.csv", workspace)
    assert list(back["text"]) == ["'" + t for t in texts[:6]] + ["plain"], "a re-import sees the apostrophe"


def test_unreadable_images_are_left_out_and_urls_kept_with_warnings(workspace):
    items = pd.DataFrame({"id": ["gone", "url", "ok"], "text": ["a", "b", "c"], "label": [1, 0, 1],
                          "image": ["golden_sets/missing.png", "https://example.org/x.png", None],
                          "category": [None] * 3})
    samples = zentropi_samples(GoldenSet("bad", golden_set_hash(items), items), workspace.root)

    assert [r["sample_id"] for r in samples.records] == ["url", "ok"]
    assert samples.records[0]["content_image"] == "https://example.org/x.png"
    (problem,) = samples.skipped
    assert (problem.file, problem.row, problem.column) == ("bad", 1, "image")
    assert "item 'gone' left out: image file not found in the workspace" in problem.problem
    assert any("1 image or video URL(s) kept as URLs" in w for w in samples.warnings)
    assert any("1 item(s) left out" in w for w in samples.warnings)


def test_criteria_are_the_policy_bytes_and_get_layout_advice():
    text = "\ufeff# Criteria\r\n## Overview\r\nThreats.\r\n"
    assert criteria_bytes(make_policy(text)) == text.encode("utf-8")

    good = ("# Criteria\n\n## Definition of Label\n\n#### Includes\n- threats\n\n#### Excludes\n"
            "- news\n* fiction\n1. sport\n")
    assert criteria_warnings(good) == ()
    assert criteria_warnings("# Criteria\n#### Includes\n- a\n#### Excludes\n- b\n- c\n") == (
        "only 2 exclusion(s) under Excludes: Zentropi's guide asks for at least 3-4",)
    assert criteria_warnings("Flag threats.") == (
        "no '# Criteria' heading: Zentropi policies start with one",
        "no '#### Includes' list under the label definition",
        "no '#### Excludes' list: Zentropi's guide asks for at least 3-4 exclusions",
    )


@pytest.mark.parametrize("served, zentropi", [
    ("zentropi-ai/cope-b-a4b-mm", "cope-b-a4b-mm"), ("cope-a-9b", "cope-a-9b"), ("Zentropi-AI/CoPE-B-A4B", "cope-b-a4b"),
    ("smollm2", None), ("openai/gpt-oss-safeguard-20b", None),
])
def test_served_model_names_map_to_zentropis(served, zentropi):
    assert zentropi_model(served) == zentropi
