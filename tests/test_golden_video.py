"""Video items below the pages: loading (digest, hash, limits, one attachment per item), the
request each becomes (read only when sent, keyed by its digest), the bundled text-only vLLM's
refusal as counted errors, and what export writes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from cope_eval.app import run_errors
from cope_eval.cli import main
from cope_eval.errors import ValidationError
from cope_eval.export._zentropi import samples_csv, samples_json, zentropi_samples
from cope_eval.golden import VideoLimits, golden_set_hash, load_golden_set, relabel, write_golden_set
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run, get_template
from cope_eval.scoring._batch import write_batch
from cope_eval.scoring._jobs import AnswerSource, JobBuilder
from cope_eval.store import Store, run_results
from tests.factories import make_policy, png_bytes, video_bytes
from tests.stub_server import StubServer
from tests.test_export import FAST, by_content, ranked_scores

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "golden_sets" / "videos" / "harassment-videos.csv"


def put(ws: Path, name: str, content) -> Path:
    path = ws / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def clip_set(ws: Path, **clip) -> Path:
    """A set of two text items and two video items (one with text)."""
    put(ws, "vid/a.mp4", video_bytes(**clip))
    put(ws, "vid/b.webm", video_bytes(fmt="webm", shade=200))
    return put(ws, "set.csv", "id,text,video,label\nt1,hello there,,0\nt2,you are awful,,1\n"
                              "v1,,vid/a.mp4,1\nv2,look at this,vid/b.webm,0\n")


def rejection(path, ws, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as info:
        load_golden_set(path, ws, **kwargs)
    return [str(p) for p in info.value.problems]


# --- loading -----------------------------------------------------------------------------------


def test_the_sample_video_set_loads_with_each_clip_digested():
    items = load_golden_set(SAMPLE, REPO).golden_set.items
    assert len(items) == 8 and items["image"].isna().all() and items["video"].notna().all()
    for ref, digest in zip(items["video"], items["video_digest"]):
        assert digest == sha((REPO / ref).read_bytes())
    assert items.set_index("id").loc["vid-04", "text"] == "everyone send him this lol"


def test_a_set_without_video_hashes_as_it_did_before_videos(ws):
    gs = load_golden_set(put(ws, "t.csv", "id,text,label\n1,a,1\n2,b,0\n"), ws).golden_set
    assert gs.items["video"].isna().all()
    assert gs.hash == golden_set_hash(gs.items.drop(columns=["video", "video_digest"]))
    assert gs.hash == "sha256:" + hashlib.sha256(  # the format-v1 bytes, written out for this set
        b"cope-eval/golden-set@1\n" + (2).to_bytes(8, "little")
        + (1).to_bytes(8, "little") * 2 + b"12"           # ids
        + (1).to_bytes(8, "little") * 2 + b"ab"           # texts
        + (1).to_bytes(8, "little") * 2 + b"10"           # labels
        + (-1).to_bytes(8, "little", signed=True) * 4     # no image, no category
    ).hexdigest()


def test_the_hash_covers_the_videos_bytes_not_only_its_name(ws):
    path = clip_set(ws)
    before = load_golden_set(path, ws).golden_set
    put(ws, "vid/a.mp4", video_bytes(shade=90))  # other footage under the same name
    after = load_golden_set(path, ws).golden_set
    assert before.items["video"].tolist() == after.items["video"].tolist()
    assert before.hash != after.hash
    assert after.items.set_index("id").loc["v1", "video_digest"] == sha((ws / "vid/a.mp4").read_bytes())


def test_relabel_and_a_rewritten_file_keep_the_video_and_its_digest(ws):
    gs = load_golden_set(clip_set(ws), ws).golden_set
    relabeled, change = relabel(gs, "v1", 0)
    assert change.new_hash != gs.hash
    assert relabeled.items["video_digest"].tolist() == gs.items["video_digest"].tolist()
    dest = write_golden_set(gs, ws / "out.csv")
    tampered = dest.read_text().replace(gs.items["video_digest"].iat[2], "sha256:" + "0" * 64)
    dest.write_text(tampered)  # a digest column in a file is never trusted: it is recomputed
    again = load_golden_set(dest, ws).golden_set
    assert again.hash == gs.hash and "orig_video_digest" not in again.items.columns


def test_a_row_with_an_image_and_a_video_is_a_bad_row(ws):
    put(ws, "vid/a.mp4", video_bytes())
    path = put(ws, "both.csv", "id,text,image,video,label\n1,x,img/ok.png,vid/a.mp4,1\n2,y,,,0\n")
    assert rejection(path, ws) == [
        "both.csv, row 1, column 'video': one attachment per item: this row has both an image and a video "
        "(put each in its own row) (value 'vid/a.mp4')"]


def test_zentropi_video_columns_are_read(ws):
    data = video_bytes()
    url = "data:video/mp4;base64," + base64.b64encode(data).decode()
    samples = [{"content_text": "a", "expected_label": "1"}, {"content_video": url, "expected_label": "0"}]
    items = load_golden_set(put(ws, "z.json", json.dumps(samples)), ws).golden_set.items
    assert items["video"].iat[1] == url and items["video_digest"].iat[1] == sha(data)
    put(ws, "vid/a.mp4", data)
    csv = put(ws, "z.csv", "content_text,content_image_url,content_video_url,expected_label,sample_id\n"
                           "hi,,,1,s1\n,,vid/a.mp4,0,s2\n")
    items = load_golden_set(csv, ws).golden_set.items
    assert items["video"].tolist()[1] == "vid/a.mp4" and items["video_digest"].tolist()[1] == sha(data)


def test_a_hostile_video_is_its_rows_problem_and_the_others_load(ws):
    zipped = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("a.txt", "not a video")
    put(ws, "vid/zip.mp4", zipped.getvalue())
    put(ws, "vid/png.mp4", png_bytes())
    path = put(ws, "h.csv", "id,text,video,label\n1,fine,,1\n2,,vid/zip.mp4,0\n3,,vid/png.mp4,1\n")
    problems = rejection(path, ws)
    assert [p.split(": ", 1)[0] for p in problems] == ["h.csv, row 2, column 'video'", "h.csv, row 3, column 'video'"]
    assert all("not a video" in p for p in problems), problems
    kept = load_golden_set(path, ws, drop_bad_rows=True)
    assert kept.golden_set.items["id"].tolist() == ["1"] and kept.dropped["row"].tolist() == [2, 3]


def test_video_limits_are_row_problems_with_the_reason(ws):
    path = clip_set(ws, frames=8, rate=4)  # a.mp4: 2 s
    too_big = rejection(path, ws, video_limits=VideoLimits(max_bytes=100))
    assert len(too_big) == 2 and all("over the limit of 100 bytes" in p for p in too_big), too_big
    too_long = rejection(path, ws, video_limits=VideoLimits(max_seconds=1.5))
    assert len(too_long) == 1 and "row 3, column 'video'" in too_long[0] and "over the limit" in too_long[0]


@pytest.mark.parametrize("flag, value", [("--max-video-mb", "0"), ("--max-video-seconds", "-1"),
                                         ("--max-video-mb", "lots")])
def test_the_video_limit_flags_refuse_what_is_not_a_positive_number(flag, value, capsys):
    assert main(["run", "--golden", "g.csv", "--policy", "p.md", flag, value]) == 2
    assert f"{flag} must be a number above 0, got {value!r}" in capsys.readouterr().err


def test_the_cli_limit_reaches_the_loader(workspace, capsys):
    path = clip_set(workspace.root)
    policy = put(workspace.root, "p.md", "Flag insults.")
    code = main(["run", "--golden", str(path), "--policy", str(policy), "--base-url", "http://127.0.0.1:9/v1",
                 "--model", "m", "--max-video-mb", "0.0001"])
    err = capsys.readouterr().err
    assert code == 2 and "row 3, column 'video'" in err and "over the limit of 104 bytes" in err, err


# --- requests ----------------------------------------------------------------------------------


def builder(ws: Path, template: str = "cope-b") -> JobBuilder:
    return JobBuilder(get_template(template), model="m", policy="Flag insults.", answer_mode="logprobs",
                      workspace_root=ws, source=AnswerSource("http://x/v1", "m", None))


def jobs_of(b: JobBuilder, items: pd.DataFrame):
    refused: list = []
    made = list(b.jobs(items, on_cached=lambda o: None, on_refused=lambda i, m: refused.append((i, m))))
    return made, refused


def test_a_video_items_body_is_made_when_it_is_sent_and_carries_the_files_bytes(ws, monkeypatch):
    items = load_golden_set(clip_set(ws), ws).golden_set.items
    import cope_eval.golden._videos as videos

    reads = []
    real = videos.load_video_bytes
    monkeypatch.setattr(videos, "load_video_bytes", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    jobs, refused = jobs_of(builder(ws), items)
    assert refused == [] and reads == [], "building the jobs reads no video"
    video_jobs = {job.item_id: job for job in jobs if job.build is not None}
    assert sorted(video_jobs) == ["v1", "v2"] and all(job.body == b"" for job in video_jobs.values())
    body = json.loads(video_jobs["v2"].build())
    assert reads == ["vid/b.webm"]
    text_part, video_part = body["messages"][0]["content"]
    assert text_part["text"].endswith("CONTENT\n=======\n\nlook at this\n\n[video]")
    assert video_part == {"type": "video_url", "video_url": {
        "url": "data:video/webm;base64," + base64.b64encode((ws / "vid/b.webm").read_bytes()).decode()}}
    again, _ = jobs_of(builder(ws), items)
    assert [j.cache_key for j in again] == [j.cache_key for j in jobs], "the key is stable and needs no read"


def test_footage_changed_since_loading_is_refused_when_sent(ws):
    items = load_golden_set(clip_set(ws), ws).golden_set.items
    jobs, _ = jobs_of(builder(ws), items)
    put(ws, "vid/a.mp4", video_bytes(shade=123))
    job = next(j for j in jobs if j.item_id == "v1")
    with pytest.raises(ValidationError, match="bytes changed since this golden-set version was loaded"):
        job.build()


@pytest.mark.parametrize("template, reason", [
    ("cope-a", "The cope-a template cannot take video (it reads text only); this item has a video."),
    ("safeguard", "The safeguard template cannot take video (it reads text and images only); this item has a video."),
])
def test_templates_without_video_refuse_its_items_before_sending(ws, template, reason):
    items = load_golden_set(clip_set(ws), ws).golden_set.items
    jobs, refused = jobs_of(builder(ws, template), items)
    assert [j.item_id for j in jobs] == ["t1", "t2"]
    assert refused == [("v1", reason), ("v2", reason)]


def test_the_batch_file_carries_the_live_video_bodies_byte_for_byte(workspace):
    golden = load_golden_set(clip_set(workspace.root), workspace.root).golden_set
    with Store(workspace.private_dir) as store, StubServer(by_content(ranked_scores(golden))) as server:
        endpoint = Endpoint(server.base_url, "stub")
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint)
        buffer = io.BytesIO()
        exported = write_batch(store, run.id, buffer, workspace_root=workspace.root)
        execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST, use_cache=False)
    lines = [line.split(b',"body":', 1)[1][:-1] for line in buffer.getvalue().splitlines()]
    live = sorted(body for path, _, body in server.requests if path.endswith("/chat/completions"))
    assert exported.lines == 4 and sorted(lines) == live
    assert sum(b'"video_url"' in body for body in live) == 2


def test_the_text_only_local_vllm_refuses_each_video_item_as_one_counted_error(workspace, model_server):
    golden = load_golden_set(clip_set(workspace.root), workspace.root).golden_set
    endpoint = Endpoint(model_server.base_url, model_server.model)
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint, concurrency=4)
        execute_run(store, run.id, endpoint, workspace_root=workspace.root)
        results = run_results(store, run.id).set_index("item_id")
        errors = run_errors(store, run.id)
    assert results.loc[["t1", "t2"], "error"].isna().all() and results.loc[["t1", "t2"], "score"].notna().all()
    assert results.loc[["v1", "v2"], "score"].isna().all()
    assert errors.table.to_dict("records") == [
        {"reason": "the server refused this video item (does its model take video input?)", "items": 2}]
    assert all("HTTP 400" in m and "not a multimodal model" in m for m in errors.items["message"]), errors.items


# --- export ------------------------------------------------------------------------------------


def test_zentropi_files_embed_each_video_as_zentropi_expects(ws):
    gs = load_golden_set(clip_set(ws), ws).golden_set
    samples = zentropi_samples(gs, ws)
    records = json.loads(samples_json(samples))
    by_id = {r["sample_id"]: r for r in records}
    webm = (ws / "vid/b.webm").read_bytes()
    assert by_id["v2"] == {"content_text": "look at this", "content_video": "data:video/webm;base64,"
                           + base64.b64encode(webm).decode(), "expected_label": "0", "sample_id": "v2"}
    assert "content_video" not in by_id["t1"] and "content_image" not in by_id["v1"]
    table = pd.read_csv(io.BytesIO(samples_csv(samples)), dtype=str, keep_default_na=False)
    assert table.set_index("sample_id").loc["v2", "content_video_url"] == by_id["v2"]["content_video"]
    assert table.set_index("sample_id").loc["t1", "content_video_url"] == ""


# --- what the pages show -------------------------------------------------------------------------


def test_a_page_plays_footage_in_hand_and_says_why_not_otherwise(ws):
    from cope_eval.app import playable_video, video_items

    items = load_golden_set(clip_set(ws), ws).golden_set.items
    assert video_items(items, ["t1", "v2", "v1", "nope"])["id"].tolist() == ["v2", "v1"]
    digest = items.set_index("id").loc["v1", "video_digest"]
    clip = playable_video("vid/a.mp4", digest, ws)
    assert (clip.data, clip.mime, clip.problem) == ((ws / "vid/a.mp4").read_bytes(), "video/mp4", None)
    url = playable_video("http://127.0.0.1:1/never.mp4", None, ws)
    assert url.data is None and "never fetched for playing" in url.problem
    put(ws, "vid/a.mp4", video_bytes(shade=77))
    changed = playable_video("vid/a.mp4", digest, ws)
    assert changed.data is None and "changed since this golden-set version was loaded" in changed.problem
    put(ws, "vid/a.mp4", b"PK\x03\x04 not a video")
    assert "not a video" in playable_video("vid/a.mp4", None, ws).problem


def test_a_thumbnail_follows_a_rewritten_file_and_names_inline_videos(ws):
    from PIL import Image

    from cope_eval.golden import video_reference, video_thumbnail

    put(ws, "vid/a.mp4", video_bytes(shade=10))
    first = video_thumbnail("vid/a.mp4", ws)
    assert first.startswith("data:image/png;base64,")
    put(ws, "vid/a.mp4", video_bytes(shade=240, size=(48, 24)))
    second = video_thumbnail("vid/a.mp4", ws)
    png = Image.open(io.BytesIO(base64.b64decode(second.split(",", 1)[1])))
    assert second != first and png.size == (96, 48), "a changed file is drawn again, not served from the cache"
    inline = "data:video/mp4;base64," + base64.b64encode(video_bytes()).decode()
    assert video_reference(inline) == f"data:video/mp4;base64,… (inline video, {len(inline):,} characters)"


def test_the_predictions_csv_names_each_items_video(ws):
    from cope_eval.app import predictions_csv, predictions_table

    items = load_golden_set(clip_set(ws), ws).golden_set.items
    results = pd.DataFrame({"item_id": items["id"], "label": items["label"], "category": items["category"],
                            "score": [0.1, 0.9, float("nan"), float("nan")], "error": [None, None, "x", "y"]})
    table = predictions_table(results, items, threshold=0.5)
    parsed = pd.read_csv(io.BytesIO(predictions_csv(table)), dtype=str, keep_default_na=False)
    assert parsed["video"].tolist() == ["", "", "vid/a.mp4", "vid/b.webm"]


def test_a_set_stored_before_videos_existed_still_loads_and_scores(workspace):
    golden = load_golden_set(put(workspace.root, "t.csv", "id,text,label\n1,a,1\n2,b,0\n"),
                             workspace.root).golden_set
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
        snapshot = next(store.golden_dir.glob("*.parquet"))
        pd.read_parquet(snapshot).drop(columns=["video", "video_digest"]).to_parquet(snapshot, index=False)
        stored = store.golden_set(golden.hash)
        assert list(stored.items.columns) == list(golden.items.columns)
        assert golden_set_hash(stored.items) == golden.hash
        jobs, refused = jobs_of(builder(workspace.root), stored.items)
    assert refused == [] and [job.item_id for job in jobs] == ["1", "2"]


def test_the_cli_says_why_video_items_failed_and_shows_no_metric_for_nothing_scored(workspace, model_server, capsys):
    path = put(workspace.root, "v.csv", "id,video,label\nv1,vid/a.mp4,1\nv2,vid/b.webm,0\n")
    clip_set(workspace.root)
    policy = put(workspace.root, "p.md", "Flag insults.")
    code = main(["run", "--golden", str(path), "--policy", str(policy), "--base-url", model_server.base_url,
                 "--model", model_server.model])
    out = capsys.readouterr().out
    assert code == 0
    assert "errors by reason:\n  2  the server refused this video item (does its model take video input?)" in out
    assert "metrics            none: no item was scored" in out and "precision" not in out
