"""`cope-eval suite`: bad input in the CLI's words, and end to end against the real local vLLM on
two areas with a small item cap, side A under cope-b and side B under cope-a on the same server."""

import json

import pandas as pd
import pytest

from cope_eval.cli import main
from cope_eval.export import MEAN_ROW
from cope_eval.metrics import bootstrap_ci, metrics_at_threshold
from cope_eval.store import Store, run_results
from tests.test_suite import sample_workspace


@pytest.mark.parametrize("argv, message", [
    (["--areas", "violence,weapons"], "--areas: unknown area 'weapons'"),
    (["--areas", ","], "--areas: no area given"),
    (["--golden", "drugs"], "--golden takes AREA=PATH"),
    (["--golden", "spam=x.csv"], "unknown area 'spam'"),
    (["--golden", "drugs=/no/such.csv"], "--golden drugs=/no/such.csv: no such file"),
    (["--limit", "0"], "--limit must be a whole number"),
    (["--threshold", "2"], "--threshold must be a number from 0 to 1"),
    (["--csv", "/no/such/dir/t.csv", "--base-url", "http://127.0.0.1:9"], "--csv /no/such/dir/t.csv: give a file"),
], ids=["area", "no-area", "golden-no-equals", "golden-area", "golden-file", "limit", "threshold", "csv"])
def test_bad_input_names_the_flag(workspace, capsys, argv, message):
    assert main(["suite", *argv]) == 2
    assert message in capsys.readouterr().err


def test_no_server_is_said_before_anything_runs(workspace, capsys, monkeypatch):
    monkeypatch.delenv("COPE_BASE_URL", raising=False)
    assert main(["suite", "--areas", "violence"]) == 2
    assert "No server: pass --base-url" in capsys.readouterr().err


@pytest.mark.model
def test_suite_against_vllm_matches_its_stored_runs_side_by_side(model_server, workspace, capsys, tmp_path):
    sample_workspace(workspace.root)
    out = tmp_path / "out"
    out.mkdir()
    argv = ["suite", "--areas", "drugs,self-harm,violence", "--limit", "6", "--base-url", model_server.base_url,
            "--model", model_server.model, "--template-b", "cope-a", "--concurrency", "4",
            "--csv", str(out / "card.csv"), "--markdown", str(out / "card.md")]
    assert main([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    card = json.loads(captured.out)
    assert card["descriptions"]["A"].startswith(f"{model_server.model} at ") and "(cope-a," in card["descriptions"]["B"]
    rows = pd.DataFrame(card["rows"])
    assert sorted(set(rows["side"])) == ["A", "B"] and set(rows["area"]) == {"drugs", "self-harm", "violence"}
    for _, row in rows[rows["run_id"].notna()].iterrows():
        assert f"{row['side']} {row['area']}: {row['run_id']}" in captured.err, "each area's run id is printed"
    with Store(workspace.private_dir) as store:
        for _, row in rows.iterrows():
            if row["area"] == "drugs":
                assert row["status"] == "no sample golden set" and pd.isna(row["run_id"])
                continue
            run = store.run(row["run_id"])
            assert (run.template, run.n_items, run.status) == ("cope-a" if row["side"] == "B" else "cope-b", 6,
                                                               "completed")
            assert (row["policy_version_id"], row["golden_hash"]) == (run.policy_version_id, run.golden_hash)
            results = run_results(store, run.id)
            m = metrics_at_threshold(results, threshold=run.threshold)
            assert (row["n"], row["errors"]) == (m.n, m.errors)
            if m.n:
                ci = bootstrap_ci(results, threshold=run.threshold)
                for metric in ("precision", "recall", "f1"):
                    assert row[metric] == pytest.approx(getattr(m, metric))
                    assert row[f"{metric}_low"] <= row[metric] <= row[f"{metric}_high"]
                    assert ci.n == m.n
    mean = pd.DataFrame(card["mean"]).set_index("side")
    for side in ("A", "B"):
        scored = rows[(rows["side"] == side) & (rows["status"] == "scored")]
        assert mean.loc[side, "areas_in_mean"] == len(scored)
        if len(scored):
            assert mean.loc[side, "f1"] == pytest.approx(scored["f1"].mean())
    csv = pd.read_csv(out / "card.csv")
    assert list(csv["area"]).count(MEAN_ROW) == 2 and len(csv) == 8
    markdown = (out / "card.md").read_text()
    assert "| A Precision |" in markdown and "B F1" in markdown and "no sample golden set" in markdown

    # Again: new runs, every answer from the cache; the table prints with each area's run.
    assert main(argv) == 0
    again = capsys.readouterr()
    assert "mean: unweighted over the areas with scores" in again.out and "runs:" in again.out
    with Store(workspace.private_dir) as store:
        repeated = [store.run(line.split(": ")[1]) for line in again.err.splitlines()
                    if line.startswith(("A ", "B ")) and ": run-" in line]
        assert len(repeated) == 4
        for run in repeated:
            results = run_results(store, run.id)
            answered = results[results["error"].isna()]  # an errored answer is never cached: sent again
            assert run.status == "completed" and len(answered) and answered["cached"].astype(bool).all()
