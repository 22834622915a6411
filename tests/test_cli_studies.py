"""The one study loop of `probe`, `ablate` and `attribute`: Ctrl-C exits 130 for each, the store
keeps what was scored and the same command finishes it; the commands' parsers load no pandas."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from cope_eval import insight
from cope_eval.insight import _studies
from cope_eval.cli import main
from cope_eval.cli._stop import EXIT_STOPPED
from cope_eval.cli._studies import ITEMS
from cope_eval.golden import golden_set_hash
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store
from tests.conftest import REPO_ROOT
from tests.policy_stub import keyword_rule, policy_following
from tests.stub_server import StubServer, chat_requests

OLD = "# Criteria\n\n#### Includes\n- Insults about someone.\n- Threats of violence.\n- Spam links.\n"
NEW = "# Criteria\n\n#### Includes\n- Doxxing addresses.\n- Threats of violence.\n- Scams links.\n"
"""Two hunks: reverting one gives a text nobody scored, so every variant sends requests."""
TEXTS = ["insults", "doxxing", "threats", "spam", "scams", "links", "a quiet walk", "violence"] * 2


@pytest.fixture
def runs(workspace):
    frame = pd.DataFrame({"id": [f"item-{i:02d}" for i in range(len(TEXTS))], "text": TEXTS,
                          "label": [int(t != "a quiet walk") for t in TEXTS], "image": None,
                          "category": None})
    golden = GoldenSet("cli", golden_set_hash(frame), frame)
    with StubServer(policy_following(keyword_rule)) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        ids = []
        for text in (OLD, NEW):
            run = create_run(store, policy=save_version(workspace.root, "harassment", text), golden=golden,
                             endpoint=endpoint, concurrency=1)
            execute_run(store, run.id, endpoint, workspace_root=workspace.root)
            ids.append(run.id)
        yield server, ids


def interrupt_after_first_answer(monkeypatch):
    """Ctrl-C while a variant run is scored, once it has stored one answer; returns the real runner."""
    real = _studies.execute_run

    def execute_run(store, run_id, endpoint, **options):
        def progress(p):
            options["progress"](p)
            if p.done >= 1:
                raise KeyboardInterrupt

        return real(store, run_id, endpoint, **{**options, "progress": progress})

    monkeypatch.setattr(_studies, "execute_run", execute_run)
    return real


@pytest.mark.parametrize("command", [["probe", "{b}"], ["ablate", "{b}"], ["attribute", "{a}", "{b}"]])
def test_ctrl_c_exits_130_keeps_what_was_scored_and_the_same_command_finishes(workspace, runs, monkeypatch,
                                                                               capsys, command):
    server, (a, b) = runs
    argv = [arg.format(a=a, b=b) for arg in command] + ["--json"]
    before = len(chat_requests(server))
    real = interrupt_after_first_answer(monkeypatch)

    assert main(argv) == EXIT_STOPPED == 130
    err = capsys.readouterr().err
    assert "the store keeps every answer scored so far" in err and "Run the same command again" in err
    with Store(workspace.private_dir) as store:
        [study] = store.studies()
        statuses = [store.run(m.run_id).status for m in study.runs]
        kept = sum(store.prediction_counts(m.run_id)[0] for m in study.runs)
        needed = sum(store.run(m.run_id).n_items for m in study.runs)
    assert "interrupted" in statuses and 1 <= kept < needed
    interrupted_sent = len(chat_requests(server)) - before

    monkeypatch.setattr(_studies, "execute_run", real)
    assert main(argv) in (0, 1), "finished (probe exits 1 for a model that does not follow the policy)"
    resent = len(chat_requests(server)) - before - interrupted_sent
    assert json.loads(capsys.readouterr().out)["requests"] == resent <= needed - kept, "kept ones not resent"


def test_the_items_choices_are_the_kinds_selections():
    kinds = (insight.PROBES, insight.ABLATION, insight.ATTRIBUTION)
    assert ITEMS == {kind.name: kind.selections for kind in kinds}


def test_the_study_commands_parsers_load_no_pandas():
    """``add_commands`` imports no library module: the library loads inside the handlers."""
    code = """
import argparse, sys, types
package = types.ModuleType("cope_eval.cli")  # the commands' modules alone, not the package's __init__
package.__path__ = ["cope_eval/cli"]
sys.modules["cope_eval.cli"] = package
from cope_eval.cli import _clauses, _insight
commands = argparse.ArgumentParser().add_subparsers()
_insight.add_commands(commands)
_clauses.add_commands(commands)
print(sorted(m for m in ("pandas", "numpy", "cope_eval.insight", "cope_eval.store") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
