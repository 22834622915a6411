"""`python -m cope_eval triage`: list, tag, relabel, gaps; hostile text cannot drive the terminal."""

import json

import pytest

from cope_eval.cli import main
from cope_eval.store import Store
from tests.factories import make_golden
from tests.test_triage import SCORES, scored_run

HOSTILE = "\x1b[2J\x1b]0;pwned\x07evil\rtext\x9b31m\u202egnp.exe"


@pytest.fixture
def run(workspace):
    golden = make_golden(9, texts=[HOSTILE] + [f"post number {i}" for i in range(1, 9)])
    with Store(workspace.private_dir) as store:
        return scored_run(store, golden, SCORES), golden


def test_list_shows_the_confident_misses_without_control_characters(run, capsys):
    run, _ = run
    assert main(["triage", run.id]) == 0
    out = capsys.readouterr().out
    assert "4 disagreement(s) (2 FP, 2 FN) among 7 scored item(s) at threshold 0.5" in out
    rows = [line.split()[:5] for line in out.splitlines() if line.startswith(("FP ", "FN "))]
    assert rows == [["FP", "0.950", "0.950", "0", "item-00000"], ["FN", "0.900", "0.100", "1", "item-00001"],
                    ["FN", "0.880", "0.120", "1", "item-00007"], ["FP", "0.850", "0.850", "0", "item-00002"]]
    assert not any(c in out for c in "\x1b\x07\r\x9b\u202e") and " [2J ]0;pwned evil text 31m gnp.exe" in out

    assert main(["triage", run.id, "--min-confidence", "0.6", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [i["item_id"] for i in listing["items"]][-1] == "item-00004" and listing["items"][0]["text"] == HOSTILE
    assert (listing["scored"], listing["left_out"], listing["hard_label"]) == (7, 2, False)


def test_tag_relabel_and_gaps_through_the_cli(run, workspace, capsys):
    run, golden = run
    assert main(["triage", "tag", run.id, "item-00000", "--label-error", "--note", "a real threat",
                 "--author", "ana"]) == 0
    assert main(["triage", "tag", run.id, "item-00001", "--gap", "--note", "coded \x1b[31mthreats"]) == 0
    assert main(["triage", "tag", run.id, "item-00002", "--gap"]) == 0
    assert main(["triage", "tag", run.id, "item-00002", "--clear"]) == 0
    out = capsys.readouterr().out
    assert "is a label error for policy violence" in out and "cleared the tag of item-00002" in out
    assert main(["triage", run.id]) == 0
    out = capsys.readouterr().out
    assert "label_error" in out and "1 open label-error tag(s)" in out

    assert main(["triage", "relabel", run.id, "--author", "bo"]) == 0
    out = capsys.readouterr().out
    assert "item-00000: 0 -> 1" in out and "1 label(s) corrected" in out
    with Store(workspace.private_dir) as store:
        [new_hash] = store.golden_leaves(golden.hash)
        assert store.label_history(new_hash)[["item_id", "author"]].values.tolist() == [["item-00000", "bo"]]

    assert main(["triage", "gaps", "violence"]) == 0
    out = capsys.readouterr().out
    assert "1 open, 0 done" in out and "[ ]" in out and "coded  [31mthreats" in out and "\x1b" not in out
    gap_id = int(out.split("[ ]")[1].split()[0])
    assert main(["triage", "gaps", "violence", "--done", str(gap_id), "--author", "cy", "--json"]) == 0
    [gap] = json.loads(capsys.readouterr().out)
    assert (gap["id"], gap["status"], gap["done_by"], gap["item_id"]) == (gap_id, "done", "cy", "item-00001")


@pytest.mark.parametrize("argv, message", [
    (["triage", "run-nope"], "No run 'run-nope'"),
    (["triage", "tag", "RUN", "item-00003", "--gap"], "agrees with the gold label"),
    (["triage", "tag", "RUN", "item-00000", "--label-error"], "needs a note"),
    (["triage", "relabel", "RUN", "--author", "bo"], "no open label-error tags"),
    (["triage", "RUN", "--min-confidence", "1.5"], "--min-confidence must be a number from 0 to 1, not 1.5."),
    (["triage", "gaps", "violence", "--done", "41"], "No current triage tag 41"),
])
def test_user_errors_are_one_line_and_exit_2(run, capsys, argv, message):
    run, _ = run
    assert main([run.id if a == "RUN" else a for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_help_and_usage(run, capsys):
    assert main(["triage", "--help"]) == 0
    assert "triage tag RUN ITEM --gap|--label-error|--clear" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["triage", "tag", run[0].id, "item-00000"])
    assert exit_.value.code == 2
    assert "one of the arguments --gap --label-error --clear is required" in capsys.readouterr().err
