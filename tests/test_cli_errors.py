"""The CLI never lies and never crashes: bad flags, a broken workspace, a full disk, files in the way.

Every refusal is exit 2 with one ``error:`` line in the user's words (the flag, the file), no
traceback, and nothing half-written. Gates count errored items. Faults are real ones: a read-only
bind mount, RLIMIT_FSIZE for a full disk (the write fails with EFBIG), random bytes for a store.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from cope_eval.cli import main
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run, execute_run
from cope_eval.scoring._http_client import max_concurrency
from cope_eval.store import Store, run_results
from tests.conftest import REPO_ROOT
from tests.factories import make_golden, make_policy
from tests.stub_server import Reply, StubServer, chat_reply, instant
from tests.test_cli_compare import by_policy, score_two_policies
from tests.test_export import FAST, scored_run


def one_error_line(capsys) -> str:
    """The single line the CLI printed on stderr; fails on a traceback or a second line."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err.rstrip("\n")


def cli(*args, env, limit_bytes: int | None = None, unshare_readonly: Path | None = None):
    """``python -m cope_eval`` in a subprocess (for faults that must not touch pytest itself)."""
    command = [sys.executable, "-m", "cope_eval", *args]
    if unshare_readonly is not None:  # the workspace bind-mounted read-only in a private mount namespace
        command = ["unshare", "-rm", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
                   str(unshare_readonly), *command]

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=300,
                          preexec_fn=limit if limit_bytes else None)


@pytest.fixture
def env(workspace, monkeypatch):
    for name in ("COPE_BASE_URL", "COPE_MODEL", "COPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return {**os.environ, "COPE_EVAL_HOME": str(workspace.root)}


@pytest.fixture
def two_runs(workspace):
    """Two runs on one golden set: 'strict' says 1 to all; 'lenient' says 0 (P("1") = e^-3) to the odd items."""
    return score_two_policies(workspace)[1]


# --- thresholds: one check, every command -----------------------------------------------------------

COMMANDS_WITH_A_THRESHOLD = [
    (["run", "--golden", "g.csv", "--policy", "p.md"], "--threshold"),
    (["run", "--golden", "g.csv", "--policy", "p.md"], "--fail-under-f1"),
    (["run", "--golden", "g.csv", "--policy", "p.md"], "--max-error-rate"),
    (["compare", "run-a", "run-b"], "--threshold"),
    (["export", "--run", "run-a", "--out", "bundle"], "--threshold"),
    (["triage", "run-a"], "--min-confidence"),
]


@pytest.mark.parametrize("argv, flag", COMMANDS_WITH_A_THRESHOLD)
@pytest.mark.parametrize("value", ["1.5", "nan", "-0.1", "inf", "-inf", "abc"])
def test_a_threshold_out_of_range_is_one_line_naming_the_flag(workspace, capsys, argv, flag, value):
    assert main([*argv, f"{flag}={value}"]) == 2
    assert one_error_line(capsys) == f"error: {flag} must be a number from 0 to 1, not {value}."
    assert not (workspace.root / "bundle").exists()


@pytest.mark.parametrize("value, problem", [
    ("100000", f"Concurrency must be at most {max_concurrency():,}, not 100,000"), ("0", "Concurrency must be at least 1, not 0"),
    ("-3", "Concurrency must be at least 1, not -3"), ("many", "--concurrency must be 'auto' or a whole number, not 'many'"),
])
def test_a_concurrency_the_process_cannot_hold_is_one_line_naming_the_flag(workspace, capsys, value, problem):
    """100,000 connections ran out of file descriptors, reported as 'server unreachable'."""
    assert main(["run", "--golden", "g.csv", "--policy", "p.md", f"--concurrency={value}"]) == 2
    line = one_error_line(capsys)
    assert line.startswith("error: --concurrency") and problem in line


def test_compare_at_threshold_0_is_not_ignored(two_runs, store_of, capsys):
    a, b = two_runs
    assert main(["compare", a, b, "--threshold", "0", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key, run_id in (("metrics_a", a), ("metrics_b", b)):
        results = run_results(store_of, run_id)
        gold, predicted = results["label"].to_numpy(), (results["score"] >= 0).to_numpy()
        got = data[key]
        assert got["threshold"] == 0.0
        assert got["precision"] == pytest.approx(precision_score(gold, predicted))  # 0.5: every item is "1"
        assert got["recall"] == pytest.approx(recall_score(gold, predicted))
        assert got["f1"] == pytest.approx(f1_score(gold, predicted))
    # At the runs' own 0.5, lenient flags only gold-0 items (precision 0): 0 really was used.
    assert data["metrics_b"]["precision"] == 0.5 and data["metrics_b"]["recall"] == 1.0


@pytest.fixture
def store_of(workspace):
    with Store(workspace.private_dir) as store:
        yield store


# --- the CI gate counts errored items ---------------------------------------------------------------

def five_of_six_fail(path, body):
    """The stub errors (400) on every item but the one whose text is GOOD; that one is a gold 1 said "1"."""
    if "completions" not in path:
        return instant(path, body)
    return Reply(body=chat_reply("1", {"1": -0.01, "0": -5.0})) if b"GOOD" in body else Reply(400, b'{"error":"bad"}')


@pytest.fixture
def six_items(tmp_path):
    texts = ["GOOD post"] + [f"post {i}" for i in range(1, 6)]
    pd.DataFrame({"id": [f"i{i}" for i in range(6)], "text": texts, "label": [1, 0, 1, 0, 1, 0]}).to_csv(
        tmp_path / "golden.csv", index=False)
    (tmp_path / "policy.md").write_text("# Criteria\n\nFlag threats.\n")
    return tmp_path


@pytest.mark.parametrize("gate, rc, said", [
    # F1 over the one item that scored is 1.0: the old gate passed with 5 of 6 items errored.
    (["--fail-under-f1", "0.9"], 1, "error rate 83.3% (5 of 6 items) is above --max-error-rate 5%"),
    (["--max-error-rate", "0.5"], 1, "error rate 83.3% (5 of 6 items) is above --max-error-rate 50%"),
    (["--fail-under-f1", "0.9", "--max-error-rate", "0.9"], 0, None),
    (["--fail-under-f1", "0.9", "--max-error-rate", "0.8334"], 0, None),
    ([], 0, None),  # no gate asked for: the run completed, errors are reported in the summary
])
def test_a_gate_fails_when_too_many_items_errored(workspace, six_items, capsys, gate, rc, said):
    with StubServer(five_of_six_fail) as server:
        code = main(["run", "--golden", str(six_items / "golden.csv"), "--policy", str(six_items / "policy.md"),
                     "--base-url", server.base_url, "--model", "stub", *gate])
    captured = capsys.readouterr()
    assert code == rc, captured.err
    assert "Traceback" not in captured.err and re.search(r"\nerrors +5\n", captured.out), captured.out
    if said:
        assert said in captured.err
    else:
        assert "max-error-rate" not in captured.err


# --- a broken workspace -----------------------------------------------------------------------------

def test_a_garbage_store_file_is_named_with_what_to_do(workspace, capsys):
    junk = np.random.default_rng(0).bytes(50_000)
    workspace.db_path.write_bytes(junk)
    assert main(["compare", "run-a", "run-b"]) == 2
    line = one_error_line(capsys)
    assert str(workspace.db_path) in line and "is not a usable cope-eval store" in line and "Move it aside" in line
    assert workspace.db_path.read_bytes() == junk, "the file is left as it was"


def readonly_mount_works(path: Path) -> bool:
    try:
        probe = subprocess.run(["unshare", "-rm", "sh", "-c", 'mount --bind -o ro "$0" "$0" && ! touch "$0/x"',
                                str(path)], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def test_a_read_only_workspace_is_one_line(two_runs, workspace, env):
    a, b = two_runs
    before = {p: p.read_bytes() for p in workspace.root.rglob("*") if p.is_file()}
    if os.geteuid() != 0:  # an ordinary user: permissions make it read-only
        for path in [workspace.root, *workspace.root.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        result = cli("compare", a, b, env=env)
        for path in [workspace.root, *workspace.root.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    elif readonly_mount_works(workspace.root):  # root ignores permissions: a read-only bind mount
        result = cli("compare", a, b, env=env, unshare_readonly=workspace.root)
    else:
        pytest.skip("root, and no user namespace to mount the workspace read-only")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: Cannot open the workspace store {workspace.db_path}") and "read-only" in line
    assert {p: p.read_bytes() for p in workspace.root.rglob("*") if p.is_file()} == before


def test_a_full_disk_mid_run_is_one_line_and_the_store_stays_consistent(two_runs, workspace, env, tmp_path):
    """RLIMIT_FSIZE makes every write past the limit fail with EFBIG, as a full disk does with ENOSPC."""
    a, _ = two_runs
    with Store(workspace.private_dir) as store:
        kept = store.predictions(a)
    n = 3000  # several times what fits under the limit, whatever the batch sizes and WAL checkpoints
    pd.DataFrame({"id": [f"x{i}" for i in range(n)], "text": [f"long post {i} " + "words " * 40 for i in range(n)],
                  "label": [i % 2 for i in range(n)]}).to_csv(tmp_path / "big.csv", index=False)
    (tmp_path / "policy.md").write_text("# Criteria\n\nFlag threats.\n")
    limit = workspace.db_path.stat().st_size + 256 * 1024  # room for the run's first rows, not for all of them

    def paced(path: str, body: bytes) -> Reply:  # about 800 answers a second: each commit holds a few hundred rows
        return replace(instant(path, body), delay_s=0 if path.endswith("/models") else 0.01)

    with StubServer(paced) as server:
        result = cli("run", "--golden", str(tmp_path / "big.csv"), "--policy", str(tmp_path / "policy.md"),
                     "--base-url", server.base_url, "--model", "stub", "--concurrency", "8",
                     env=env, limit_bytes=limit)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        [line] = [x for x in result.stderr.splitlines() if x.startswith("error:")]
        assert "Traceback" not in result.stderr and "resume" in line, result.stderr
        run_id = line.split("resume ")[-1].strip()
        with Store(workspace.private_dir) as store:
            assert store.integrity_ok()
            pd.testing.assert_frame_equal(store.predictions(a), kept)  # what was stored before is intact
            stored = len(store.predictions(run_id))
        assert 0 < stored < n, f"the limit should hit the run part way; {stored} of {n} stored"
        # With room again, resume finishes the run: each item exactly once.
        done = cli("resume", run_id, env={**env, "COPE_BASE_URL": server.base_url})
    assert done.returncode == 0, done.stderr
    with Store(workspace.private_dir) as store:
        predictions = store.predictions(run_id)
        assert len(predictions) == n and predictions["item_id"].is_unique and store.integrity_ok()


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_a_missing_or_damaged_golden_snapshot_is_one_line(workspace, capsys, damage):
    with Store(workspace.private_dir) as store:
        run, _ = scored_run(store, workspace, make_golden(6))
    [snapshot] = (workspace.private_dir / "golden").glob("*.parquet")
    if damage == "missing":
        snapshot.unlink()
    else:
        snapshot.write_bytes(b"PAR1 this is not parquet")
    out = workspace.root / "bundle"
    assert main(["export", "--run", run.id, "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert f"The stored copy of golden set 'set' ({snapshot}) is {damage if damage == 'missing' else 'damaged'}" in line
    assert "add the golden set's file again" in line
    assert not out.exists()


# --- files in the way -------------------------------------------------------------------------------

def test_export_onto_an_existing_file_is_refused_and_the_file_kept(workspace, capsys):
    with Store(workspace.private_dir) as store:
        run, _ = scored_run(store, workspace, make_golden(6))
    target = workspace.root / "notes.txt"
    target.write_text("mine")
    assert main(["export", "--run", run.id, "--out", str(target)]) == 2
    assert one_error_line(capsys) == f"error: {target} is a file; a bundle is written into a folder: choose a folder."
    assert target.read_text() == "mine"


def test_export_that_runs_out_of_space_leaves_no_half_bundle(workspace, env):
    with Store(workspace.private_dir) as store:
        run, _ = scored_run(store, workspace, make_golden(6))
    out = workspace.root / "bundle"
    # curves.html (plotly inlined) is megabytes; policy.md, card.json and card.md fit under the limit.
    result = cli("export", "--run", run.id, "--out", str(out), env=env, limit_bytes=512 * 1024)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: Cannot write ") and "curves.html" in line and "the bundle was not written" in line
    assert not out.exists(), "what was written is removed again, the folder too"


def test_run_out_onto_a_file_is_refused_before_anything_is_sent(workspace, six_items, capsys):
    target = six_items / "taken"
    target.write_text("mine")
    with StubServer() as server:
        code = main(["run", "--golden", str(six_items / "golden.csv"), "--policy", str(six_items / "policy.md"),
                     "--base-url", server.base_url, "--model", "stub", "--out", str(target)])
    assert code == 2 and server.count == 0
    assert one_error_line(capsys) == f"error: --out {target} is a file; give a folder (metrics.json and " \
                                     "predictions.csv go in it)."
    assert target.read_text() == "mine"


# --- policies: names and size -----------------------------------------------------------------------

@pytest.mark.parametrize("file_name, slug", [("con.md", "con-policy"), ("aux.md", "aux-policy"),
                                             ("日本語.md", None)])
def test_a_policy_file_name_that_is_no_folder_name_is_recorded_under_a_safe_name(workspace, six_items, capsys,
                                                                                 file_name, slug):
    from cope_eval.policies import slugify

    slug = slug or slugify("日本語")
    policy = six_items / file_name
    shutil.copy(six_items / "policy.md", policy)
    with StubServer() as server:
        code = main(["run", "--golden", str(six_items / "golden.csv"), "--policy", str(policy),
                     "--base-url", server.base_url, "--model", "stub"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"policy {file_name!r} is recorded under the name {slug!r}" in captured.err
    with Store(workspace.private_dir) as store:
        [run] = store.runs()
        assert store.policy_version(run.policy_version_id).policy == slug


def test_a_policy_over_2_mib_is_refused_before_anything_is_sent(workspace, six_items, capsys):
    big = six_items / "big.md"
    big.write_text("# Criteria\n" + "x" * 3_300_000)
    with StubServer() as server:
        code = main(["run", "--golden", str(six_items / "golden.csv"), "--policy", str(big),
                     "--base-url", server.base_url, "--model", "stub"])
    assert code == 2 and server.count == 0
    assert one_error_line(capsys) == f"error: {big}: policy text is 3,300,011 bytes, over the limit of 2,097,152 bytes."


# --- messages name the flag, not the library parameter ----------------------------------------------

def test_a_missing_column_names_the_flag(workspace, six_items, capsys):
    (six_items / "nolabel.csv").write_text("text,verdict\nhi,1\n")
    assert main(["run", "--golden", str(six_items / "nolabel.csv"), "--policy", str(six_items / "policy.md"),
                 "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]) == 2
    line = one_error_line(capsys)
    assert "no label column" in line and line.endswith("; say which column holds the gold label with --label-column")
    assert "ColumnSpec" not in line
    assert main(["run", "--golden", str(six_items / "golden.csv"), "--policy", str(six_items / "policy.md"),
                 "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--text-column", "body"]) == 2
    line = one_error_line(capsys)
    assert "the text column was set to 'body', which is not in the file" in line
    assert line.endswith("; say which column holds the text with --text-column")


def test_different_golden_sets_name_the_intersect_flag(two_runs, workspace, capsys):
    from cope_eval.golden import correct_label

    a, _ = two_runs
    with StubServer(by_policy) as server, Store(workspace.private_dir) as store:
        relabeled = correct_label(store, store.run(a).golden_hash, "item-00001", 0, author="t", reason="test")
        endpoint = Endpoint(server.base_url, "stub")
        c = create_run(store, policy=make_policy("lenient policy"), golden=relabeled, endpoint=endpoint)
        execute_run(store, c.id, endpoint, workspace_root=workspace.root, retry=FAST)
    assert main(["compare", a, c.id]) == 2
    line = one_error_line(capsys)
    assert line.endswith("19 items match; compare only the items that match with --intersect")
    assert "on_mismatch" not in line


def test_an_existing_bundle_names_the_overwrite_flag(workspace, capsys):
    with Store(workspace.private_dir) as store:
        run, _ = scored_run(store, workspace, make_golden(6))
    out = workspace.root / "bundle"
    assert main(["export", "--run", run.id, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["export", "--run", run.id, "--out", str(out)]) == 2
    assert one_error_line(capsys).endswith("; choose an empty folder; or replace them with --overwrite.")


def test_a_refused_flag_opens_nothing(workspace, capsys):
    """The flag is checked while parsing: no store is created for a command that never ran."""
    assert main(["compare", "a", "b", "--threshold", "2"]) == 2
    capsys.readouterr()
    assert not workspace.db_path.exists()
