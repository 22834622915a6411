"""``cope-eval split`` end to end on a real store, and ``run --split`` (on the stub server: the
figures are checked against scikit-learn on the split's items)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from cope_eval.cli import main
from cope_eval.golden import load_golden_set, write_golden_set
from cope_eval.store import Store, recorded_reveals
from tests.factories import POLICY_TEXT, make_golden
from tests.stub_server import StubServer, chat_requests
from tests.test_cli_errors import one_error_line
from tests.test_export import by_content, ranked_scores


@pytest.fixture
def plain(workspace):
    """A 40-item golden-set file without a split, two labels and two categories."""
    path = workspace.root / "gold.csv"
    write_golden_set(make_golden(40, name="gold"), path)
    return path


def stored(workspace) -> pd.DataFrame:
    with Store(workspace.private_dir) as store:
        return store.golden_sets().set_index("hash")


def test_split_a_file_stores_a_child_version_and_writes_it(workspace, plain, capsys):
    out = workspace.root / "gold-split.csv"
    assert main(["split", str(plain), "--test-fraction", "0.25", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    parent = load_golden_set(plain, workspace.root).golden_set
    written = load_golden_set(out, workspace.root).golden_set
    sets = stored(workspace)
    assert sets.at[written.hash, "parent_hash"] == parent.hash and len(sets) == 2
    assert f"new version  {written.hash}" in printed and f"parent       {parent.hash}" in printed
    assert "test fraction 0.25, seed 3" in printed and f"written to {out}" in printed
    lines = printed.splitlines()
    assert f"{'dev':<7}{30:>9,}{15:>9,}{15:>9,}" in lines and f"{'test':<7}{10:>9,}{5:>9,}{5:>9,}" in lines
    assert written.items["split"].value_counts().to_dict() == {"dev": 30, "test": 10}
    with Store(workspace.private_dir) as store:
        assert store.golden_set(written.hash).items["split"].tolist() == written.items["split"].tolist()


def test_split_a_stored_set_by_hash_prefix_or_name_as_json(workspace, plain, capsys):
    main(["split", str(plain), "--json"])
    first = json.loads(capsys.readouterr().out)
    assert first["items"] == {"dev": 28, "test": 12} and first["other_splits"] == [] and first["written"] is None
    parent = first["parent"]
    assert main(["split", parent[7:17], "--seed", "1", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["parent"] == parent and second["other_splits"] == [first["hash"]]
    assert main(["split", parent[7:17], "--seed", "1"]) == 0
    assert "note: 1 other split(s) of this parent are stored" in capsys.readouterr().out
    assert main(["split", "gold"]) == 2  # three versions are named gold now
    assert "versions of golden set 'gold' are stored" in one_error_line(capsys)


@pytest.mark.parametrize("flags, said", [
    (["--test-fraction", "1"], "error: --test-fraction must be a number between 0 and 1 (both excluded"),
    (["--test-fraction", "0"], "error: --test-fraction must be a number between 0 and 1 (both excluded"),
    (["--test-fraction", "abc"], "error: --test-fraction must be a number between 0 and 1"),
    (["--seed", "1.5"], "error: --seed must be a whole number, not '1.5'."),
])
def test_bad_flags_are_one_line_naming_the_flag(workspace, plain, capsys, flags, said):
    assert main(["split", str(plain), *flags]) == 2
    assert one_error_line(capsys).startswith(said)
    assert not (workspace.private_dir / "store.db").exists() or stored(workspace).empty


def test_a_split_set_is_not_split_again_and_the_message_names_its_parent(workspace, plain, capsys):
    out = workspace.root / "split.csv"
    main(["split", str(plain), "--out", str(out)])
    capsys.readouterr()
    parent = load_golden_set(plain, workspace.root).golden_set.hash
    assert main(["split", str(out), "--seed", "9"]) == 2
    line = one_error_line(capsys)
    assert "already has a dev/test split" in line and f"({parent[7:19]})" in line
    assert main(["split", "nothing-like-this"]) == 2
    assert one_error_line(capsys).startswith("error: No golden set 'nothing-like-this' in this workspace's store")


def test_a_file_split_needs_its_columns_found_by_name(workspace, capsys):
    odd = workspace.root / "odd.csv"
    odd.write_text("body,verdict\nhello,1\n")
    assert main(["split", str(odd)]) == 2
    line = one_error_line(capsys)
    assert "no content column" in line and "store it with run --golden and its column flags" in line
    assert "--text-column" not in line


def test_run_split_test_on_a_set_without_a_split_is_refused_before_anything_is_sent(workspace, plain, capsys):
    policy = workspace.root / "policy.md"
    policy.write_text(POLICY_TEXT)
    with StubServer(by_content({})) as server:
        code = main(["run", "--golden", str(plain), "--policy", str(policy), "--base-url", server.base_url,
                     "--model", "stub", "--split", "test", "--reveal-test"])
    assert chat_requests(server) == []
    assert code == 2
    assert one_error_line(capsys) == ("error: This golden set has no test split: make one with cope-eval split "
                                      "(or on the Golden sets page), then score that version.")
    with Store(workspace.private_dir) as store:
        assert store.runs() == []


@pytest.mark.parametrize("split", ["dev", "test", "all"])
def test_run_split_reports_and_writes_only_that_splits_items(workspace, plain, capsys, split):
    out = workspace.root / "split.csv"
    main(["split", str(plain), "--out", str(out)])
    capsys.readouterr()
    golden = load_golden_set(out, workspace.root).golden_set
    policy = workspace.root / "policy.md"
    policy.write_text(POLICY_TEXT)
    with StubServer(by_content(ranked_scores(golden))) as server:
        code = main(["run", "--golden", str(out), "--policy", str(policy), "--base-url", server.base_url,
                     "--model", "stub", "--concurrency", "4", "--split", split, "--out", str(workspace.root / "o")]
                    + ([] if split == "dev" else ["--reveal-test"]))
    assert code == 0
    printed = capsys.readouterr().out
    items = golden.items if split == "all" else golden.items[golden.items["split"] == split]
    y = items["label"].to_numpy()
    pred = (items["text"].map(ranked_scores(golden)) >= 0.5).astype(int).to_numpy()
    for name, value in (("precision", precision_score(y, pred)), ("recall", recall_score(y, pred)),
                        ("f1", f1_score(y, pred))):
        assert f"{name.ljust(17)}  {value:.4f}" in printed
    shown = re.search(rf"^split +{split}: {len(items)} of 40 items \(the figures below\)$", printed, re.M)
    assert (shown is not None) == (split != "all")
    table = pd.read_csv(workspace.root / "o" / "predictions.csv")
    assert set(table["id"]) == set(items["id"]) and set(table["split"]) == set(items["split"])
    metrics = json.loads((workspace.root / "o" / "metrics.json").read_text())
    assert (metrics["split"], metrics["split_items"], metrics["items"]) == (split, len(items), 40)
    assert metrics["f1"] == pytest.approx(f1_score(y, pred))


def _split_file(workspace, plain, capsys):
    out = workspace.root / "split.csv"
    main(["split", str(plain), "--out", str(out)])
    capsys.readouterr()
    policy = workspace.root / "policy.md"
    policy.write_text(POLICY_TEXT)
    return out, policy, load_golden_set(out, workspace.root).golden_set


@pytest.mark.parametrize("split", ["test", "all"])
def test_test_figures_without_reveal_test_are_refused_before_anything_is_sent(workspace, plain, capsys, split):
    out, policy, golden = _split_file(workspace, plain, capsys)
    with StubServer(by_content(ranked_scores(golden))) as server:
        code = main(["run", "--golden", str(out), "--policy", str(policy), "--base-url", server.base_url,
                     "--model", "stub", "--split", split])
    assert chat_requests(server) == [] and code == 2
    assert one_error_line(capsys) == (f"error: --split {split} shows the test split's figures: they are shown only "
                                      "on purpose; add --reveal-test to look at them on purpose (each look is "
                                      "recorded for the policy).")
    with Store(workspace.private_dir) as store:
        assert store.runs() == []


def test_the_default_report_is_dev_and_reveal_test_adds_test_and_is_recorded(workspace, plain, capsys):
    out, policy, golden = _split_file(workspace, plain, capsys)
    scores = ranked_scores(golden)
    argv = ["run", "--golden", str(out), "--policy", str(policy), "--model", "stub", "--concurrency", "4"]
    with StubServer(by_content(scores)) as server:
        assert main(argv + ["--base-url", server.base_url]) == 0
        dev_only = capsys.readouterr().out
        assert main(argv + ["--base-url", server.base_url, "--reveal-test"]) == 0
        revealed = capsys.readouterr().out
    blocks = {}
    for split in ("dev", "test"):
        items = golden.items[golden.items["split"] == split]
        pred = (items["text"].map(scores) >= 0.5).astype(int).to_numpy()
        blocks[split] = f"f1                 {f1_score(items['label'].to_numpy(), pred):.4f}"
    assert blocks["dev"] in dev_only and "test:" not in dev_only and dev_only.count("f1   ") == 1
    assert blocks["dev"] in revealed and blocks["test"] in revealed
    assert re.search(r"^split +test: \d+ of 40 items", revealed, re.M)
    with Store(workspace.private_dir) as store:
        shown = re.search(r"^run +(\S+)$", revealed, re.M).group(1)
        other = re.search(r"^run +(\S+)$", dev_only, re.M).group(1)
        looks = recorded_reveals(store, other)  # both runs: one policy, one golden-set lineage
    assert looks.count == 1 and looks.looks["place"].tolist() == ["cli"]
    assert looks.looks["run_id"].tolist() == [shown]  # the run shown with --reveal-test


@pytest.mark.model
def test_split_then_run_on_the_real_model_reports_dev_and_reveals_test_on_purpose(workspace, capsys, model_server):
    texts = [f"I will hurt person {i}." if i % 2 else f"Nice weather on day {i}." for i in range(20)]
    source = workspace.root / "posts.csv"
    pd.DataFrame({"id": [f"p{i:02d}" for i in range(20)], "text": texts, "label": [i % 2 for i in range(20)]}
                 ).to_csv(source, index=False)
    out = workspace.root / "posts-split.csv"
    assert main(["split", str(source), "--test-fraction", "0.3", "--seed", "7", "--out", str(out)]) == 0
    capsys.readouterr()
    policy = workspace.root / "policy.md"
    policy.write_text(POLICY_TEXT)
    argv = ["run", "--golden", str(out), "--policy", str(policy), "--base-url", model_server.base_url,
            "--model", model_server.model, "--concurrency", "4"]
    assert main(argv) == 0
    dev_only = capsys.readouterr().out
    assert re.search(r"^split +dev: 14 of 20 items", dev_only, re.M) and "test:" not in dev_only
    assert main(argv + ["--reveal-test"]) == 0
    revealed = capsys.readouterr().out
    assert re.search(r"^split +test: 6 of 20 items", revealed, re.M)
    shown = re.search(r"^run +(\S+)$", revealed, re.M).group(1)
    with Store(workspace.private_dir) as store:
        looks = recorded_reveals(store, shown)
        test = store.golden_set(store.run(shown).golden_hash).items
    assert looks.count == 1 and looks.looks["run_id"].tolist() == [shown]
    assert (test["split"] == "test").sum() == 6


@pytest.mark.parametrize("split", ["test", "all"])
def test_run_split_test_or_all_records_the_look(workspace, plain, capsys, split):
    out, policy, golden = _split_file(workspace, plain, capsys)
    with StubServer(by_content(ranked_scores(golden))) as server:
        assert main(["run", "--golden", str(out), "--policy", str(policy), "--base-url", server.base_url,
                     "--model", "stub", "--concurrency", "4", "--split", split, "--reveal-test"]) == 0
    shown = re.search(r"^run +(\S+)$", capsys.readouterr().out, re.M).group(1)
    with Store(workspace.private_dir) as store:
        looks = recorded_reveals(store, shown)
    assert looks.count == 1 and looks.looks["place"].tolist() == ["cli"]
    assert looks.looks["run_id"].tolist() == [shown]  # one look, by the run that showed it
