"""``cope-eval transfer RUN_A RUN_B --keep ...``: the table, ``--json``, and refusing what cannot be
carried over, in the user's words."""

import json

import numpy as np
import pytest

from cope_eval.cli import main
from cope_eval.cli._transfer import KEEP_CHOICES
from cope_eval.golden import correct_label
from cope_eval.metrics import KEEPS, transfer_threshold
from cope_eval.store import Store, run_results
from tests.factories import make_golden, make_policy
from tests.test_export import scored_run


def two_models(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(A's scores, B's scores) for ``make_golden(n)`` (gold 1 on odd items): B is a sharper model,
    its scores pushed towards 0 and 1, with its own noise."""
    rng = np.random.default_rng(seed)
    label = np.arange(n) % 2
    a = np.clip(0.35 + 0.3 * label + rng.normal(0, 0.15, n), 0.02, 0.98).round(4)
    b = np.clip(0.5 + 1.8 * (a - 0.5) + rng.normal(0, 0.05, n), 0.01, 0.99).round(4)
    return a, b


def stored_pair(store, workspace, golden=None, *, policy_b=None):
    """Runs A and B of one policy on one golden set by two 'models' (two score sets)."""
    golden = golden if golden is not None else make_golden(40)
    score_a, score_b = two_models(len(golden))
    texts = list(golden.items["text"])
    run_a, _ = scored_run(store, workspace, golden, dict(zip(texts, score_a)), threshold=0.5)
    run_b, _ = scored_run(store, workspace, golden, dict(zip(texts, score_b)), policy=policy_b, threshold=0.5)
    return run_a, run_b


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


@pytest.fixture
def pair(store, workspace):
    return stored_pair(store, workspace)


def library(store, a, b, keep, threshold=0.5):
    return transfer_threshold(run_results(store, a.id), run_results(store, b.id), threshold_a=threshold, keep=keep,
                              names=(a.id, b.id), golden_hashes=(a.golden_hash, b.golden_hash))


def test_the_cli_offers_what_the_library_keeps():
    assert KEEP_CHOICES == KEEPS


@pytest.mark.parametrize("keep", KEEPS)
def test_transfer_prints_both_thresholds_the_rationale_and_what_else_changes(pair, store, capsys, keep):
    a, b = pair
    expected = library(store, a, b, keep)

    assert main(["transfer", a.id, b.id, "--keep", keep]) == 0

    out = capsys.readouterr().out
    assert f"A = {a.id}  threshold 0.5\nB = {b.id}  threshold {expected.threshold_b:.6g}\n" in out
    assert "both runs cover the same 40 items: 40 items compared" in out
    assert f"\n{expected.rationale}\n" in out
    p = expected.changes["precision"]
    assert (f"precision{p.a.estimate:>11.3f}{p.b.estimate:>8.3f}{p.change.estimate:>+9.3f}   "
            f"[{p.change.low:+.3f}, {p.change.high:+.3f}]") in out
    assert [line.split()[0] for line in out.splitlines()[-5:]] == ["precision", "recall", "f1", "flag_rate", "fpr"]


def test_transfer_json_is_the_whole_record_and_takes_threshold_0(pair, store, capsys):
    a, b = pair

    assert main(["transfer", a.id, b.id, "--keep", "recall", "--threshold", "0", "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    expected = library(store, a, b, "recall", threshold=0.0)
    assert (data["threshold_a"], data["threshold_b"], data["target"]) == (0.0, expected.threshold_b, 1.0)
    assert data["run_a"] == a.id and data["rationale"] == expected.rationale
    assert data["changes"]["fpr"]["change"]["estimate"] == pytest.approx(expected.changes["fpr"].change.estimate)
    assert data["metrics_b"]["recall"] == 1.0


def test_runs_of_different_golden_sets_or_policy_versions_are_refused_unless_allowed(pair, store, workspace, capsys):
    a, _ = pair
    relabeled = correct_label(store, a.golden_hash, "item-00001", 0, author="t", reason="test")
    _, on_other_set = stored_pair(store, workspace, relabeled)
    _, other_policy = stored_pair(store, workspace, policy_b=make_policy("# Criteria\n\nAnother policy.\n"))

    assert main(["transfer", a.id, on_other_set.id, "--keep", "precision"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: Runs {a.id} and {on_other_set.id} scored different golden sets (sha256:")
    assert err.endswith("by two models, templates or quantisations; carry it over anyway, on the items both runs "
                        "scored, with --allow-different.\n")
    assert main(["transfer", a.id, other_policy.id, "--keep", "precision"]) == 2
    assert "scored different policy versions (sha256:" in capsys.readouterr().err

    assert main(["transfer", a.id, on_other_set.id, "--keep", "precision", "--allow-different"]) == 0
    out = capsys.readouterr().out
    assert "the runs were scored on different golden sets" in out and "1 items with a changed gold label" in out
    assert "; on the 39 items both runs scored." in out


def test_unknown_run_and_a_wrong_keep_are_one_line_errors(pair, capsys):
    a, _ = pair
    assert main(["transfer", a.id, "run-nope", "--keep", "precision"]) == 2
    assert capsys.readouterr().err == "error: No run 'run-nope' in this workspace's store.\n"
    with pytest.raises(SystemExit) as exit_info:
        main(["transfer", a.id, a.id, "--keep", "f1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err  # argparse quotes the choices or not, by Python version
    assert "argument --keep: invalid choice: 'f1' (choose from " in err and "flag-rate" in err
    assert main(["transfer", a.id, a.id, "--keep", "recall", "--threshold", "1.5"]) == 2
    assert capsys.readouterr().err == "error: --threshold must be a number from 0 to 1, not 1.5.\n"
