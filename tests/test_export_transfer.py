"""Exporting run B at the threshold carried over from run A: the card (card.json and card.md) states
the rule, the source run, A's operating point and the rationale; the CLI's ``export --transfer-from``."""

import json

import pytest

from cope_eval.cli import main
from cope_eval.errors import ConfigError
from cope_eval.export import TransferFrom, build_bundle, transfer_runs
from cope_eval.export._bundle import ExportError
from cope_eval.store import Store
from tests.factories import make_golden
from tests.test_cli_transfer import stored_pair
from tests.test_export import scored_run


@pytest.fixture
def store(workspace):
    with Store(workspace.private_dir) as store:
        yield store


@pytest.fixture
def pair(store, workspace):
    return stored_pair(store, workspace)


def test_a_transferred_threshold_goes_on_the_card_with_its_rationale(pair, store, workspace):
    a, b = pair
    transfer = transfer_runs(store, a.id, b.id, keep="precision")

    bundle = build_bundle(store, b.id, workspace_root=workspace.root, transfer_from=TransferFrom(a.id, "precision"))

    card = json.loads(bundle.files["card.json"])
    assert card["threshold"] == {"value": transfer.threshold_b, "method": "transfer", "target": transfer.target,
                                 "description": transfer.rationale.removesuffix("."), "note": transfer.note}
    assert card["metrics"]["threshold"] == transfer.threshold_b and card["run"]["id"] == b.id
    section = card["transfer"]
    assert (section["from_run"], section["keep"], section["threshold_a"]) == (a.id, "precision", 0.5)
    assert section["rationale"] == transfer.rationale and section["reachable"] is True
    assert section["metrics_a"] == transfer.metrics_a.to_dict()
    assert section["changes"]["recall"]["change"] == transfer.changes["recall"].change.to_dict()
    assert list(card).index("transfer") == list(card).index("threshold") + 1

    md = bundle.files["card.md"].decode()
    assert f"**{transfer.threshold_b:g}**: {transfer.rationale}" in md
    assert f"### Carried over from {a.id}\n\n| field | value |" in md
    assert "| Rule | keep the precision: the lowest threshold of this run whose precision is at least" in md
    m = transfer.metrics_a
    assert (f"| Source operating point | threshold 0.5: precision {m.precision:.3f}, recall {m.recall:.3f}, "
            f"flag rate {m.positive_rate:.3f} ({m.tp} TP, {m.fp} FP, {m.fn} FN, {m.tn} TN) |") in md
    r = transfer.changes["recall"]
    assert (f"| recall | {r.a.estimate:.3f} | {r.b.estimate:.3f} | {r.change.estimate:+.3f} | "
            f"{r.change.low:+.3f} to {r.change.high:+.3f} |") in md
    assert f"Threshold {transfer.threshold_b:g}: {transfer.rationale}" in bundle.files["curves.html"].decode()


def test_a_card_not_transferred_says_null_and_no_section(pair, store, workspace):
    bundle = build_bundle(store, pair[1].id, workspace_root=workspace.root)
    assert bundle.card["transfer"] is None and "Carried over" not in bundle.files["card.md"].decode()


def test_a_transfer_b_cannot_reach_is_not_exported(store, workspace):
    golden = make_golden(8)  # gold 1 on odd items
    texts = list(golden.items["text"])
    a, _ = scored_run(store, workspace, golden, dict(zip(texts, [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6])))
    b, _ = scored_run(store, workspace, golden, dict(zip(texts, [0.95, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6])))

    with pytest.raises(ExportError, match=f"{b.id} cannot keep the precision of {a.id} .1.000 at threshold 0.5.: its "
                                          f"highest is 0.800.*Set the threshold by hand to export at the closest"):
        build_bundle(store, b.id, workspace_root=workspace.root, transfer_from=TransferFrom(a.id, "precision"))
    with pytest.raises(ConfigError, match="Give a threshold, a rule to pick one, or a run to carry it over from"):
        build_bundle(store, b.id, workspace_root=workspace.root, pick="max-f1",
                     transfer_from=TransferFrom(a.id, "recall"))


def test_export_transfer_from_on_the_command_line(pair, store, workspace, capsys):
    a, b = pair
    out = workspace.root / "bundle"
    transfer = transfer_runs(store, a.id, b.id, keep="flag-rate", threshold_a=0.6)

    assert main(["export", "--run", b.id, "--out", str(out), "--transfer-from", a.id, "--keep", "flag-rate",
                 "--threshold-a", "0.6"]) == 0

    card = json.loads((out / "card.json").read_text())
    assert (card["threshold"]["method"], card["threshold"]["value"]) == ("transfer", transfer.threshold_b)
    assert card["transfer"]["rationale"] == transfer.rationale and card["transfer"]["threshold_a"] == 0.6
    assert f"threshold  {transfer.threshold_b:g} ({transfer.rationale.removesuffix('.')})" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--transfer-from", "A"], "error: --transfer-from needs --keep precision, recall or flag-rate: what to keep "
                               "of run A's operating point.\n"),
    (["--keep", "recall", "--threshold-a", "0"], "error: --keep, --threshold-a only go with --transfer-from RUN_A.\n"),
    (["--transfer-from", "run-nope", "--keep", "recall"], "error: No run 'run-nope' in this workspace's store.\n"),
])
def test_export_transfer_flags_in_the_wrong_company_are_one_line_errors(pair, workspace, capsys, args, message):
    out = workspace.root / "b"
    assert main(["export", "--run", pair[1].id, "--out", str(out), *args]) == 2
    assert capsys.readouterr().err == message
    assert not out.exists()


def test_export_refuses_a_source_run_on_another_golden_set_unless_allowed(store, workspace, capsys):
    a, _ = stored_pair(store, workspace, make_golden(40, name="one"))
    _, b = stored_pair(store, workspace, make_golden(40, name="two", texts=[f"text {i}" for i in range(40)]))
    out = workspace.root / "b"
    args = ["export", "--run", b.id, "--out", str(out), "--transfer-from", a.id, "--keep", "recall"]

    assert main(args) == 2
    assert "with --allow-different." in capsys.readouterr().err
    assert main([*args, "--allow-different"]) == 0  # the sets share item ids and labels, not texts: said so
    items = json.loads((out / "card.json").read_text())["transfer"]["items"]
    assert items.startswith("the runs were scored on different golden sets: golden-set hashes differ (sha256:")
    assert "; on the 40 items both runs scored" in capsys.readouterr().out
