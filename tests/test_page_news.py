"""Others' changes on the pages: the policy editor names a version saved by someone else since the
one edited from (and a save racing another from the same parent says so), Evaluate and Compare say
when the run's golden set has a newer version. Nothing is said when nothing is newer."""

import numpy as np

from cope_eval.golden import correct_label
from cope_eval.policies import list_versions, save_version
from cope_eval.records import Endpoint
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _state
from tests.apptest import messages, open_page
from tests.factories import make_golden

V1 = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats.\n"
NEWER_SET = "has a newer version ("


def _policy_news(at) -> list[str]:
    return [m for m in messages(at, "info") if " of this policy was saved by " in m]


def _golden_news(at) -> list[str]:
    return [m for m in messages(at, "info") if NEWER_SET in m]


def test_the_editor_names_a_version_another_analyst_saved_meanwhile(workspace, monkeypatch):
    first = save_version(workspace.root, "violence", V1, author="ana")
    at = open_page("policies", monkeypatch)
    assert _policy_news(at) == []  # editing from the newest: nothing to say

    save_version(workspace.root, "violence", V1 + "- Jokes.\n", parent=first.id, author="bo")  # another analyst
    at.run()

    assert not at.exception
    assert at.selectbox(key=_state.POLICY_BASE).value == first.id  # still editing from v1
    assert _policy_news(at) == ["v2 of this policy was saved by bo just now. You are editing from v1: pick v2 under "
                                "\"Edit from version\" to start from it, or see what differs under \"Compare two "
                                "versions\" below."]


def test_two_saves_from_one_parent_are_both_announced(workspace, monkeypatch):
    first = save_version(workspace.root, "violence", V1, author="ana")
    ana, bo = open_page("policies", monkeypatch), open_page("policies", monkeypatch)
    bo.text_area(key=_state.POLICY_EDITOR).input(V1 + "- Quotes.\n").run()  # both edit v1 ...
    ana.text_area(key=_state.POLICY_EDITOR).input(V1 + "- Jokes.\n")
    ana.text_input(key=_state.POLICY_AUTHOR).input("ana")
    ana.button(key=_state.POLICY_SAVE).click().run()  # ... and save moments apart
    bo.text_input(key=_state.POLICY_AUTHOR).input("bo")
    bo.button(key=_state.POLICY_SAVE).click().run()

    assert not bo.exception
    assert [v.parent for v in list_versions(workspace.root, "violence")] == [None, first.id, first.id]
    [saved] = [m for m in messages(bo, "success") if m.startswith("Saved version violence v3 ")]
    assert ("v2 (saved by ana just now) was also edited from v1: both versions are kept, and neither has the "
            "other's changes. See how they differ under \"Compare two versions\" below (Old v2, New v3).") in saved
    assert _policy_news(bo) == []  # bo's version is the newest

    ana.run()  # ana's next rerun hears of bo's version
    [news] = _policy_news(ana)
    assert news.startswith("v3 of this policy was saved by bo just now, edited from v1 as v2 was: both versions "
                           "are kept. You are editing from v2: ")


def _completed_run(store, version, golden, *, shift: float = 0.0):
    run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", "m"))
    scores = np.clip(golden.items["label"].to_numpy() * 0.8 + 0.1 + shift, 0, 1)
    store.add_predictions(run.id, [(i, float(s), None, "", None, 1.0, 0) for i, s in zip(golden.items["id"], scores)])
    store.mark_run(run.id, "completed")
    return run


def test_evaluate_says_the_followed_runs_golden_set_was_relabelled(workspace, monkeypatch):
    version = save_version(workspace.root, "violence", V1)
    golden = make_golden(10)
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
        run = _completed_run(store, version, golden)
    at = open_page("evaluate", monkeypatch)
    assert at.session_state[_state.EVAL_FOLLOW] == run.id
    assert _golden_news(at) == []  # nothing newer: nothing said

    with Store(workspace.private_dir) as store:  # another analyst corrects two labels
        one = correct_label(store, golden.hash, "item-00000", 1, author="bo", reason="a threat")
        correct_label(store, one.hash, "item-00001", 0, author="bo", reason="a joke")
    at.run()

    assert not at.exception
    [news] = _golden_news(at)
    assert news.startswith(f"The golden set of run {run.id} has a newer version (relabelled by bo, just now: "
                           "2 labels changed): set · 10 items · ")
    assert "pick it under \"Golden set\" on Evaluate and Start" in news


def test_compare_says_which_picked_runs_golden_set_has_a_newer_version(workspace, monkeypatch):
    v1 = save_version(workspace.root, "violence", V1, note="v1")
    v2 = save_version(workspace.root, "violence", V1 + "- Jokes.\n", parent=v1.id, note="v2")
    golden = make_golden(10)
    with Store(workspace.private_dir) as store:
        store.put_golden_set(golden)
        a = _completed_run(store, v1, golden)
        b = _completed_run(store, v2, golden, shift=0.05)
    at = open_page("compare", monkeypatch)
    at.multiselect(key=_state.COMPARE_RUNS).set_value([a.id, b.id]).run()
    assert _golden_news(at) == []

    with Store(workspace.private_dir) as store:
        correct_label(store, golden.hash, "item-00000", 1, author="cy", reason="a threat")
    at.run()

    assert not at.exception
    [news] = _golden_news(at)
    assert f"run {a.id[-6:]} and " in news and f"run {b.id[-6:]} has a newer version (relabelled by cy, " \
        "just now: 1 label changed)" in news
