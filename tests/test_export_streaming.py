"""A bundle is written to disk a piece at a time, never whole in memory: the pieces add up to the
bytes one piece gives; the Export page's zip is built once per choice and found again (one recorded
look at the test split per export, none per re-render); a zip too large to download is named by
its path and the command that writes it."""

from __future__ import annotations

import json
import shlex
import zipfile

import pytest
from PIL import Image

import cope_eval.export
import cope_eval.export._apart
import cope_eval.export._archive
from cope_eval.cli import main
from cope_eval.errors import CopeEvalError
from cope_eval.export import (
    EXPORTS_FOLDER, FILES, build_bundle, export_command, extract_bundle, read_zipped, stage_bundle, zip_bundle,
    zip_bundle_apart,
)
from cope_eval.export._bundle import ExportError
from cope_eval.export._zentropi import samples_csv, samples_json, write_samples, zentropi_samples
from cope_eval.golden import make_split
from cope_eval.store import Store, recorded_reveals
from pages import _state
from tests.apptest import messages, open_page, texts
from tests.factories import make_golden
from tests.stub_server import Reply
from tests.test_export import ranked_scores, scored_run

CHANGING = ("exported", "test_split")
"""Card keys that differ between two builds of one choice: the time, and the looks before it."""


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


def _mixed_run(store, workspace, n=23):
    """A run over a split set with every kind of cell: an errored item, a formula-like text and
    category, an embedded image, an image that cannot be read, metadata."""
    (workspace.root / "golden_sets" / "images").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), "red").save(workspace.root / "golden_sets" / "images" / "red.png")
    texts_ = [f"post {i}" for i in range(n)]
    texts_[4] = "=HYPERLINK(\"http://evil\")"
    images = [None] * n
    images[2], images[7] = "golden_sets/images/red.png", "golden_sets/images/missing.png"
    categories = [("a", "b", "@c")[i % 3] for i in range(n)]
    golden = make_split(make_golden(n, texts=texts_, images=images, categories=categories), test_fraction=0.3, seed=1)
    scores = ranked_scores(golden)
    dev = golden.items.loc[golden.items["split"] == "dev", "text"].tolist()
    scores[dev[3]] = Reply(status=400, body=b'{"message": "bad"}')
    run, _ = scored_run(store, workspace, golden, scores)
    return run, golden


def _card(path) -> dict:
    card = json.loads(path.read_bytes())
    return {k: v for k, v in card.items() if k not in CHANGING}


def test_files_written_three_rows_at_a_time_are_the_bytes_of_one_piece(store, workspace, tmp_path):
    run, golden = _mixed_run(store, workspace)
    pieces, whole = tmp_path / "pieces", tmp_path / "whole"
    for folder, rows in ((pieces, 3), (whole, 100_000)):
        folder.mkdir()
        stage_bundle(store, run.id, folder, workspace_root=workspace.root, threshold=0.5, n_resamples=50,
                     chunk_rows=rows)

    for name in FILES:
        if name == "card.json":
            assert _card(pieces / name) == _card(whole / name)
        elif name not in ("card.md", "curves.html"):  # the looks before the export; plotly's random div ids
            assert (pieces / name).read_bytes() == (whole / name).read_bytes(), name
    predictions = (pieces / "predictions.csv").read_bytes().decode("utf-8")
    dev = int((golden.items["split"] == "dev").sum())
    assert predictions.startswith("id,label,score,pred,outcome,error,") and predictions.count("\r\n") == 1 + dev
    assert ",error," in predictions.split("\r\n", 1)[1], "the errored item has its row"
    card = json.loads((pieces / "card.json").read_bytes())
    assert card["zentropi"]["samples"] == 22 and card["zentropi"]["skipped"] == 1


@pytest.mark.parametrize("images", [None, ["missing.png"] * 3], ids=["texts", "all-left-out"])
def test_samples_written_in_pieces_are_the_bytes_of_samples_json_and_csv(workspace, tmp_path, images):
    golden = make_split(make_golden(3 if images else 7, images=images,
                                    texts=["=1+1", "a", "b"] if images else None), test_fraction=0.3, seed=0)
    with open(tmp_path / "s.json", "wb") as json_out, open(tmp_path / "s.csv", "wb") as csv_out:
        written = write_samples(golden, workspace.root, json_out, csv_out, chunk_rows=2)
    samples = zentropi_samples(golden, workspace.root)

    assert (tmp_path / "s.json").read_bytes() == samples_json(samples)
    assert (tmp_path / "s.csv").read_bytes() == samples_csv(samples)
    assert written.count == len(samples.records) and written.warnings == samples.warnings
    assert written.skipped == samples.skipped


def test_the_zip_is_built_once_per_choice_holds_the_bundle_and_is_found_again(store, workspace):
    run, _ = _mixed_run(store, workspace)
    folder = workspace.private_dir / EXPORTS_FOLDER
    first = zip_bundle(store, run.id, folder, workspace_root=workspace.root, threshold=0.5, who="ana", n_resamples=50)
    again = zip_bundle(store, run.id, folder, workspace_root=workspace.root, threshold=0.5, who="ana", n_resamples=50)

    assert again.path == first.path and again.card == first.card and first.path.parent == folder
    assert recorded_reveals(store, run.id).count == 1, "finding the zip again is no second look"
    assert list(first.files) == list(FILES) and first.threshold.value == 0.5 and first.threshold.method == "given"
    memory = build_bundle(store, run.id, workspace_root=workspace.root, threshold=0.5, who="ana", n_resamples=50)
    with zipfile.ZipFile(first.path) as archive:
        assert archive.namelist() == [f"{first.name}/{name}" for name in FILES]
        zipped = {name: archive.read(f"{first.name}/{name}") for name in FILES}
    varying = ("card.json", "card.md", "curves.html")  # the time and the looks; plotly's random div ids
    assert {n: d for n, d in zipped.items() if n not in varying} == \
        {n: d for n, d in memory.files.items() if n not in varying}
    assert first.files == {name: len(data) for name, data in zipped.items()}
    assert first.name == f"{first.card['policy']['name']}-{run.policy_version_id[7:15]}"

    other = zip_bundle(store, run.id, folder, workspace_root=workspace.root, threshold=0.6, who="ana", n_resamples=50)
    assert other.path != first.path and recorded_reveals(store, run.id).count == 3  # build_bundle looked too
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no staging folder or half zip is left"


def test_a_resend_of_the_errors_builds_a_new_zip_though_as_many_predictions_are_stored(store, workspace):
    run, _ = _mixed_run(store, workspace)  # one dev item errored
    folder = workspace.private_dir / EXPORTS_FOLDER
    first = zip_bundle(store, run.id, folder, workspace_root=workspace.root, threshold=0.5, n_resamples=50)
    failed = store.prediction_errors(run.id)["item_id"].tolist()
    assert first.card["run"]["errors"] == len(failed) == 1

    assert store.delete_errors(run.id) == 1  # what resume --retry-errors does, then the answer comes
    store.add_predictions(run.id, [(failed[0], 0.9, None, "", None, 1.0, 0)])
    again = zip_bundle(store, run.id, folder, workspace_root=workspace.root, threshold=0.5, n_resamples=50)

    assert again.path != first.path, "not the zip of the predictions before the resend"
    assert again.card["run"]["errors"] == 0 and again.card["run"]["scored"] == first.card["run"]["scored"] + 1


def test_only_the_newest_zips_are_kept(store, workspace):
    run, _ = scored_run(store, workspace, make_golden(6))
    folder = workspace.private_dir / EXPORTS_FOLDER
    made = [zip_bundle(store, run.id, folder, workspace_root=workspace.root, threshold=t, keep=2, n_resamples=20).path
            for t in (0.2, 0.4, 0.6)]
    assert sorted(folder.glob("*.zip")) == sorted(made[1:])


def test_a_damaged_zip_is_built_again(store, workspace):
    run, _ = scored_run(store, workspace, make_golden(6))
    folder = workspace.private_dir / EXPORTS_FOLDER
    path = zip_bundle(store, run.id, folder, workspace_root=workspace.root, n_resamples=20).path
    path.write_bytes(b"not a zip")
    with pytest.raises(ExportError, match="Cannot read the zipped bundle"):
        read_zipped(path)
    assert zip_bundle(store, run.id, folder, workspace_root=workspace.root, n_resamples=20).card["run"]["id"] == run.id


def test_a_zipped_bundle_extracts_to_a_folder_once(store, workspace):
    run, _ = scored_run(store, workspace, make_golden(6))
    zipped = zip_bundle(store, run.id, workspace.private_dir / EXPORTS_FOLDER, workspace_root=workspace.root,
                        n_resamples=20)
    dest = workspace.root / "out" / "bundle"
    written = extract_bundle(zipped, dest)

    assert [p.relative_to(dest).as_posix() for p in written] == list(FILES)
    with zipfile.ZipFile(zipped.path) as archive:
        assert all((dest / n).read_bytes() == archive.read(f"{zipped.name}/{n}") for n in FILES)
    assert sorted(p.name for p in dest.iterdir()) == ["card.json", "card.md", "curves.html", "policy.md",
                                                      "predictions.csv", "zentropi"], "no staging folder left"
    with pytest.raises(ExportError, match="already holds policy.md"):
        extract_bundle(zipped, dest)


def test_the_command_for_a_large_bundle_writes_that_bundle(store, workspace, capsys):
    run, _ = scored_run(store, workspace, make_golden(8))
    out = workspace.root / "exports" / "from shell"
    command = export_command(run.id, out, workspace_root=workspace.root, pick="precision>=0.5")
    words = shlex.split(command)
    assert words[0] == f"COPE_EVAL_HOME={workspace.root}" and words[1:4] == ["python", "-m", "cope_eval"]

    assert main(words[4:]) == 0
    card = json.loads((out / "card.json").read_bytes())
    assert card["threshold"]["method"] == "min_precision" and card["threshold"]["target"] == 0.5


# --- the page ---------------------------------------------------------------------------------------

def test_re_renders_find_the_zip_and_each_export_is_one_look(store, workspace, monkeypatch):
    run, _ = _mixed_run(store, workspace)
    at = open_page("export", monkeypatch)
    assert not at.exception and "looked at 0 time(s) before this export" in texts(at)
    assert recorded_reveals(store, run.id).count == 1
    [zipped] = (workspace.private_dir / EXPORTS_FOLDER).glob("*.zip")

    at.run()
    at.text_input(key=_state.EXPORT_DEST).input("out/b").run()
    assert recorded_reveals(store, run.id).count == 1, "a re-render records no look"

    at.radio(key=_state.EXPORT_MODE).set_value("given").run()  # another threshold: another export
    assert "set by hand to 0.9" in texts(at) and recorded_reveals(store, run.id).count == 2
    at.radio(key=_state.EXPORT_MODE).set_value("run").run()
    assert not at.exception and recorded_reveals(store, run.id).count == 2, "the first choice's zip is found again"

    at.button(key=_state.EXPORT_WRITE).click().run()
    with zipfile.ZipFile(zipped) as archive:
        name = archive.namelist()[0].split("/")[0]
        assert (workspace.root / "out" / "b" / "card.json").read_bytes() == archive.read(f"{name}/card.json")
    assert recorded_reveals(store, run.id).count == 2


def test_a_zip_too_large_to_download_is_named_by_its_path_and_the_command(store, workspace, monkeypatch):
    run, _ = scored_run(store, workspace, make_golden(6))
    monkeypatch.setattr(cope_eval.export, "DOWNLOAD_LIMIT_BYTES", 100)
    at = open_page("export", monkeypatch)

    assert not at.exception and len(at.get("download_button")) == 0
    [info] = [m for m in messages(at, "info") if "too large to download" in m]
    [zipped] = (workspace.private_dir / EXPORTS_FOLDER).glob("*.zip")
    assert str(zipped).replace("_", "\\_") in info or str(zipped) in info
    assert f"python -m cope_eval export --run {run.id} --out" in info

    at.button(key=_state.EXPORT_WRITE).click().run()
    assert not at.exception and any("Wrote 8 files" in s.value for s in at.success)


def test_a_large_runs_zip_is_built_in_a_child_process_and_found_again_here(store, workspace, monkeypatch):
    run, _ = _mixed_run(store, workspace)
    folder = workspace.private_dir / EXPORTS_FOLDER

    def staged_here(*args, **kwargs):
        raise AssertionError("the bundle was staged in this process")

    monkeypatch.setattr(cope_eval.export._archive, "stage_bundle", staged_here)
    built = zip_bundle_apart(store, run.id, folder, workspace_root=workspace.root, threshold=0.5, who="ana",
                             apart_items=run.n_items)
    assert built.card["run"]["id"] == run.id and built.threshold.value == 0.5 and list(built.files) == list(FILES)
    assert recorded_reveals(store, run.id).count == 1, "the child's build is the one look at the test split"
    again = zip_bundle_apart(store, run.id, folder, workspace_root=workspace.root, threshold=0.5, who="ana",
                             apart_items=run.n_items)
    assert again.path == built.path and recorded_reveals(store, run.id).count == 1


def test_a_childs_refusal_is_said_in_its_own_words_and_a_small_run_builds_here(store, workspace, monkeypatch):
    run, _ = _mixed_run(store, workspace)
    folder = workspace.private_dir / EXPORTS_FOLDER
    with pytest.raises(ExportError) as refused:
        zip_bundle_apart(store, run.id, folder, workspace_root=workspace.root, pick="nonsense", apart_items=1)
    with pytest.raises(CopeEvalError) as here:
        zip_bundle(store, run.id, folder, workspace_root=workspace.root, pick="nonsense")
    assert str(refused.value) == str(here.value) and "nonsense" in str(refused.value)
    assert not list(folder.glob("*.zip"))

    def no_child(*args, **kwargs):
        raise AssertionError("a child process for a small run")

    monkeypatch.setattr(cope_eval.export._apart.subprocess, "run", no_child)
    assert zip_bundle_apart(store, run.id, folder, workspace_root=workspace.root, threshold=0.5).path.is_file()
