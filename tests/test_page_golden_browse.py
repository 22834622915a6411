"""The Golden sets page reads pages, not sets: Browse pages through the store's copy with totals,
and the import step's preview reads only the file's first rows (the load still reads it all)."""

from cope_eval.golden import _load
from cope_eval.store import Store
from pages import _state
from tests.apptest import open_page, table, texts
from tests.factories import make_golden


def _never_whole(monkeypatch) -> list[str]:
    """Record every read of a stored set in full (``Store.golden_set``), still doing it."""
    calls, whole = [], Store.golden_set

    def golden_set(self, golden_hash):
        calls.append(golden_hash)
        return whole(self, golden_hash)

    monkeypatch.setattr(Store, "golden_set", golden_set)
    return calls


def test_browse_pages_through_a_stored_set_with_totals(workspace, monkeypatch):
    golden = make_golden(120)
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
    whole = _never_whole(monkeypatch)
    at = open_page("golden_sets", monkeypatch)

    assert not at.exception
    assert "rows 1–50 of 120 · 120 of 120 items match" in texts(at)
    assert table(at, "thumbnail")["id"].tolist() == [f"item-{i:05d}" for i in range(50)]

    at.number_input(key=_state.GOLDEN_PAGE).set_value(3).run()
    assert not at.exception
    assert "rows 101–120 of 120" in texts(at)
    assert table(at, "thumbnail")["id"].tolist() == [f"item-{i:05d}" for i in range(100, 120)]
    assert "120 items: 60 labeled 1, 60 labeled 0" in texts(at)

    at.selectbox(key=_state.GOLDEN_LABEL_FILTER).select(1).run()  # 60 match: page 3 is past the end
    assert not at.exception
    assert "rows 51–60 of 60 · 60 of 120 items match" in texts(at)
    assert table(at, "thumbnail")["id"].tolist() == [f"item-{i:05d}" for i in range(101, 120, 2)]
    assert whole == [], "Browse read the whole set"


def test_the_preview_reads_only_its_first_rows_and_the_import_names_a_bad_row_past_them(workspace, monkeypatch):
    lines = ["id,text,label"] + [f"i{i},post {i},{i % 2}" for i in range(1, 6001)]
    lines[5000] = "i5000,post 5000,1,an extra field"  # row 5,000 is malformed
    reads = []

    def read_table(source, name, *args, **kwargs):
        reads.append(name)
        return _read_table(source, name, *args, **kwargs)

    _read_table = _load.read_table
    monkeypatch.setattr(_load, "read_table", read_table)
    at = open_page("golden_sets", monkeypatch)
    at.file_uploader(key=_state.GOLDEN_UPLOAD).set_value(
        ("big.csv", ("\n".join(lines) + "\n").encode(), "text/csv")).run()

    assert not at.exception
    assert table(at, "id")["id"].tolist()[:5] == ["i1", "i2", "i3", "i4", "i5"]  # the preview, first 5 rows
    problems = table(at, "problem")
    assert problems["row"].tolist() == [5000]
    assert problems["problem"].tolist() == ["row has 4 fields but the header has 3"]
    assert reads == ["big.csv"], "only the load read the whole file, the preview did not"
