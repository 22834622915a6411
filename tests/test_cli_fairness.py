"""`cope-eval fairness RUN [RUN_B] --by COLUMN`: per-group table, disparities, the side-by-side
comparison, --json, and errors in the user's words, on runs stored in a real workspace."""

import json

import numpy as np
import pandas as pd
import pytest

from cope_eval.cli import main
from cope_eval.golden import golden_set_hash
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run
from cope_eval.store import Store
from tests.factories import make_policy

N = 240
HOSTILE = "\x1b[31m<script>=cmd"


def golden():
    """240 items in groups 'a' / 'b' (and a hostile group of 6), with per-target fractions as text."""
    rng = np.random.default_rng(0)
    group = np.where(np.arange(N) % 2 == 0, "a", "b").astype(object)
    group[:6] = HOSTILE
    items = pd.DataFrame({
        "id": [f"item-{i:05d}" for i in range(N)], "text": [f"post {i}" for i in range(N)],
        "label": np.tile([0, 0, 1, 1], N // 4), "image": None, "category": "c",
        "religion": pd.Series(group, dtype="str"),
        "gender": pd.Series([f"{v:.1f}" for v in rng.random(N)], dtype="str"),
        "race": pd.Series([f"{v:.1f}" for v in rng.random(N)], dtype="str"),
    })
    return GoldenSet("fair", golden_set_hash(items), items)


def stored_run(store, gold, scores, policy, threshold=0.5):
    run = create_run(store, policy=make_policy(policy), golden=gold, threshold=threshold,
                     endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
    store.add_predictions(run.id, [(i, float(s), None, "", None, 1.0, 0) for i, s in zip(gold.items["id"], scores)])
    store.mark_run(run.id, "completed")
    return run.id


@pytest.fixture
def runs(workspace):
    """Run A flags every gold-0 item of group 'b' (FPR gap 1.0); run B flags none (gap 0)."""
    gold = golden()
    items = gold.items
    gold_1 = items["label"] == 1
    in_b = items["religion"] == "b"
    a = np.where(gold_1 | in_b, 0.9, 0.1)
    b = np.where(gold_1, 0.9, 0.1)
    with Store(workspace.private_dir) as store:
        return stored_run(store, gold, a, "# A\n- old"), stored_run(store, gold, b, "# B\n- new")


def test_one_run_prints_groups_and_disparities(runs, capsys):
    a, _ = runs
    assert main(["fairness", a, "--by", "religion"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("group "))
    assert lines[header + 1].startswith("a ") and lines[header + 2].startswith("b ")
    assert "too few (30 needed)" in lines[header + 3]  # the 6 hostile items: listed last
    assert "\x1b" not in out and " [31m<script>=cmd" in out
    assert "FPR gap" in out and "b - a" in out and "beyond noise" in out
    assert "2 groups ranked, 1 too few" in out


def test_json_holds_the_library_figures(runs, capsys):
    a, _ = runs
    assert main(["fairness", a, "--by", "religion", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    run = data["runs"][0]
    rows = {r["group"]: r for r in run["rows"]}
    assert rows["b"]["fpr"] == 1.0 and rows["a"]["fpr"] == 0.0 and rows[HOSTILE]["too_few"]
    assert run["disparities"]["fpr_gap"]["estimate"] == 1.0 and not run["disparities"]["fpr_gap"]["noise"]
    assert run["threshold"] == 0.5 and "membership" not in run


def test_two_runs_side_by_side(runs, capsys):
    a, b = runs
    assert main(["fairness", a, b, "--by", "religion"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("FPR gap") and "narrowed" in line)
    assert "1.000" in line and "0.000" in line and "-1.000" in line and "beyond noise" in line
    assert main(["fairness", a, b, "--by", "religion", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["comparison"][0]["disparity"] == "fpr_gap" and data["comparison"][0]["direction"] == "narrowed"


def test_several_columns_with_a_cut(runs, capsys):
    a, _ = runs
    assert main(["fairness", a, "--by", "gender", "--by", "race", "--cut", "0.5", "--min-items", "5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    items = golden().items
    rows = {r["group"]: r for r in data["runs"][0]["rows"]}
    assert rows["gender"]["n"] == int((items["gender"].astype(float) >= 0.5).sum())
    assert rows["race"]["n"] == int((items["race"].astype(float) >= 0.5).sum())


def test_errors_name_the_flag(runs, capsys):
    a, _ = runs
    assert main(["fairness", a, "--by", "nationality"]) == 2
    err = capsys.readouterr().err
    assert "No metadata column 'nationality'" in err and "'religion'" in err and "--by COLUMN" in err
    assert main(["fairness", a, "--by", "gender", "--by", "race"]) == 2
    assert "add --cut X" in capsys.readouterr().err
    assert main(["fairness", a, "--by", "religion", "--cut", "0.5"]) == 2
    assert "holds no number" in (err := capsys.readouterr().err) and "leave out --cut" in err and "\x1b" not in err
    assert main(["fairness", a, "--by", "religion", "--min-items", "0"]) == 2
    assert "--min-items must be a whole number of at least 1, not 0" in capsys.readouterr().err
    assert main(["fairness", a, "--by", "religion", "--threshold", "2"]) == 2
    assert "--threshold must be a number from 0 to 1" in capsys.readouterr().err
    assert main(["fairness", "run-nope", "--by", "religion"]) == 2
    assert "No run 'run-nope'" in capsys.readouterr().err


def test_each_run_uses_its_own_threshold_unless_told(workspace, capsys):
    gold = golden()
    with Store(workspace.private_dir) as store:
        run = stored_run(store, gold, np.full(N, 0.6), "# C", threshold=0.7)
    main(["fairness", run, "--by", "religion", "--json"])
    assert json.loads(capsys.readouterr().out)["runs"][0]["rows"][0]["flagged"] == 0
    main(["fairness", run, "--by", "religion", "--threshold", "0.5", "--json"])
    assert json.loads(capsys.readouterr().out)["runs"][0]["rows"][0]["flagged"] == 117
