"""``export``, ``batch-export`` and ``batch-import`` on the command line: files, exit codes, errors."""

import json
import subprocess
import sys

import pytest

from cope_eval.cli import main
from cope_eval.metrics import threshold_for_recall
from cope_eval.scoring import create_run
from cope_eval.store import Store, run_results
from tests.conftest import REPO_ROOT
from tests.factories import make_golden, make_policy
from tests.test_batch import NOWHERE, answer_line
from tests.test_export import SENTINEL_KEY, exported_bytes, ranked_scores, scored_run


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


@pytest.fixture
def scored(store, workspace):
    run, _ = scored_run(store, workspace, make_golden(12), threshold=0.4)
    return run


def test_export_writes_the_bundle_at_the_runs_own_threshold(scored, workspace, capsys):
    out = workspace.root / "bundle"

    assert main(["export", "--run", scored.id, "--out", str(out)]) == 0

    card = json.loads((out / "card.json").read_text())
    assert (card["threshold"]["value"], card["threshold"]["method"]) == (0.4, "run")
    assert sorted(exported_bytes(out)) == sorted(card["files"])
    stdout = capsys.readouterr().out
    assert f"{scored.id}: bundle written to {out}" in stdout and "threshold  0.4 (the run's own threshold" in stdout
    assert "f1       " in stdout and "95% interval" in stdout


@pytest.mark.parametrize("option, method", [(["--threshold", "0.75"], "given"), (["--pick", "recall>=0.5"], "min_recall")])
def test_export_takes_a_threshold_or_a_rule(scored, store, workspace, option, method):
    out = workspace.root / "bundle"

    assert main(["export", "--run", scored.id, "--out", str(out), *option]) == 0

    card = json.loads((out / "card.json").read_text())
    expected = 0.75 if method == "given" else threshold_for_recall(run_results(store, scored.id), 0.5).threshold
    assert (card["threshold"]["method"], card["threshold"]["value"]) == (method, expected)


@pytest.mark.parametrize("args, message", [
    (["--pick", "f1>=0.5"], "error: Cannot read threshold rule 'f1>=0.5'; use max-f1, precision>=X or recall>=X "
     "(X between 0 and 1)."),
    (["--threshold", "2"], "error: --threshold must be a number from 0 to 1, not 2."),
])
def test_export_bad_threshold_exits_2_with_one_line(scored, workspace, capsys, args, message):
    assert main(["export", "--run", scored.id, "--out", str(workspace.root / "b"), *args]) == 2
    assert capsys.readouterr().err == message + "\n"
    assert not (workspace.root / "b").exists()


def test_export_unknown_run_and_occupied_folder_exit_2(scored, workspace, capsys):
    out = workspace.root / "bundle"
    assert main(["export", "--run", "run-nope", "--out", str(out)]) == 2
    assert "No run 'run-nope'" in capsys.readouterr().err
    assert main(["export", "--run", scored.id, "--out", str(out)]) == 0
    assert main(["export", "--run", scored.id, "--out", str(out)]) == 2
    assert "already holds policy.md" in capsys.readouterr().err
    assert main(["export", "--run", scored.id, "--out", str(out), "--overwrite"]) == 0
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--run", scored.id, "--out", str(out), "--threshold", "0.5", "--pick", "max-f1"])
    assert exit_info.value.code == 2


def test_batch_export_then_import_through_the_cli(store, workspace, capsys):
    golden = make_golden(5)
    run = create_run(store, policy=make_policy(), golden=golden, endpoint=NOWHERE)
    requests, results = workspace.root / "requests.jsonl", workspace.root / "results.jsonl"

    assert main(["batch-export", "--run", run.id, "--out", str(requests)]) == 0
    stdout = capsys.readouterr().out
    assert f"{run.id}: 5 request(s) for /v1/chat/completions written to {requests}" in stdout
    assert f"vllm run-batch -i {requests} -o results.jsonl --model stub" in stdout
    lines = [json.loads(line) for line in requests.read_text().splitlines()]
    scores = ranked_scores(golden)
    results.write_bytes(b"".join(answer_line(r, scores) for r in lines[:4]) + b"garbage\n")

    assert main(["batch-import", "--run", run.id, "--results", str(results)]) == 1
    captured = capsys.readouterr()
    assert "5 line(s) read; stored 4 score(s) and 0 error(s); skipped 0 already scored; run is interrupted" \
        in captured.out
    assert "unusable: results.jsonl, row 5: not valid JSON" in captured.err
    assert f"missing: 1 item(s) still have no prediction (e.g. {lines[4]['custom_id']})" in captured.err

    assert main(["batch-export", "--run", run.id, "--out", str(requests)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["batch-export", "--run", run.id, "--out", str(requests), "--overwrite"]) == 0
    assert "4 item(s) already have a prediction and were left out" in capsys.readouterr().out
    results.write_bytes(answer_line(json.loads(requests.read_text()), scores))
    assert main(["batch-import", "--run", run.id, "--results", str(results)]) == 0
    assert "run is completed" in capsys.readouterr().out
    assert main(["batch-import", "--run", run.id, "--results", str(workspace.root / "none.jsonl")]) == 2


def test_python_m_cope_eval_export_from_a_shell_writes_no_key_or_path(scored, workspace):
    env = {**__import__("os").environ, "COPE_EVAL_HOME": str(workspace.root), "COPE_API_KEY": SENTINEL_KEY}
    out = workspace.root / "shell-bundle"

    done = subprocess.run([sys.executable, "-m", "cope_eval", "export", "--run", scored.id, "--out", str(out),
                           "--pick", "max-f1"], capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=300)

    assert done.returncode == 0, done.stderr
    files = exported_bytes(out)
    assert json.loads(files["card.json"])["threshold"]["method"] == "max_f1"
    for name, data in files.items():
        assert SENTINEL_KEY.encode() not in data and str(workspace.root).encode() not in data, name
