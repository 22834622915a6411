"""`python -m cope_eval ablate` and `attribute`: the study runs against the run's own server, the
report prints (golden text made terminal-safe) or comes as JSON, a repeat sends nothing."""

import json

import pandas as pd
import pytest

from cope_eval.cli import main
from cope_eval.golden import golden_set_hash
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run, execute_run
from cope_eval.store import Store
from tests.factories import make_golden, make_policy
from tests.policy_stub import keyword_rule, policy_following
from tests.stub_server import StubServer

OLD = "# Criteria\n\n#### Includes\n- Insults about someone.\n- Threats of violence.\n"
NEW = "# Criteria\n\n#### Includes\n- Doxxing addresses.\n- Threats of violence.\n"
HOSTILE = "doxxing \x1b[31mred\x1b[0m\rover\u202eevil"
ITEMS = [("insults everywhere", 1), (HOSTILE, 1), ("threats again", 1), ("a quiet walk", 0)]


@pytest.fixture
def runs(workspace):
    frame = pd.DataFrame({"id": [f"item-{i}" for i in range(len(ITEMS))], "text": [t for t, _ in ITEMS],
                          "label": [g for _, g in ITEMS], "image": None, "category": None})
    golden = GoldenSet("cli", golden_set_hash(frame), frame)
    with StubServer(policy_following(keyword_rule)) as server, Store(workspace.private_dir) as store:
        endpoint = Endpoint(server.base_url, "stub")
        ids = []
        for text in (OLD, NEW):
            run = create_run(store, policy=save_version(workspace.root, "harassment", text), golden=golden,
                             endpoint=endpoint)
            execute_run(store, run.id, endpoint, workspace_root=workspace.root)
            ids.append(run.id)
        yield server, ids


def chat_count(server):
    return sum(path.endswith("/chat/completions") for path, _, _ in server.requests)


def test_ablate_prints_clause_deltas_and_the_items_each_decides(runs, capsys):
    server, (_, b) = runs
    before = chat_count(server)
    assert main(["ablate", b]) == 0
    out = capsys.readouterr().out
    assert chat_count(server) - before == 2 * len(ITEMS) and "2 clauses x 4 items" in out
    assert "includes-1 (Includes): Doxxing addresses." in out
    assert "broken  gold 1  0.900 -> 0.100  item-1" in out
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out, "golden text cannot drive the terminal"
    assert "doxxing  [31mred [0m over evil" in out

    assert main(["ablate", b, "--clauses", "includes-2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["requests"] == 0, "both clauses were scored above: the cache answers"
    [clause] = data["clauses"]
    assert clause["id"] == "includes-2" and clause["lines"] == [5, 5]
    assert [d["item_id"] for d in clause["decided"]] == ["item-2"] and clause["delta"]["recall"] == pytest.approx(-1 / 3)


def test_ablate_list_shows_the_clause_ids_and_scores_nothing(runs, capsys):
    server, (_, b) = runs
    before = chat_count(server)
    assert main(["ablate", b, "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["includes-1", "4-4"], ["includes-2", "5-5"]]
    assert lines[0].endswith("Includes                      Doxxing addresses.")
    assert chat_count(server) == before


def test_ablate_near_says_what_it_assumes(runs, capsys):
    _, (_, b) = runs
    assert main(["ablate", b, "--items", "near", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 clauses x 2 items" in out and "note: Only the 2 of 4 items nearest the threshold were rescored" in out


def test_attribute_prints_each_hunk_with_its_lines_and_moved_items(runs, capsys):
    server, (a, b) = runs
    before = chat_count(server)
    assert main(["attribute", a, b, "--items", "moved", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert chat_count(server) == before, "B with its only hunk reverted is A's text: A's answers are cached"
    assert "1 hunk x 2 items" in out
    assert "hunk-1 (changed, old 4 → new 4)\n  - - Insults about someone.\n  + - Doxxing addresses." in out
    assert "ΔP +0.800 (A→B +0.800)  gold 1  item-1" in out and "ΔP -0.800 (A→B -0.800)  gold 1  item-0" in out
    assert "\x1b" not in out and "interact" in out

    assert main(["attribute", a, b, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hunks"][0]["old_lines"] == ["- Insults about someone."] and data["items_rescored"] == 4
    assert {r["item_id"]: r["explained"] for r in data["explained"]}["item-2"] == 0


def test_errors_are_one_line_and_exit_2(runs, capsys):
    _, (a, b) = runs
    assert main(["ablate", b, "--clauses", "includes-9"]) == 2
    assert "Unknown clause id 'includes-9'; this policy has: includes-1, includes-2" in capsys.readouterr().err
    assert main(["attribute", a, a]) == 2
    assert "same policy text" in capsys.readouterr().err
    assert main(["ablate", "run-nope"]) == 2


def test_an_unreachable_server_leaves_the_study_to_finish_later(workspace, capsys):
    golden = make_golden(3)
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=make_policy(OLD), golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
        store.add_predictions(run.id, [(i, 0.9, None, "", None, 1.0, 0) for i in golden.items["id"]])
        store.mark_run(run.id, "completed")
    assert main(["ablate", run.id]) == 2
    assert "run the same command again to finish it" in capsys.readouterr().err
