"""The Compare page's Fairness and "Carry a threshold" tabs, and Export taking the carried threshold.

The figures are checked against a direct computation (pandas groupby for the group rates, a known
monotone transform for the transfer), not against the functions the page calls.
"""

import numpy as np
import pandas as pd
import pytest

from cope_eval.golden import golden_set_hash
from cope_eval.policies import save_version
from cope_eval.records import Endpoint, GoldenSet
from cope_eval.scoring import create_run
from cope_eval.store import Store
from pages import _state
from tests.apptest import messages, open_page, table, texts

HOSTILE = "<b>bold</b> =HYPERLINK(\"x\")"
POLICY = "# Criteria\n\n## Definition of Label\n\n#### Includes\n- Threats.\n"
N = 80


def _golden(with_metadata: bool = True) -> GoldenSet:
    rng = np.random.default_rng(7)
    items = pd.DataFrame({"id": [f"i{k:03d}" for k in range(N)], "text": [f"post {k}" for k in range(N)],
                          "label": rng.integers(0, 2, N), "image": None, "category": None})
    if with_metadata:
        items["religion"] = np.where(np.arange(N) < N // 2, "alpha", HOSTILE)
        items["share_alpha"] = np.where(np.arange(N) < N // 2, 0.9, 0.1)
        items["share_beta"] = np.where(np.arange(N) % 3 == 0, 0.8, 0.2)
    return GoldenSet("posts", golden_set_hash(items), items)


def _scored(store, version, golden, scores, model):
    run = create_run(store, policy=version, golden=golden, endpoint=Endpoint("http://127.0.0.1:9/v1", model))
    store.add_predictions(run.id, [(i, float(s), None, "", None, 1.0, 0) for i, s in zip(golden.items["id"], scores)])
    store.mark_run(run.id, "completed")
    return run


def _scores(golden: GoldenSet) -> np.ndarray:
    """Noisy scores: gold 1 higher on average, and the second group flagged more often."""
    rng = np.random.default_rng(11)
    labels = golden.items["label"].to_numpy()
    extra = np.where(np.arange(N) < N // 2, 0.0, 0.15)
    return np.clip(0.3 + 0.3 * labels + extra + rng.normal(0, 0.2, N), 0.001, 0.999)


@pytest.fixture
def model_pair(workspace):
    """One policy version on one golden set scored by two models; B's scores are A's to the power
    0.3 (CoPE-B puts more mass on its answer), so the threshold that keeps A's operating point at
    0.5 is 0.5 ** 0.3 on B, with every metric the same."""
    version = save_version(workspace.root, "violence", POLICY, note="v1")
    golden = _golden()
    scores = _scores(golden)
    with Store(workspace.private_dir) as store:
        a = _scored(store, version, golden, scores, "model-a")
        b = _scored(store, version, golden, scores ** 0.3, "model-b")
    return a, b, golden, scores


def _compare(monkeypatch, runs, tab):
    """Compare on ``runs``, its lower tabs open on ``tab`` (only the open tab is drawn)."""
    at = open_page("compare", monkeypatch, tabs={_state.COMPARE_DETAIL: tab})
    at.multiselect(key=_state.COMPARE_RUNS).set_value([r.id for r in runs]).run()
    assert not at.exception, at.exception
    return at


def test_fairness_tab_rates_each_group_as_a_groupby_does(model_pair, monkeypatch):
    a, b, golden, scores = model_pair
    at = _compare(monkeypatch, [a, b], "Fairness")
    at.multiselect(key=_state.FAIRNESS_BY).set_value(["religion"]).run()
    at.number_input(key=_state.FAIRNESS_MIN_ITEMS).set_value(10).run()
    assert not at.exception, at.exception

    frame = golden.items.assign(flag=scores >= 0.5)
    expected = {}
    for name, group in frame.groupby("religion"):
        negatives, positives = group[group["label"] == 0], group[group["label"] == 1]
        expected[name] = (negatives["flag"].mean(), 1 - positives["flag"].mean(), group["flag"].mean())
    groups = table(at, "gold 1").set_index("group")
    assert set(groups.index) == {"alpha", HOSTILE}  # the hostile value is a cell, verbatim
    for name, (fpr, fnr, flag_rate) in expected.items():
        assert groups.loc[name, "FPR"].startswith(f"{fpr:.3f} [")
        assert groups.loc[name, "FNR"].startswith(f"{fnr:.3f} [")
        assert groups.loc[name, "flag rate"].startswith(f"{flag_rate:.3f} [")
    gaps = table(at, "reading")
    fpr_gap = gaps[(gaps["run"] == gaps["run"].iloc[0]) & (gaps["disparity"] == "FPR gap")].iloc[0]
    rates = [v[0] for v in expected.values()]
    assert fpr_gap["estimate"] == pytest.approx(max(rates) - min(rates))
    assert fpr_gap["low"] <= fpr_gap["estimate"] <= fpr_gap["high"]
    comparison = table(at, "verdict").set_index("disparity")
    assert list(comparison.index) == ["FPR gap", "FNR gap", "flag-rate ratio"]
    # Same items, same order of scores: B flags what A flags at 0.5 ** 0.3, not at 0.5.
    assert comparison.loc["FPR gap", "A"] == pytest.approx(max(rates) - min(rates))
    assert (comparison["items both scored"] == N).all()


def test_fairness_tab_without_metadata_says_where_groups_come_from(workspace, monkeypatch):
    version = save_version(workspace.root, "violence", POLICY, note="v1")
    golden = _golden(with_metadata=False)
    with Store(workspace.private_dir) as store:
        run = _scored(store, version, golden, _scores(golden), "model-a")
    at = _compare(monkeypatch, [run], "Fairness")

    assert "has no metadata columns to group items by" in texts(at)


def test_several_columns_need_the_cut_and_the_error_names_the_checkbox(model_pair, monkeypatch):
    a, b, golden, scores = model_pair
    at = _compare(monkeypatch, [a, b], "Fairness")
    at.multiselect(key=_state.FAIRNESS_BY).set_value(["share_alpha", "share_beta"]).run()

    [error] = messages(at, "error")
    assert "only with a cut" in error and "tick “Each column is a group”" in error

    at.checkbox(key=_state.FAIRNESS_USE_CUT).check().run()
    at.number_input(key=_state.FAIRNESS_MIN_ITEMS).set_value(5).run()
    assert not at.exception and not messages(at, "error")
    groups = table(at, "gold 1").set_index("group")
    # Multi-valued membership: an item is in every column's group whose value is at least 0.5.
    assert groups.loc["share_alpha", "n"] == N // 2
    assert groups.loc["share_beta", "n"] == int((np.arange(N) % 3 == 0).sum())


def test_carry_a_threshold_finds_the_known_answer_and_export_takes_it(model_pair, monkeypatch):
    a, b, golden, scores = model_pair
    at = _compare(monkeypatch, [a, b], "Carry a threshold")
    assert "A = violence v1" in texts(at) and ": cope-b on model-a. B = " in texts(at)  # which scorer is which
    at.radio(key=_state.TRANSFER_KEEP).set_value("recall").run()
    at.button(key=_state.TRANSFER_FIND).click().run()
    assert not at.exception, at.exception

    # The known answer: B's lowest score at or above 0.5 ** 0.3 (A's lowest flagged score, transformed).
    expected = (scores[scores >= 0.5] ** 0.3).min()
    assert f"B's threshold {expected:.4f}" in texts(at)
    changes = table(at, "B - A 95% CI")
    assert changes.loc["recall", "A"] == pytest.approx(changes.loc["recall", "B"])
    assert changes.loc["precision", "B - A"] == pytest.approx(0)  # a monotone transform changes no decision

    at.button(key=_state.TRANSFER_USE).click().run()
    assert not at.exception, at.exception
    choice = at.session_state[_state.COMPARE_CHOICE]
    assert choice["rule"] == "transfer" and choice["run_id"] == b.id and choice["from_run"] == a.id
    assert at.slider(key=_state.COMPARE_THRESHOLD).value == pytest.approx(expected)

    at.switch_page("pages/export.py").run()
    at.selectbox(key=_state.EXPORT_RUN).set_value(b.id).run()
    at.radio(key=_state.EXPORT_MODE).set_value("compare").run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert f"Threshold {expected:.4f}: the Compare page's (keeps" in shown
    assert "Compare page picked" not in shown  # the transfer, done again for the bundle, picks the same value


def test_runs_of_two_policy_versions_need_the_checkbox(workspace, monkeypatch):
    golden = _golden()
    scores = _scores(golden)
    with Store(workspace.private_dir) as store:
        a = _scored(store, save_version(workspace.root, "violence", POLICY, note="v1"), golden, scores, "m")
        b = _scored(store, save_version(workspace.root, "violence", POLICY + "- More.\n", note="v2"), golden,
                    scores, "m")
    at = _compare(monkeypatch, [a, b], "Carry a threshold")
    at.button(key=_state.TRANSFER_FIND).click().run()

    [error] = messages(at, "error")
    assert "scored different policy versions" in error
    assert "tick “Allow runs of different policy versions or golden sets”" in error

    at.checkbox(key=_state.TRANSFER_ALLOW).check().run()
    at.button(key=_state.TRANSFER_FIND).click().run()
    assert not at.exception and not messages(at, "error")
    assert "B's threshold" in texts(at)
    changes = table(at, "B - A 95% CI")
    assert (changes["B - A"] == 0).all()  # the same scores: the same operating point, nothing changes
