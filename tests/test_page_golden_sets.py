"""The Golden sets page: upload with row errors shown first, browse, balance, label corrections."""

import shutil
import time

import numpy as np
import pandas as pd

from cope_eval.golden import golden_set_hash
from cope_eval.insight._studies import Variant, create_study
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _state
from tests.apptest import messages, open_page, table, texts
from tests.browser import REPO_ROOT
from tests.factories import make_golden, make_policy

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
BAD_CSV = (
    "id,text,label,category\n"
    "a1,fine post,0,spam\n"
    "a2,another post,maybe,spam\n"
    f"a3,\"{HOSTILE}\",1,xss\n"
    "a4,last post,1,spam\n"
).encode()


def _stored(workspace) -> pd.DataFrame:
    with Store(workspace.private_dir) as store:
        return store.golden_sets()


def test_empty_workspace_renders(workspace, monkeypatch):
    at = open_page("golden_sets", monkeypatch)

    assert not at.exception
    assert "No golden sets saved yet" in texts(at)


def test_upload_with_a_bad_row_shows_it_before_anything_is_saved(workspace, monkeypatch):
    at = open_page("golden_sets", monkeypatch)
    at.file_uploader(key=_state.GOLDEN_UPLOAD).set_value(("posts.csv", BAD_CSV, "text/csv")).run()

    assert not at.exception
    assert any("1 problem(s) in 1 row(s)" in m for m in messages(at, "error"))
    problems = table(at, "problem")
    assert problems["row"].tolist() == [2] and problems["value"].tolist() == ["maybe"]
    assert _stored(workspace).empty, "nothing is saved before the user says so"
    preview = table(at, "thumbnail")
    assert HOSTILE in preview["text"].tolist()

    # Fixing the mapping comes first; saving the valid rows is second and says what it leaves out.
    assert at.button(key=_state.GOLDEN_IMPORT_FIX).proto.type == "primary"
    save = at.button(key=_state.GOLDEN_SAVE)
    assert save.label == "Save the 3 valid rows (leaves out 1)" and save.proto.type == "secondary"
    save.click().run()

    assert not at.exception
    saved = _stored(workspace)
    assert saved["n_items"].tolist() == [3]
    assert saved["source"].item() == ("upload posts.csv; delimiter comma (sniffed); encoding utf-8 (detected); "
                                      "columns text='text', label='label', id='id', category='category'; "
                                      "label rule: 0 and 1 as in the file; left out 1 rejected row(s): 2")
    assert at.selectbox(key=_state.GOLDEN_HASH).value == saved["hash"][0]


def test_a_file_that_cannot_be_read_is_one_error(workspace, monkeypatch):
    at = open_page("golden_sets", monkeypatch)
    at.file_uploader(key=_state.GOLDEN_UPLOAD).set_value(("x.csv", b"text,colour\nhi,red\n", "text/csv")).run()

    assert not at.exception
    assert len(messages(at, "error")) == 1 and "label" in messages(at, "error")[0]
    # In the user's words: no library parameter (it said "set ColumnSpec(label=...)").
    [error] = messages(at, "error")
    assert "no label column" in error and "ColumnSpec" not in error
    assert error.endswith('choose it in "Label column" above')  # the import step's control


def test_workspace_file_with_images_shows_thumbnails_and_balance(workspace, monkeypatch):
    shutil.copytree(REPO_ROOT / "golden_sets" / "images", workspace.golden_sets_dir / "images")
    at = open_page("golden_sets", monkeypatch)
    at.selectbox(key=_state.GOLDEN_FILE).select("images/harassment-images.csv").run()
    preview = table(at, "thumbnail")
    assert preview["thumbnail"].str.startswith("data:image/png;base64,").all()

    at.button(key=_state.GOLDEN_SAVE).click().run()

    balance = table(at, "share 1")
    assert balance["category"].iloc[0] == "(all)" and balance["items"].iloc[0] == len(preview)
    assert set(balance["category"]) > {"meme"}


def test_a_study_item_subset_is_neither_the_default_set_nor_offered(workspace, monkeypatch):
    golden = make_golden(6, name="analyst")
    with Store(workspace.private_dir) as store:
        endpoint = Endpoint("http://127.0.0.1:9/v1", "m")
        base = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint)
        create_study(store, kind="ablation", base_run=base, item_ids=golden.items["id"][:2],
                     variants=[Variant("without:1", "without 1", "# x\n")])
    at = open_page("golden_sets", monkeypatch)

    assert not at.exception
    menu = at.selectbox(key=_state.GOLDEN_HASH)
    assert menu.value == golden.hash, "the analyst's set stays the default"
    assert len(menu.options) == 1 and "ablation items" not in menu.options[0]


def test_search_filter_and_correct_a_label(workspace, monkeypatch):
    golden = make_golden(8, texts=[f"post {i}" for i in range(7)] + [HOSTILE])
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
    at = open_page("golden_sets", monkeypatch)
    at.text_input(key=_state.GOLDEN_SEARCH).input("SCRIPT").run()
    assert table(at, "thumbnail")["id"].tolist() == ["item-00007"]

    at.text_input(key=_state.GOLDEN_SEARCH).input("").run()
    at.selectbox(key=_state.GOLDEN_LABEL_FILTER).select(1).run()
    at.selectbox(key=_state.GOLDEN_CATEGORY_FILTER).select("b").run()
    shown = table(at, "thumbnail")
    assert (shown["label"] == 1).all() and (shown["category"] == "b").all() and len(shown) == 4

    at.selectbox(key=_state.RELABEL_ITEM).select("item-00003")
    at.radio(key=_state.RELABEL_LABEL).set_value(0)
    at.text_input(key=_state.RELABEL_REASON).input("a quote, not an attack")
    at.text_input(key=_state.RELABEL_AUTHOR).input("ana")
    at.button(key=_state.RELABEL_SAVE).click().run()

    assert not at.exception
    sets = _stored(workspace)
    assert len(sets) == 2
    new_hash = sets.loc[sets["parent_hash"] == golden.hash, "hash"].item()
    assert at.selectbox(key=_state.GOLDEN_HASH).value == new_hash
    history = table(at, "reason")
    assert history[["item_id", "old_label", "new_label", "author"]].values.tolist() == [["item-00003", 1, 0, "ana"]]


def test_a_correction_without_a_reason_is_one_error(workspace, monkeypatch):
    with Store(workspace.private_dir) as store:
        store.put_golden_set(make_golden(4))
    at = open_page("golden_sets", monkeypatch)
    at.button(key=_state.RELABEL_SAVE).click().run()

    assert not at.exception
    assert len(messages(at, "error")) == 1 and "needs a reason" in messages(at, "error")[0]
    assert len(_stored(workspace)) == 1


def test_a_100k_item_set_stays_usable(workspace, monkeypatch):
    n = 100_000
    items = pd.DataFrame({"id": [f"i{i:06d}" for i in range(n)], "text": [f"post {i}" for i in range(n)],
                          "label": np.arange(n) % 2, "image": None,
                          "category": np.array(["a", "b", "c"])[np.arange(n) % 3]})
    with Store(workspace.private_dir) as store:
        store.put_golden_set(GoldenSet("big", golden_set_hash(items), items))
    at = open_page("golden_sets", monkeypatch)
    assert len(table(at, "thumbnail")) == 50

    started = time.perf_counter()
    at.text_input(key=_state.GOLDEN_SEARCH).input("post 9999").run()
    assert time.perf_counter() - started < 5
    assert not at.exception
    assert "11 of 100,000 items match" in texts(at)


# --- the import step: delimiter, encoding, columns, label rule ------------------------------------

HATE_CSV = ("id;comment;isHate\n"
            "h1;you are lovely;0.0\nh2;I hate all of them;0.83\nh3;meh, whatever;0.33\nh4;borderline;0.5\n"
            "h5;so kind;0.0\n").encode()


def column(role: str) -> str:
    return f"{_state.GOLDEN_IMPORT_COLUMN}:{role}"


def test_a_semicolon_file_with_fractional_labels_is_imported_with_a_threshold(workspace, monkeypatch):
    at = open_page("golden_sets", monkeypatch)
    at.file_uploader(key=_state.GOLDEN_UPLOAD).set_value(("hate.csv", HATE_CSV, "text/csv")).run()

    assert not at.exception
    assert at.selectbox(key=_state.GOLDEN_IMPORT_DELIMITER).format_func("auto") == "sniffed: semicolon"
    assert at.selectbox(key=column("id")).value == "id" and at.selectbox(key=column("text")).value == "(detect by name)"
    assert "choose it in \"Text column\" above" in messages(at, "error")[0]  # in the control's words

    at.selectbox(key=column("text")).select("comment")
    at.selectbox(key=column("label")).select("isHate").run()
    # 0.83, 0.33 and 0.5 are fractions: fixing the mapping is the first action, and it says how.
    fix = at.button(key=_state.GOLDEN_IMPORT_FIX)
    assert fix.label == "Fix the mapping: label 1 when value ≥ 0.5" and fix.proto.type == "primary"
    assert at.button(key=_state.GOLDEN_SAVE).label == "Save the 2 valid rows (leaves out 3)"

    at.radio(key=_state.GOLDEN_IMPORT_RULE).set_value("threshold").run()
    at.number_input(key=_state.GOLDEN_IMPORT_THRESHOLD).set_value(0.5).run()
    assert not at.exception and not messages(at, "error")
    save = at.button(key=_state.GOLDEN_SAVE)
    assert save.label == "Save 5 valid items as golden set" and save.proto.type == "primary"
    save.click().run()

    saved = _stored(workspace)
    assert saved["n_items"].tolist() == [5]
    assert saved["source"].item().endswith("columns text='comment', label='isHate', id='id'; "
                                           "label rule: 1 when value ≥ 0.5, else 0")
    balance = table(at, "share 1")
    assert balance[["items", "gold 1", "gold 0"]].values.tolist()[0] == [5, 2, 3]
    assert "label rule: 1 when value ≥ 0.5" in texts(at), "the set shows how its labels were derived"


def test_the_fix_button_applies_the_suggested_rule(workspace, monkeypatch):
    at = open_page("golden_sets", monkeypatch)
    at.file_uploader(key=_state.GOLDEN_UPLOAD).set_value(("hate.csv", HATE_CSV, "text/csv")).run()
    at.selectbox(key=column("text")).select("comment")
    at.selectbox(key=column("label")).select("isHate").run()
    at.button(key=_state.GOLDEN_IMPORT_FIX).click().run()

    assert not at.exception
    assert at.radio(key=_state.GOLDEN_IMPORT_RULE).value == "threshold"
    assert at.button(key=_state.GOLDEN_SAVE).label == "Save 5 valid items as golden set"
    assert _stored(workspace).empty


def test_a_label_map_and_an_overridden_delimiter(workspace, monkeypatch):
    data = "text|verdict\nfine post|no\nthreat|yes\nunsure|maybe\n".encode()
    at = open_page("golden_sets", monkeypatch)
    at.file_uploader(key=_state.GOLDEN_UPLOAD).set_value(("v.csv", data, "text/csv")).run()
    at.selectbox(key=_state.GOLDEN_IMPORT_DELIMITER).select(",").run()  # wrong on purpose: one column
    assert any('choose the Delimiter above' in m for m in messages(at, "error"))

    at.selectbox(key=_state.GOLDEN_IMPORT_DELIMITER).select("|").run()
    at.selectbox(key=column("label")).select("verdict")
    at.radio(key=_state.GOLDEN_IMPORT_RULE).set_value("map").run()
    assert set(at.multiselect(key=_state.GOLDEN_IMPORT_ONES).options) == {"no", "yes", "maybe"}
    at.multiselect(key=_state.GOLDEN_IMPORT_ONES).select("yes")
    at.multiselect(key=_state.GOLDEN_IMPORT_ZEROS).select("no").run()

    assert not at.exception
    problems = table(at, "problem")
    assert problems[["row", "column", "value"]].values.tolist() == [[3, "verdict", "maybe"]]
    assert "label is not in the label map" in problems["problem"].item()
    at.button(key=_state.GOLDEN_SAVE).click().run()
    assert _stored(workspace)["source"].item().endswith(
        "delimiter pipe (chosen); encoding utf-8 (detected); columns text='text', label='verdict'; "
        "label rule: map 'yes'=1, 'no'=0; left out 1 rejected row(s): 3")


def test_a_contradictory_map_and_a_wrong_encoding_are_errors_in_the_controls_words(workspace, monkeypatch):
    at = open_page("golden_sets", monkeypatch)
    at.file_uploader(key=_state.GOLDEN_UPLOAD).set_value(("l.csv", "text,label\ncafé,yes\n".encode("latin-1"),
                                                          "text/csv")).run()
    at.selectbox(key=_state.GOLDEN_IMPORT_ENCODING).select("utf-8").run()
    [error] = messages(at, "error")
    assert "cannot be read as utf-8" in error and error.endswith("choose the Encoding above")

    at.selectbox(key=_state.GOLDEN_IMPORT_ENCODING).select("latin-1").run()
    at.radio(key=_state.GOLDEN_IMPORT_RULE).set_value("map").run()
    at.multiselect(key=_state.GOLDEN_IMPORT_ONES).select("yes")
    at.multiselect(key=_state.GOLDEN_IMPORT_ZEROS).select("yes").run()
    [error] = messages(at, "error")
    assert "'yes' is in both \"Values that mean 1\" and \"Values that mean 0\"" in error and "LabelRule" not in error
    assert _stored(workspace).empty
