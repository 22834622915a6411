"""Policy bundles: every card field, threshold choices, byte-exact policy, curves page, formula-safe
predictions, and no API key or machine path in any exported file."""

import csv
import io
import json
import math
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

import cope_eval
from cope_eval.errors import ConfigError
from cope_eval.export import build_bundle, bundle_zip, export_bundle, write_bundle, zip_bundle
from cope_eval.export._bundle import CARD_FORMAT, CI_METRICS, ExportError, parse_pick
from cope_eval.metrics import (
    best_f1_threshold, bootstrap_ci, metrics_at_threshold, pr_curve, roc_curve, slice_metrics,
    threshold_for_precision, threshold_for_recall
)
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, PolicyVersion
from cope_eval.scoring import RetryPolicy, create_run, execute_run
from cope_eval.store import Store, run_results
from tests.factories import make_golden, make_policy
from tests.stub_server import Reply, StubServer, chat_reply, instant

FAST = RetryPolicy(attempts=1, base_delay_s=0.01, max_delay_s=0.02, timeout_s=5.0)
SENTINEL_KEY = "zt_SENTINEL-0f3c9a-never-write-me"
V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats of violence.\n"
V2 = V1 + "\n#### Excludes\n- News reports.\n- Fiction.\n- Sports talk.\n"


# --- helpers shared with test_batch.py and test_cli_export.py -----------------------------------

def content_of(body: bytes) -> str:
    """The CONTENT section of a request body (any template), without the image placeholder."""
    request = json.loads(body)
    if "prompt" in request:
        text = request["prompt"].split("\n\n\nANSWER")[0]
    else:
        text = request["messages"][-1]["content"]
        text = text[0]["text"] if isinstance(text, list) else text
    text = text.split("CONTENT\n=======\n\n")[-1]
    return text.removesuffix("[image]").removesuffix("\n\n")


def scoring_reply(p: float) -> bytes:
    """A chat completion whose P("1") reads back as exactly ``p``."""
    return chat_reply("1" if p >= 0.5 else "0", {"1": math.log(p), "0": math.log1p(-p)})


def by_content(scores: dict):
    """Stub behaviour: P("1") = scores[content]; a content mapped to a Reply gets that reply."""
    def behaviour(path, body):
        if "completions" not in path:
            return instant(path, body)
        wanted = scores[content_of(body)]
        return wanted if isinstance(wanted, Reply) else Reply(body=scoring_reply(wanted))
    return behaviour


def ranked_scores(golden) -> dict:
    """Item i scores (i + 1) / (n + 1): ranks mix both labels, so every rule has work to do."""
    n = len(golden)
    return {text: (i + 1) / (n + 1) for i, text in enumerate(golden.items["text"])}


def scored_run(store, workspace, golden, scores=None, *, policy=None, api_key=None, **options):
    """Create and execute a run on the stub; returns (run, stub server)."""
    with StubServer(by_content(scores or ranked_scores(golden))) as server:
        endpoint = Endpoint(server.base_url, "stub", api_key)
        run = create_run(store, policy=policy or make_policy(), golden=golden, endpoint=endpoint, **options)
        execute_run(store, run.id, endpoint, workspace_root=workspace.root, retry=FAST)
    return store.run(run.id), server


def exported_bytes(root) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


# --- the JSON card --------------------------------------------------------------------------------

def test_card_json_has_every_field_with_the_right_values(store, workspace):
    parent = save_version(workspace.root, "violence", V1, note="first")
    version = save_version(workspace.root, "violence", V2, parent=parent.id, note="add exclusions", author="ana")
    golden = make_golden(20, name="gold-20")
    run, _ = scored_run(store, workspace, golden, policy=version, template="cope-b", answer_mode="constrained")
    before = datetime.now(timezone.utc)

    bundle = build_bundle(store, run.id, workspace_root=workspace.root, pick="max-f1", n_resamples=500)
    card = json.loads(bundle.files["card.json"])

    assert card == bundle.card
    assert list(card) == ["format", "cope_eval_version", "exported", "policy", "model", "server", "template",
                          "answer_mode",
                          "threshold", "transfer", "test_split", "golden_set", "metrics", "confidence_intervals", "curves", "per_category",
                          "per_category_mean", "run", "zentropi", "steerability", "files", "warnings"]
    assert card["transfer"] is None  # set only for a threshold carried over from another run
    assert card["test_split"] == {"has_split": False}
    assert card["steerability"] == {"probed": False, "note": f"not probed: run `python -m cope_eval probe {run.id}`, "
                                                             "or Insight > Steerability probes"}
    assert card["format"] == CARD_FORMAT and card["cope_eval_version"] == cope_eval.__version__
    assert abs(datetime.fromisoformat(card["exported"]) - before) < timedelta(minutes=1)
    policy = card["policy"]
    assert policy == {
        "name": "violence", "version_id": version.id, "label": "v2", "parent": parent.id,
        "parent_label": "v1", "created": version.created, "author": "ana", "note": "add exclusions", "text_file": "policy.md", "text_sha256": version.id,
        "diff_from_parent": {"found": True, "note": f"Diff from parent {parent.id}", "added": 5, "removed": 0,
                             "changed": 0},
    }
    assert (card["model"], card["template"], card["answer_mode"]) == ("stub", "cope-b", "constrained")
    # attributable: the server that answered and the checkpoint it reported (the stub reports none)
    assert card["server"] == {"base_url": run.base_url, "checkpoint": run.checkpoint}
    assert run.base_url.startswith("http://127.0.0.1:") and run.checkpoint is None

    results = run_results(store, run.id)
    choice = best_f1_threshold(results)
    t = choice.threshold
    assert card["threshold"] == {"value": t, "method": "max_f1", "target": None,
                                 "description": "picked for the highest F1", "note": choice.note}
    assert card["golden_set"] == {"name": "gold-20", "hash": golden.hash, "n_items": 20}
    assert card["metrics"] == metrics_at_threshold(results, threshold=t).to_dict()
    ci = bootstrap_ci(results, threshold=t, metrics=CI_METRICS, n_resamples=500, random_state=0)
    assert card["confidence_intervals"] == {
        "method": "percentile bootstrap over items", "confidence": 0.95, "n_resamples": 500, "random_state": 0,
        "intervals": {name: i.to_dict() for name, i in ci.intervals.items()},
    }
    assert list(card["confidence_intervals"]["intervals"]) == list(CI_METRICS)
    assert card["curves"] == {"average_precision": pr_curve(results).average_precision,
                              "roc_auc": roc_curve(results).auc, "hard_label": False, "note": "",
                              "file": "curves.html"}
    slices = slice_metrics(results, threshold=t)
    assert [row["category"] for row in card["per_category"]] == ["a", "b"]
    for row in card["per_category"]:
        expected = slices.rows.loc[row["category"]]
        assert {k: v for k, v in row.items() if k != "category"} == pytest.approx(expected.to_dict())
    assert card["per_category_mean"] == pytest.approx(slices.mean)
    stored = store.run(run.id)
    assert card["run"] == {"id": run.id, "created": stored.created, "started": stored.started,
                           "finished": stored.finished, "status": "completed", "n_items": 20, "scored": 20,
                           "errors": 0, "not_scored": 0}
    assert card["zentropi"] == {"model": None, "criteria_file": "zentropi/criteria.md",
                                "samples_json": "zentropi/test-samples.json",
                                "samples_csv": "zentropi/test-samples.csv", "samples": 20, "skipped": 0}
    assert card["files"] == list(bundle.files) == [
        "policy.md", "card.json", "card.md", "curves.html", "predictions.csv", "zentropi/criteria.md",
        "zentropi/test-samples.json", "zentropi/test-samples.csv"]
    assert card["warnings"] == list(bundle.warnings) == []


def test_card_names_the_zentropi_model_and_a_missing_parent(store, workspace):
    text = "Flag threats.\n"
    orphan = PolicyVersion(make_policy(text).id, "threats", text, parent="sha256:" + "0" * 64)
    run, _ = scored_run(store, workspace, make_golden(6), policy=orphan)
    store._execute("UPDATE runs SET model = ? WHERE id = ?", ("zentropi-ai/cope-b-a4b-mm", run.id))

    card = build_bundle(store, run.id, workspace_root=workspace.root).card

    assert card["zentropi"]["model"] == "cope-b-a4b-mm"
    assert card["policy"]["diff_from_parent"] == {
        "found": False, "note": f"Parent {orphan.parent} is not in this workspace, so there is no diff",
        "added": None, "removed": None, "changed": None}
    assert any("Zentropi criteria: no '# Criteria' heading" in w for w in card["warnings"])


# --- thresholds -----------------------------------------------------------------------------------

@pytest.mark.parametrize("given, pick, method, target", [
    (None, None, "run", None),
    (0.7, None, "given", None),
    (None, "max-f1", "max_f1", None),
    (None, "precision>=0.8", "min_precision", 0.8),
    (None, " Recall >= 0.9 ", "min_recall", 0.9),
])
def test_threshold_is_the_runs_own_a_given_one_or_picked_by_a_rule(store, workspace, given, pick, method, target):
    run, _ = scored_run(store, workspace, make_golden(20), threshold=0.3)
    results = run_results(store, run.id)
    expected = {
        "run": 0.3, "given": 0.7, "max_f1": best_f1_threshold(results).threshold,
        "min_precision": threshold_for_precision(results, 0.8).threshold,
        "min_recall": threshold_for_recall(results, 0.9).threshold,
    }[method]

    bundle = build_bundle(store, run.id, workspace_root=workspace.root, threshold=given, pick=pick)

    assert (bundle.threshold.value, bundle.threshold.method, bundle.threshold.target) == (expected, method, target)
    assert bundle.card["metrics"]["threshold"] == expected
    assert f"**{expected:g}**" in bundle.files["card.md"].decode()


def test_threshold_rules_that_cannot_be_met_or_read_are_errors(store, workspace):
    golden = make_golden(10)
    scores = ranked_scores(golden)
    scores[golden.items["text"][8]] = 0.99  # the top score is a gold 0: precision 1 is out of reach
    run, _ = scored_run(store, workspace, golden, scores)

    with pytest.raises(ExportError, match="precision >= 1"):
        build_bundle(store, run.id, workspace_root=workspace.root, pick="precision>=1")
    with pytest.raises(ConfigError, match="not both"):
        build_bundle(store, run.id, workspace_root=workspace.root, threshold=0.5, pick="max-f1")
    for bad in (1.5, float("nan"), -0.1, "abc"):
        with pytest.raises(ConfigError, match="Threshold must be a number from 0 to 1"):
            build_bundle(store, run.id, workspace_root=workspace.root, threshold=bad)
    for bad in ("f1>=0.5", "precision>=1.5", "precision>0.5", "recall>=", "max"):
        with pytest.raises(ConfigError, match="max-f1, precision>=X or recall>=X"):
            parse_pick(bad)
    assert parse_pick("MAX-F1") == ("max_f1", None)


def test_hard_label_run_exports_its_single_operating_point(store, workspace):
    golden = make_golden(8)
    replies = {text: Reply(body=chat_reply("1" if i % 3 == 0 else "0")) for i, text in enumerate(golden.items["text"])}
    run, _ = scored_run(store, workspace, golden, replies, template="safeguard")

    bundle = build_bundle(store, run.id, workspace_root=workspace.root, pick="max-f1")

    assert bundle.threshold.value == 0.5
    curves = bundle.card["curves"]
    assert curves["hard_label"] is True and curves["average_precision"] is None and curves["roc_auc"] is None
    assert "hard-label run" in curves["note"]
    assert "n/a" in bundle.files["card.md"].decode()


# --- the files ------------------------------------------------------------------------------------

def test_policy_text_is_exported_byte_for_byte(store, workspace):
    text = "\ufeff# Criteria\r\n\r\nThreats – incl. “veiled” ones.\r\nNo trailing newline"
    run, _ = scored_run(store, workspace, make_golden(4), policy=make_policy(text))

    export_bundle(store, run.id, workspace.root / "out", workspace_root=workspace.root)

    assert (workspace.root / "out" / "policy.md").read_bytes() == text.encode("utf-8")
    assert (workspace.root / "out" / "zentropi" / "criteria.md").read_bytes() == text.encode("utf-8")


def test_markdown_card_shows_metrics_categories_diff_and_escapes_user_text(store, workspace):
    parent = save_version(workspace.root, "violence", V1)
    version = save_version(workspace.root, "violence", V2 + "```\n", parent=parent.id)
    golden = make_golden(10, categories=["a|b <script>x</script>", "plain"] * 5)
    run, _ = scored_run(store, workspace, golden, policy=version)

    md = build_bundle(store, run.id, workspace_root=workspace.root).files["card.md"].decode()

    assert md.startswith("# Policy card: violence\n")
    assert "| metric | value | 95% interval |" in md and "| f1 | " in md
    assert "| a\\|b &lt;script&gt;x&lt;/script&gt; |" in md and "<script>" not in md
    assert "| unweighted mean |" in md
    assert "[curves.html](curves.html)" in md
    assert "````diff\n" in md and "+#### Excludes\n" in md and "+- Sports talk.\n" in md
    assert f"Diff from parent {parent.id}" in md


def test_curves_page_is_one_self_contained_html_file(store, workspace):
    run, _ = scored_run(store, workspace, make_golden(12))

    page = build_bundle(store, run.id, workspace_root=workspace.root).files["curves.html"].decode()

    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert page.count("* plotly.js v") == 1, "plotly's JavaScript is inlined exactly once"
    assert "<script src=" not in page and 'src="http' not in page
    assert page.count('class="plotly-graph-div"') == 4
    for title in ("Precision-recall", "ROC", "Metrics by threshold", "Confusion matrix"):
        assert title in page


def test_predictions_csv_has_scores_labels_outcomes_and_neutralised_formulas(store, workspace):
    categories = ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tTAB", "\r\nCR", "ok", "ok"]
    golden = make_golden(8, categories=categories)
    policy = make_policy()
    run = create_run(store, policy=policy, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "stub"))
    ids = list(golden.items["id"])
    store.add_predictions(run.id, [
        (ids[0], 0.9, 1, "1", None, 5.0, 0),
        (ids[1], 0.2, 0, "0", None, 5.0, 0),
        (ids[2], None, None, None, "=cmd|' /C calc'!A0", 5.0, 0),
        (ids[3], 0.6, 1, "1", None, 5.0, 0),
    ])

    bundle = build_bundle(store, run.id, workspace_root=workspace.root)
    rows = list(csv.DictReader(io.StringIO(bundle.files["predictions.csv"].decode(), newline="")))

    assert list(rows[0]) == ["id", "label", "score", "pred", "outcome", "error", "category", "text", "image",
                             "video"]
    assert [r["id"] for r in rows] == ids
    assert [r["outcome"] for r in rows[:4]] == ["fp", "fn", "error", "tp"]
    assert [r["score"] for r in rows[:4]] == ["0.9", "0.2", "", "0.6"]
    assert [r["pred"] for r in rows[:4]] == ["1", "0", "", "1"]
    assert rows[2]["error"] == "'=cmd|' /C calc'!A0"
    assert all(r["error"] == "not scored yet" and r["outcome"] == "error" for r in rows[4:])
    assert [r["category"] for r in rows] == ["'" + c for c in categories[:6]] + ["ok", "ok"]
    warnings = " ".join(bundle.warnings)
    assert f"run {run.id} is pending: 4 of 8 items have no prediction" in warnings
    assert "1 item(s) errored" in warnings
    assert bundle.card["run"]["not_scored"] == 4
    assert bundle.card["run"]["errors"] == 1 and bundle.card["metrics"]["errors"] == 5


def test_predictions_csv_carries_each_items_text_and_image_formula_safe(store, workspace):
    texts = ["=HYPERLINK(\"http://evil\")", "a plain miss", "-1 starts like a number", "image only"]
    data_url = "data:image/png;base64," + "A" * 5000
    images = [None, "golden_sets/images/red.png", f"{workspace.root}/pics/x.png", data_url]
    golden = make_golden(texts=texts, images=images)
    endpoint = Endpoint("http://127.0.0.1:9/v1", "stub")
    run = create_run(store, policy=make_policy(), golden=golden, endpoint=endpoint)

    data = build_bundle(store, run.id, workspace_root=workspace.root).files["predictions.csv"].decode()

    rows = list(csv.DictReader(io.StringIO(data, newline="")))
    assert [r["id"] for r in rows] == list(golden.items["id"])
    assert [r["text"] for r in rows] == [
        "'=HYPERLINK(\"http://evil\")", "a plain miss", "'-1 starts like a number", "image only"]
    assert [r["image"] for r in rows[:3]] == ["", "golden_sets/images/red.png", "<workspace>/pics/x.png"]
    assert rows[3]["image"] == "data:image/png;base64,… (inline image, 5,022 characters)"
    assert "AAAA" not in data and str(workspace.root) not in data


def test_markdown_card_names_the_author_and_the_version_note(store, workspace):
    version = save_version(workspace.root, "violence", V1, note="Tighter *threat* rule | v2",
                           author="Ana <ana@x>")
    run, _ = scored_run(store, workspace, make_golden(6), policy=version)

    md = build_bundle(store, run.id, workspace_root=workspace.root).files["card.md"].decode()

    assert "| Author | Ana &lt;ana@x&gt; |" in md
    assert "| Version note | Tighter \\*threat\\* rule \\| v2 |" in md
    assert f"| Version | v1 · {version.id} |" in md  # its label beside the id, for people
    assert "| Parent version | none (first version) |" in md


def test_card_labels_the_version_and_its_parent_by_creation_order(store, workspace):
    first = save_version(workspace.root, "violence", V1, note="first", created="2026-01-01T00:00:00Z")
    second = save_version(workspace.root, "violence", V2, parent=first.id, created="2026-01-02T00:00:00Z")
    run, _ = scored_run(store, workspace, make_golden(6), policy=second)

    bundle = build_bundle(store, run.id, workspace_root=workspace.root)

    assert (bundle.card["policy"]["label"], bundle.card["policy"]["parent_label"]) == ("v2", "v1")
    md = bundle.files["card.md"].decode()
    assert f"| Version | v2 · {second.id} |" in md and f"| Parent version | v1 · {first.id} |" in md
    assert "<title>Curves: violence v2 · sha256:" in bundle.files["curves.html"].decode()


def test_card_of_a_version_the_workspace_no_longer_holds_has_no_label(store, workspace):
    run, _ = scored_run(store, workspace, make_golden(6), policy=make_policy())  # never saved in policies/

    bundle = build_bundle(store, run.id, workspace_root=workspace.root)

    assert bundle.card["policy"]["label"] is None
    assert f"| Version | {run.policy_version_id} |" in bundle.files["card.md"].decode()


def test_no_api_key_or_machine_path_in_any_exported_file(store, workspace, monkeypatch):
    monkeypatch.setenv("COPE_API_KEY", SENTINEL_KEY)
    images = workspace.root / "golden_sets" / "images"
    images.mkdir(parents=True)
    from PIL import Image
    Image.new("RGB", (4, 4), "red").save(images / "red.png")
    golden = make_golden(6, images=["golden_sets/images/red.png"] + [None] * 5)
    scores = ranked_scores(golden)
    leaky = Reply(status=400, body=json.dumps({"message": f"cannot open {workspace.root}/golden_sets/x"}).encode())
    scores[golden.items["text"][1]] = leaky
    run, server = scored_run(store, workspace, golden, scores, api_key=SENTINEL_KEY)
    assert any(h.get("authorization") == f"Bearer {SENTINEL_KEY}" for _, h, _ in server.requests)
    assert str(workspace.root) in store.predictions(run.id)["error"].dropna().iloc[0]

    export_bundle(store, run.id, workspace.root / "bundle", workspace_root=workspace.root)
    from cope_eval.scoring import export_batch
    export_batch(store, run.id, workspace.root / "bundle" / "batch.jsonl", workspace_root=workspace.root,
                 include_scored=True)
    files = exported_bytes(workspace.root / "bundle")
    files["bundle.zip"] = zip_bundle(store, run.id, workspace.root / "zips", workspace_root=workspace.root).path.read_bytes()

    assert len(files) == 10
    machine_paths = {str(workspace.root), str(workspace.root.resolve())}
    for name, data in files.items():
        assert SENTINEL_KEY.encode() not in data, name
        for path in machine_paths:
            assert path.encode() not in data, name
    assert "<workspace>/golden_sets/x" in files["predictions.csv"].decode()
    assert b"data:image/png;base64," in files["zentropi/test-samples.json"]


def test_bundle_is_written_once_unless_overwritten_and_zips_the_same_files(store, workspace):
    run, _ = scored_run(store, workspace, make_golden(4))
    bundle = build_bundle(store, run.id, workspace_root=workspace.root)
    dest = workspace.root / "out"

    write_bundle(bundle, dest)
    (dest / "card.md").write_text("edited")
    with pytest.raises(ExportError, match="already holds policy.md, card.json"):
        write_bundle(bundle, dest)
    assert (dest / "card.md").read_text() == "edited"
    write_bundle(bundle, dest, overwrite=True)

    assert exported_bytes(dest) == bundle.files
    with zipfile.ZipFile(io.BytesIO(bundle_zip(bundle, folder="violence-bundle"))) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == {
            f"violence-bundle/{n}": data for n, data in bundle.files.items()}


def test_a_cell_with_a_lone_carriage_return_stays_one_cell(store, workspace):
    golden = make_golden(2, categories=["\rCR", "x\ry"])
    run = create_run(store, policy=make_policy(), golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "stub"))

    data = build_bundle(store, run.id, workspace_root=workspace.root).files["predictions.csv"].decode()

    rows = list(csv.DictReader(io.StringIO(data, newline="")))
    assert [r["category"] for r in rows] == ["'\rCR", "x\ry"]


# --- steerability evidence ------------------------------------------------------------------------

@pytest.mark.parametrize("reader, warned", [("follows", False), ("ignores", True)])
def test_the_card_carries_the_newest_completed_probe_of_the_run(store, workspace, reader, warned):
    from cope_eval.insight import create_probe_study, probe_report
    from cope_eval.insight import execute_study
    from tests.label_reader import ignores_policy, label_reader
    from tests.policy_stub import policy_following
    from tests.test_probes import base_run

    with StubServer(policy_following(label_reader if reader == "follows" else ignores_policy)) as server:
        base, endpoint = base_run(store, workspace, server, n=40)
        older = create_probe_study(store, base.id, selection="sample", limit=5)
        execute_study(store, older.id, endpoint, workspace_root=workspace.root)
        newest = create_probe_study(store, base.id)
        execute_study(store, newest.id, endpoint, workspace_root=workspace.root)
        create_probe_study(store, base.id)  # never scored: not evidence

    bundle = build_bundle(store, base.id, workspace_root=workspace.root, n_resamples=100)
    probe, report = bundle.card["steerability"], probe_report(store, store.study(newest.id))
    assert probe["probed"] and probe["study_id"] == newest.id and probe["items"] == 40
    assert probe["flip_rate"] == report.flip_rate.to_dict()
    assert probe["off_topic_flag_rate"] == report.off_topic_flag_rate.to_dict()
    assert probe["warnings"] == [w.message for w in report.warnings] and bool(probe["warnings"]) == warned
    shown = [w for w in bundle.warnings if w.startswith("Steerability probe: ")]
    assert len(shown) == len(probe["warnings"])
    card_md = bundle.files["card.md"].decode()
    assert "## Steerability probe" in card_md
    assert f"flipped {report.flip_rate.estimate:.0%} ({report.flip_rate.count} of {report.flip_rate.n};" in card_md
