"""Fairness across metadata columns: per-group counts and rates against pandas + scikit-learn,
multi-valued membership with a cut, interval coverage by simulation, disparities that say noise,
paired comparison of two runs, hostile and very many groups."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, precision_score, recall_score

from cope_eval.errors import ConfigError
from cope_eval.metrics import compare_fairness, group_rates, membership, proportion
from cope_eval.metrics._slices import MISSING


def synthetic(n=1500, *, seed=0, groups=("x", "y", "z"), errors=True):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "item_id": [f"i{i}" for i in range(n)],
        "label": rng.integers(0, 2, n),
        "score": rng.random(n),
        "error": None,
        "religion": pd.Series(rng.choice(list(groups) + [None], n), dtype="str"),
    })
    if errors:
        bad = rng.random(n) < 0.05
        frame.loc[bad, "score"] = np.nan
        frame.loc[bad, "error"] = "timeout"
    return frame


def direct(frame, mask, threshold):
    """One group's counts and rates computed the plain way."""
    part = frame[mask]
    errored = part["score"].isna() | (part["error"].notna() if "error" in part else False)
    ok = part[~errored]
    y, pred = ok["label"].to_numpy(), (ok["score"] >= threshold).astype(int).to_numpy()
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {
        "n": len(ok), "errors": int(errored.sum()), "positives": int((y == 1).sum()),
        "negatives": int((y == 0).sum()), "flagged": int(pred.sum()), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": precision_score(y, pred, zero_division=np.nan),
        "recall": recall_score(y, pred, zero_division=np.nan),
        "fpr": fp / (fp + tn) if fp + tn else np.nan,
        "fnr": fn / (fn + tp) if fn + tp else np.nan,
        "flag_rate": pred.mean() if len(pred) else np.nan,
    }


def check_against_direct(table, frame, masks, threshold):
    for name, mask in masks.items():
        expected = direct(frame, mask, threshold)
        row = table.loc[name]
        for key, value in expected.items():
            if isinstance(value, float) and np.isnan(value):
                assert np.isnan(row[key]), (name, key)
            else:
                assert row[key] == pytest.approx(value), (name, key)


def test_every_group_count_and_rate_matches_pandas_and_scikit_learn():
    frame = synthetic()
    result = group_rates(frame, groups=membership(frame, ["religion"]), threshold=0.4, min_items=30)
    values = frame["religion"]
    masks = {name: values == name for name in ("x", "y", "z")} | {MISSING: values.isna()}
    check_against_direct(result.rows, frame, masks, 0.4)
    grouped = frame[frame["error"].isna()].groupby("religion", dropna=False)["label"].size()
    assert result.rows.loc[["x", "y", "z"], "n"].tolist() == grouped.loc[["x", "y", "z"]].tolist()
    assert list(result.rows.index) == ["x", "y", "z", MISSING]  # missing values: their own group, last
    assert result.errors == int(frame["error"].notna().sum()) and result.items == len(frame)


def test_intervals_are_those_of_proportion_for_every_group_and_rate():
    frame = synthetic(300, groups=tuple("abcdefgh"))
    frame.loc[frame["religion"] == "a", "label"] = 1  # group a: no gold 0, FPR undefined
    frame.loc[frame["religion"] == "b", "score"] = 0.0  # group b: nothing flagged (0 of n)
    rows = group_rates(frame, groups=membership(frame, "religion"), min_items=1).rows
    counts = {"precision": ("tp", "flagged"), "recall": ("tp", "positives"), "fpr": ("fp", "negatives"),
              "fnr": ("fn", "positives"), "flag_rate": ("flagged", "n")}
    checked = 0
    for _, row in rows.iterrows():
        for rate, (count, n) in counts.items():
            if row[n] == 0:
                assert np.isnan(row[rate]) and np.isnan(row[f"{rate}_low"]) and rate in row["undefined"]
                continue
            p = proportion(row[count], row[n])
            assert (row[rate], row[f"{rate}_low"], row[f"{rate}_high"]) == pytest.approx(
                (p.estimate, p.low, p.high), abs=1e-12)
            checked += 1
    assert checked >= 35
    assert rows.loc["a", "undefined"] == "fpr" and "precision" in rows.loc["b", "undefined"]


def test_multi_valued_membership_with_a_cut():
    frame = pd.DataFrame({
        "item_id": ["a", "b", "c", "d", "e"], "label": [1, 0, 1, 0, 1], "score": [0.9, 0.8, 0.1, 0.2, 0.7],
        "gender": pd.Series(["0.8", "0.2", "0.5", None, "n/a"], dtype="str"),
        "religion": pd.Series(["0.6", "0.9", "0", "0.5", "1"], dtype="str"),
        "disability": pd.Series(["true", "false", "TRUE", None, "0.1"], dtype="str"),
    })
    groups = membership(frame, ["gender", "religion", "disability"], cut=0.5)
    assert groups.to_dict(orient="list") == {
        "gender": [True, False, True, False, False],  # text "0.8" counts; "n/a" and missing: in none
        "religion": [True, True, False, True, True],
        "disability": [True, False, True, False, False],  # "true"/"false" read as 1/0
    }
    assert groups.sum(axis=1).tolist() == [3, 1, 2, 1, 1]  # in several groups, or one
    result = group_rates(frame, groups=groups, min_items=1)
    check_against_direct(result.rows, frame, {c: groups[c] for c in groups.columns}, 0.5)


def test_an_item_in_no_group_and_a_column_without_numbers():
    frame = synthetic(50, errors=False).assign(target=pd.Series(["none"] * 50, dtype="str"))
    with pytest.raises(ConfigError, match=r"Column 'target' holds no number.*'none'") as caught:
        membership(frame, ["target"], cut=0.5)
    assert caught.value.options == ("no_cut",)
    with pytest.raises(ConfigError, match=r"No metadata column 'gender'.*'religion'") as caught:
        membership(frame, ["gender"])
    assert caught.value.options == ("group_column",)
    with pytest.raises(ConfigError, match="No metadata column 'score'"):
        membership(frame, ["score"])  # a run's own column is not metadata
    with pytest.raises(ConfigError, match="only with a cut"):
        membership(frame, ["religion", "target"])


def test_wilson_intervals_cover_the_true_rate_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    groups, per_group, true_fpr, true_flag = 3000, 40, 0.2, 0.3
    n = groups * per_group
    label = np.zeros(n, dtype=int)
    label[rng.random(n) < 0.5] = 1
    flagged = np.where(label == 0, rng.random(n) < true_fpr, rng.random(n) < (true_flag - 0.5 * true_fpr) / 0.5)
    frame = pd.DataFrame({"label": label, "score": flagged.astype(float),
                          "g": np.repeat(np.arange(groups), per_group).astype(str)})
    rows = group_rates(frame, groups=membership(frame, "g"), min_items=1, n_resamples=1).rows
    for rate, truth in (("fpr", true_fpr), ("flag_rate", true_flag)):
        covered = ((rows[f"{rate}_low"] <= truth) & (truth <= rows[f"{rate}_high"])).mean()
        assert 0.93 <= covered <= 0.975, (rate, covered)


def two_group_run(rng, n, fpr_a, fpr_b):
    """Two groups of n gold-0 and n gold-1 items; FPR fpr_a and fpr_b, FNR 0.3 in both."""
    label = np.tile(np.repeat([0, 1], n), 2)
    fpr = np.repeat([fpr_a, fpr_b], 2 * n)
    flagged = np.where(label == 0, rng.random(4 * n) < fpr, rng.random(4 * n) >= 0.3)
    return pd.DataFrame({"item_id": [f"i{i}" for i in range(4 * n)], "label": label,
                         "score": flagged.astype(float), "g": np.repeat(["a", "b"], 2 * n)})


def test_a_zero_gap_is_mostly_noise_and_a_large_gap_is_not():
    rng = np.random.default_rng(3)
    null_noise, real_noise, covered = [], [], []
    for _ in range(80):
        null = synthetic(600, seed=int(rng.integers(1 << 30)), groups=tuple("abcd"), errors=False)
        result = group_rates(null, groups=membership(null, "religion"), n_resamples=300, random_state=rng)
        null_noise.append(result.disparities["fpr_gap"].noise and result.disparities["flag_rate_ratio"].noise)
        real = two_group_run(rng, 150, 0.1, 0.45)
        result = group_rates(real, groups=membership(real, "g"), n_resamples=300, random_state=rng)
        gap = result.disparities["fpr_gap"]
        real_noise.append(gap.noise)
        covered.append(gap.low <= 0.35 <= gap.high)  # the true gap
    assert np.mean(null_noise) >= 0.85  # a simultaneous band: picking the largest gap does not fool it
    assert np.mean(real_noise) <= 0.05
    assert np.mean(covered) >= 0.9


def test_the_fnr_gap_and_flag_ratio_name_their_groups():
    rng = np.random.default_rng(0)
    frame = two_group_run(rng, 400, 0.05, 0.6)
    result = group_rates(frame, groups=membership(frame, "g"))
    ratio, fnr = result.disparities["flag_rate_ratio"], result.disparities["fnr_gap"]
    rows = result.rows
    assert ratio.estimate == pytest.approx(rows.loc["a", "flag_rate"] / rows.loc["b", "flag_rate"])
    assert (ratio.low_group, ratio.high_group, ratio.noise) == ("a", "b", False)
    assert ratio.low <= ratio.estimate <= ratio.high < 1
    assert fnr.estimate == pytest.approx(abs(rows.loc["a", "fnr"] - rows.loc["b", "fnr"]))
    assert fnr.noise  # the same FNR 0.3 in both groups


def test_too_few_groups_are_listed_last_and_never_ranked():
    frame = synthetic(400, errors=False)
    frame.loc[:4, "religion"] = "tiny"
    frame.loc[:4, "label"] = 0
    frame.loc[:4, "score"] = 1.0  # FPR 1.0: it would be the largest gap if it were ranked
    result = group_rates(frame, groups=membership(frame, "religion"), min_items=30)
    assert list(result.rows.index)[-1] == "tiny" and result.rows.loc["tiny", "too_few"]
    assert "tiny" not in (result.disparities["fpr_gap"].high_group, result.disparities["fpr_gap"].low_group)
    assert result.disparities["fpr_gap"].groups == 4
    one = group_rates(frame, groups=membership(frame, "religion"), min_items=1000)
    assert one.rows["too_few"].all() and np.isnan(one.disparities["fpr_gap"].estimate)
    assert "fewer than two groups" in one.disparities["fpr_gap"].note


def test_comparing_a_run_with_itself_changes_nothing():
    frame = synthetic(800, groups=tuple("abc"))
    rates = group_rates(frame, groups=membership(frame, "religion"))
    table = compare_fairness(rates, rates)
    assert list(table.index) == ["fpr_gap", "fnr_gap", "flag_rate_ratio"]
    assert (table["change"] == 0).all() and (table["direction"] == "unchanged").all()
    assert not table["beyond_noise"].any()
    assert (table["shared_items"] == int(frame["error"].isna().sum())).all()


def test_an_edit_that_closes_a_gap_is_a_narrowing_beyond_noise():
    rng = np.random.default_rng(11)
    before = two_group_run(rng, 300, 0.1, 0.5)
    after = before.copy()
    negatives_b = (after["g"] == "b") & (after["label"] == 0)
    after.loc[negatives_b, "score"] = (rng.random(int(negatives_b.sum())) < 0.1).astype(float)
    a = group_rates(before, groups=membership(before, "g"))
    b = group_rates(after, groups=membership(after, "g"))
    table = compare_fairness(a, b)
    row = table.loc["fpr_gap"]
    assert row["change"] == pytest.approx(b.disparities["fpr_gap"].estimate - a.disparities["fpr_gap"].estimate)
    assert row["direction"] == "narrowed" and row["beyond_noise"]
    assert row["change_low"] <= row["change"] <= row["change_high"] < 0
    assert table.loc["flag_rate_ratio", "direction"] == "narrowed"  # the ratio rose towards 1
    assert table.loc["fnr_gap", "change"] == 0 and not table.loc["fnr_gap", "beyond_noise"]
    assert row["a_groups"] == "b vs a"


def test_hostile_names_and_values_stay_text():
    names = ["<script>alert(1)</script>", "=cmd|' /C calc'!A0", "@SUM(1+1)", "\u202egroup"]
    frame = synthetic(400, groups=tuple(names), errors=False)
    result = group_rates(frame, groups=membership(frame, "religion"), min_items=1)
    assert set(names) <= set(result.rows.index)
    check_against_direct(result.rows, frame, {n: frame["religion"] == n for n in names}, 0.5)
    frame = frame.rename(columns={"religion": "<b>=HYPERLINK(\"x\")</b>"})
    assert membership(frame, ["<b>=HYPERLINK(\"x\")</b>"]).shape[1] == 5
    json_rows = result.to_dict()["rows"]
    assert {r["group"] for r in json_rows} >= set(names) and "membership" not in result.to_dict()


def test_ten_thousand_distinct_groups_on_fifty_thousand_items():
    rng = np.random.default_rng(5)
    n = 50_000
    frame = pd.DataFrame({"item_id": np.arange(n).astype(str), "label": rng.integers(0, 2, n),
                          "score": rng.random(n), "g": rng.integers(0, 10_000, n).astype(str)})
    frame.loc[:9_999, "g"] = np.arange(10_000).astype(str)  # every one of the 10,000 values appears
    result = group_rates(frame, groups=membership(frame, ["g"]), min_items=12)
    rows = result.rows
    assert len(rows) == 10_000 and rows["n"].sum() == n
    assert rows["too_few"].sum() > 9_000 and not rows["too_few"].iloc[: (~rows["too_few"]).sum()].any()
    expected = frame.assign(flag=frame["score"] >= 0.5).groupby("g").agg(n=("label", "size"), flagged=("flag", "sum"),
                                                                         positives=("label", "sum"))
    assert rows[["n", "flagged", "positives"]].sort_index().equals(expected.sort_index().astype(rows["n"].dtype))
    ranked = rows[~rows["too_few"]]
    gap = result.disparities["fpr_gap"]
    assert gap.estimate == pytest.approx(ranked["fpr"].max() - ranked["fpr"].min()) and gap.groups == len(ranked)
    assert gap.noise  # random scores: no group differs, however large the largest gap of many looks


def test_a_column_named_label_in_the_file_is_grouped_as_orig_label(tmp_path):
    from cope_eval.golden import ColumnSpec, load_golden_set

    path = tmp_path / "set.csv"
    rows = ["text,hate,label"] + [f"post {i},{i % 2},{'<b>' if i % 3 else '=cmd'}" for i in range(60)]
    path.write_text("\n".join(rows) + "\n")
    items = load_golden_set(path, tmp_path, spec=ColumnSpec(label="hate")).golden_set.items
    assert "orig_label" in items.columns
    frame = items.rename(columns={"id": "item_id"}).assign(score=np.linspace(0, 1, 60))
    groups = membership(frame, ["orig_label"])
    assert list(groups.columns) == ["<b>", "=cmd"]
    result = group_rates(frame, groups=groups, min_items=1)
    check_against_direct(result.rows, frame,
                         {"<b>": frame["orig_label"] == "<b>", "=cmd": frame["orig_label"] == "=cmd"}, 0.5)
    with pytest.raises(ConfigError, match="No metadata column 'label'"):
        membership(frame, ["label"])  # the gold label is not a group column


def test_groups_at_zero_and_all_still_get_an_interval_that_is_not_a_point():
    rng = np.random.default_rng(2)
    frame = two_group_run(rng, 58, 0.0, 1.0)  # FPR exactly 0 of 58 and 58 of 58
    gap = group_rates(frame, groups=membership(frame, "g")).disparities["fpr_gap"]
    assert gap.estimate == 1.0 and gap.low < 0.99 and not gap.noise  # not [1, 1]: 58 items are not certainty


def test_when_every_group_ties_two_different_groups_are_named():
    frame = two_group_run(np.random.default_rng(2), 50, 0.0, 0.0)
    gaps = group_rates(frame, groups=membership(frame, "g")).disparities
    for d in gaps.values():
        assert {d.high_group, d.low_group} == {"a", "b"}, d
    assert gaps["fpr_gap"].estimate == 0 and gaps["fpr_gap"].noise
