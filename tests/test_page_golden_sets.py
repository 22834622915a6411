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

    at.button(key=_state.GOLDEN_SAVE).click().run()

    assert not at.exception
    saved = _stored(workspace)
    assert saved["n_items"].tolist() == [3] and saved["source"].tolist() == ["upload posts.csv"]
    assert at.selectbox(key=_state.GOLDEN_HASH).value == saved["hash"][0]


def test_a_file_that_cannot_be_read_is_one_error(workspace, monkeypatch):
    at = open_page("golden_sets", monkeypatch)
    at.file_uploader(key=_state.GOLDEN_UPLOAD).set_value(("x.csv", b"text,colour\nhi,red\n", "text/csv")).run()

    assert not at.exception
    assert len(messages(at, "error")) == 1 and "label" in messages(at, "error")[0]
    # In the user's words: no library parameter (it said "set ColumnSpec(label=...)").
    [error] = messages(at, "error")
    assert "no label column" in error and "ColumnSpec" not in error
    assert error.endswith("rename the label column in the file to one of the names looked for")  # the page's remedy


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
