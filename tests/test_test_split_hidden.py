"""No page and no command shows the test split's figures or items without a reveal.

Two runs (two policy versions) score a split golden set whose test items are all scored wrong,
so any figure that took in one test item differs from the dev figure. Every CLI report and page
below is read whole: no test item's id appears, and the F1 shown is the dev split's, checked
against scikit-learn. Then Compare's "Reveal test metrics" shows the test F1 and records one look.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sklearn.metrics import f1_score

from cope_eval.cli import main
from cope_eval.config import workspace_from_env
from cope_eval.golden import make_split
from cope_eval.store import Store, recorded_reveals
from pages import (_insight_ablation, _insight_agreement, _insight_attribution, _insight_probes, _insight_suggest,
                   _insight_triage, _state)
from tests.apptest import open_page, texts
from tests.factories import POLICY_TEXT, make_golden, make_policy
from tests.test_export import scored_run

N = 60


@pytest.fixture
def split_runs(workspace):
    golden = make_split(make_golden(N), test_fraction=0.3, seed=0)
    items = golden.items
    scores = {text: (0.8 if label else 0.2) if split == "dev" else (0.1 if label else 0.9)
              for text, label, split in zip(items["text"], items["label"], items["split"])}
    with Store(workspace.private_dir) as store:
        a, _ = scored_run(store, workspace, golden, scores)
        b, _ = scored_run(store, workspace, golden, scores, policy=make_policy(POLICY_TEXT + "- Also this.\n"))
    test_ids = items.loc[items["split"] == "test", "id"].tolist()
    f1 = {split: f1_score(part["label"], (part["text"].map(scores) >= 0.5).astype(int))
          for split, part in items.groupby("split")}
    assert f"{f1['dev']:.3f}" != f"{f1['test']:.3f}", "a test figure must be told apart from the dev one"
    return a, b, test_ids, f1


def _leaks(shown: str, test_ids: list[str]) -> list[str]:
    return [item for item in test_ids if item in shown]


@pytest.mark.parametrize("command", [
    lambda a, b: ["compare", a, b, "--flips", "1000"],
    lambda a, b: ["compare", a, b, "--json"],
    lambda a, b: ["fairness", a, b, "--by", "category", "--min-items", "5"],
    lambda a, b: ["fairness", a, "--by", "category", "--json"],
    lambda a, b: ["transfer", a, b, "--keep", "recall", "--allow-different"],
    lambda a, b: ["triage", a, "--min-confidence", "0", "--json"],
    lambda a, b: ["triage", a, "--min-confidence", "0"],
], ids=["compare", "compare-json", "fairness", "fairness-json", "transfer", "triage-json", "triage"])
def test_no_command_reports_a_test_item_or_figure(split_runs, capsys, command):
    a, b, test_ids, f1 = split_runs
    assert main(command(a.id, b.id)) == 0
    shown = capsys.readouterr().out
    assert _leaks(shown, test_ids) == []
    with Store(workspace_from_env().private_dir) as store:
        assert recorded_reveals(store, a.id).count == 0


def _open_tab(at, key: str, label: str) -> None:
    at.session_state[key] = label
    at.run()


def _everything(at) -> str:
    frames = [frame.value for frame in at.dataframe]
    cells = "\n".join(frame.to_csv() for frame in frames if isinstance(frame, pd.DataFrame))
    return texts(at) + "\n" + cells


def test_no_page_shows_a_test_item_or_figure_until_the_reveal(split_runs, monkeypatch, workspace):
    a, b, test_ids, f1 = split_runs
    at = open_page("compare", monkeypatch, tabs={_state.COMPARE_DETAIL: "Fairness"})  # only the open tab is drawn
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    at.multiselect(key=_state.FAIRNESS_BY).set_value(["category"]).run()
    shown = _everything(at)
    _open_tab(at, _state.COMPARE_DETAIL, "Carry a threshold")
    at.button(key=_state.TRANSFER_FIND).click().run()
    at.checkbox(key=_state.TRANSFER_ALLOW).check().run()
    at.button(key=_state.TRANSFER_FIND).click().run()
    shown += _everything(at)
    _open_tab(at, _state.COMPARE_DETAIL, "What changed")
    at.selectbox(key=_state.FLIPS_OUTCOME).set_value(_state.ALL).run()
    assert not at.exception, at.exception
    shown += _everything(at)
    assert _leaks(shown, test_ids) == []
    metrics = next(f.value for f in at.dataframe if "f1 95% CI" in f.value.columns)
    assert metrics["f1"].tolist() == pytest.approx([f1["dev"]] * 2)
    assert "Test split (revealed)" not in shown and "Reveal test metrics" in [b.label for b in at.button]

    for page in ("evaluate", "home"):
        other = at.switch_page(f"pages/{page}.py").run()
        assert not other.exception, (page, other.exception)
        assert _leaks(_everything(other), test_ids) == [], page
    at.switch_page("pages/insight.py").run()
    for section in (_insight_probes, _insight_ablation, _insight_attribution, _insight_triage, _insight_suggest,
                    _insight_agreement):  # every tab: only the open one is drawn
        _open_tab(at, _state.INSIGHT_TAB, section.TITLE)
        assert not at.exception, (section.TITLE, at.exception)
        assert _leaks(_everything(at), test_ids) == [], section.TITLE
    with Store(workspace.private_dir) as store:
        assert recorded_reveals(store, a.id).count == 0

    at.switch_page("pages/compare.py").run()
    at.button(key=_state.REVEAL_TEST).click().run()
    assert not at.exception, at.exception
    assert "Test split (revealed)" in texts(at)
    test_metrics = next(f.value for f in at.dataframe if "f1 95% CI" in f.value.columns and f.value is not metrics
                        and f.value["n"].tolist() == [len(test_ids)] * 2)
    assert test_metrics["f1"].tolist() == pytest.approx([f1["test"]] * 2)
    at.run()  # redrawing shows them again without another look
    with Store(workspace.private_dir) as store:
        looks = recorded_reveals(store, a.id)
    assert looks.count == 2 and sorted(looks.looks["run_id"]) == sorted([a.id, b.id])
    assert set(looks.looks["place"]) == {"page"}
    assert json.dumps(looks.looks["who"].tolist()) == '["", ""]'  # nobody signed in: no name to record


def test_the_commands_figures_count_only_dev_items(split_runs, capsys):
    a, b, test_ids, f1 = split_runs
    dev = N - len(test_ids)
    main(["compare", a.id, b.id, "--json"])
    compared = json.loads(capsys.readouterr().out)
    assert compared["metrics_a"]["f1"] == pytest.approx(f1["dev"]) and compared["n"] == dev
    main(["fairness", a.id, "--by", "category", "--json", "--min-items", "5"])
    groups = json.loads(capsys.readouterr().out)["runs"][0]["rows"]
    assert sum(row["n"] for row in groups) == dev
    main(["transfer", a.id, b.id, "--keep", "recall", "--allow-different", "--json"])
    assert json.loads(capsys.readouterr().out)["n"] == dev


def test_the_split_is_never_a_group_to_compare(split_runs, capsys):
    a, b, test_ids, f1 = split_runs
    assert main(["fairness", a.id, "--by", "split"]) == 2
    assert "No metadata column 'split'" in capsys.readouterr().err
    with Store(workspace_from_env().private_dir) as store:
        from cope_eval.app import group_columns
        from cope_eval.store import run_results

        assert "split" not in group_columns(run_results(store, a.id, split="all"))
