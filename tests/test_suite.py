"""The model card's per-area table (metrics.card_table), its Markdown and CSV (export), and the
suite's runs (insight._suite) on a real store and the real sample policies and golden sets.

Figures are checked against scikit-learn computed per area, and the mean by hand."""

import io
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from cope_eval.errors import ConfigError
from cope_eval.export import MEAN_ROW, card_table_csv, card_table_markdown
from cope_eval.insight import (
    AREAS, SAMPLE_SETS, SuiteSide, create_suite, sample_items, side_b, suite_golden, suite_scores
)
from cope_eval.metrics import AreaScores, bootstrap_ci, card_table
from cope_eval.records import Endpoint
from cope_eval.store import Store
from tests.conftest import REPO_ROOT

SCORERS = {"precision": precision_score, "recall": recall_score, "f1": f1_score}


def results(n, seed, *, errors=0):
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    score = np.clip(label * 0.4 + rng.random(n) * 0.6, 0, 1)
    error = np.array([None] * n, dtype=object)
    error[:errors] = "HTTP 500"
    score[:errors] = np.nan
    return pd.DataFrame({"item_id": [f"i{k}" for k in range(n)], "label": label, "score": score, "error": error})


def areas(thresholds=(0.5, 0.3, 0.7), sizes=(120, 80, 200)):
    scored = [AreaScores(name, results(n, k, errors=3), threshold=t, run_id=f"run-{name}",
                         policy_version_id=f"sha256:{name}", golden_hash=f"sha256:g{name}", golden_name=name)
              for k, (name, t, n) in enumerate(zip(("harassment", "self-harm", "violence"), thresholds, sizes))]
    return [AreaScores("drugs", None)] + scored


def test_per_area_figures_equal_scikit_learn_and_the_mean_is_their_unweighted_mean():
    given = areas()
    table = card_table({"A": given})
    side = table.side("A")
    assert side.loc["drugs", "status"] == "no sample golden set" and np.isnan(side.loc["drugs", "f1"])
    by_hand = {}
    for area in given[1:]:
        ok = area.results["error"].isna()
        y = area.results["label"][ok]
        pred = (area.results["score"][ok] >= area.threshold).astype(int)
        row = side.loc[area.area]
        assert (row["n"], row["errors"], row["threshold"], row["run_id"]) == (ok.sum(), 3, area.threshold, area.run_id)
        for metric, scorer in SCORERS.items():
            expected = scorer(y, pred, zero_division=0)
            assert row[metric] == pytest.approx(expected)
            by_hand.setdefault(metric, []).append(expected)
    mean = table.mean.loc["A"]
    assert mean["areas_in_mean"] == 3, "drugs has no golden set: left out of the mean"
    for metric, values in by_hand.items():
        assert mean[metric] == pytest.approx(sum(values) / 3)


def test_threshold_overrides_every_run_and_zero_is_a_threshold():
    table = card_table({"A": areas()}, threshold=0)
    side = table.side("A")
    for area in areas()[1:]:
        ok = area.results["error"].isna()
        assert side.loc[area.area, "threshold"] == 0
        assert side.loc[area.area, "recall"] == 1.0, "at 0 every scored item is flagged"
        assert side.loc[area.area, "precision"] == pytest.approx(area.results["label"][ok].mean())


def test_intervals_contain_the_estimate_match_bootstrap_ci_and_shrink_with_more_items():
    small = card_table({"A": areas(sizes=(60, 60, 60))})
    large = card_table({"A": areas(sizes=(6000, 6000, 6000))})
    for table in (small, large):
        rows = table.side("A").drop(index="drugs")
        for metric in ("precision", "recall", "f1"):
            assert (rows[f"{metric}_low"] <= rows[metric]).all() and (rows[metric] <= rows[f"{metric}_high"]).all()
            mean = table.mean.loc["A"]
            assert mean[f"{metric}_low"] <= mean[metric] <= mean[f"{metric}_high"]
    for metric in ("precision", "recall", "f1"):
        width = {name: (t.mean.loc["A", f"{metric}_high"] - t.mean.loc["A", f"{metric}_low"])
                 for name, t in (("small", small), ("large", large))}
        assert width["large"] < width["small"] / 3
        area_small, area_large = (t.side("A").loc["harassment"] for t in (small, large))
        assert (area_large[f"{metric}_high"] - area_large[f"{metric}_low"]
                < area_small[f"{metric}_high"] - area_small[f"{metric}_low"])
    # An area's interval is bootstrap_ci's (same draws at a seed): the table adds no bootstrap of its own.
    one = card_table({"A": [areas()[1]]}, random_state=7)
    row = one.side("A").loc["harassment"]
    direct = bootstrap_ci(areas()[1].results, threshold=0.5, random_state=_first_seed(7))
    assert row["f1_low"] == direct.intervals["f1"].low and row["f1_high"] == direct.intervals["f1"].high


def _first_seed(random_state):
    return int(np.random.SeedSequence([random_state, 0]).generate_state(1)[0])


def test_the_mean_interval_of_one_area_is_that_areas_interval():
    """With one area the stratified bootstrap of the mean is that area's own bootstrap."""
    table = card_table({"A": [areas()[2]]})
    row, mean = table.side("A").loc["self-harm"], table.mean.loc["A"]
    for metric in ("precision", "recall", "f1"):
        assert (mean[f"{metric}_low"], mean[f"{metric}_high"]) == (row[f"{metric}_low"], row[f"{metric}_high"])


def test_an_area_whose_items_all_errored_is_left_out_of_the_mean():
    given = areas()
    given[1] = AreaScores("harassment", results(20, 9, errors=20), threshold=0.5, run_id="run-x")
    table = card_table({"A": given})
    assert table.side("A").loc["harassment", "status"] == "no scored item"
    assert table.mean.loc["A", "areas_in_mean"] == 2
    expected = table.side("A").loc[["self-harm", "violence"], "f1"].mean()
    assert table.mean.loc["A", "f1"] == pytest.approx(expected)


def test_two_sides_side_by_side_and_areas_must_match():
    b = [AreaScores(a.area, None if a.results is None else a.results.assign(score=1 - a.results["score"]),
                    threshold=a.threshold, run_id=a.run_id and a.run_id + "-b") for a in areas()]
    table = card_table({"A": areas(), "B": b})
    assert table.sides == ("A", "B") and list(table.mean.index) == ["A", "B"]
    assert table.side("B").loc["violence", "run_id"] == "run-violence-b"
    assert table.side("A").loc["violence", "f1"] != table.side("B").loc["violence", "f1"]
    markdown = card_table_markdown(table)
    assert "A F1" in markdown and "B F1" in markdown
    with pytest.raises(ValueError, match="areas"):
        card_table({"A": areas(), "B": b[1:]})


HOSTILE = "ev|il <script>alert(1)</script> =HYPERLINK(\"x\")\nline"


def hostile_table():
    given = areas()
    given[1] = AreaScores("harassment", given[1].results, threshold=0.5, run_id="run-h",
                          policy_version_id="sha256:p", golden_hash="sha256:g", golden_name=HOSTILE)
    return card_table({"A": given})


def test_markdown_cells_are_escaped_so_a_pipe_cannot_split_a_row():
    markdown = card_table_markdown(hostile_table(), descriptions={"A": "m|x <b>bold</b> at http://h/v1"})
    assert "<script>" not in markdown and "<b>" not in markdown
    for table in re.findall(r"(?:^\|.*\|$\n?)+", markdown, flags=re.M):
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in table.strip().splitlines()}
        assert len(widths) == 1, f"a row with another number of cells:\n{table}"
    assert "ev\\|il" in markdown
    assert "Unweighted mean (over 3 areas)" in markdown
    assert markdown.count("no sample golden set") == 3, "drugs: one cell per metric"


def test_csv_neutralises_formulas_and_holds_every_row_and_the_mean():
    text = card_table_csv(hostile_table())
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame["area"]) == ["drugs", "harassment", "self-harm", "violence", MEAN_ROW]
    assert frame.loc[frame["area"] == MEAN_ROW, "status"].item() == "mean over 3 areas"
    name = frame.loc[frame["area"] == "harassment", "golden_name"].item()
    assert name.startswith("ev|il") and "\n" in name
    table = hostile_table()
    formula = card_table({"A": [AreaScores("violence", areas()[3].results, threshold=0.5, golden_name="=cmd()",
                                           run_id="run-v")]})
    cell = pd.read_csv(io.StringIO(card_table_csv(formula)))["golden_name"].iloc[0]
    assert cell == "'=cmd()"
    assert frame.loc[frame["area"] == "violence", "f1"].item() == pytest.approx(table.side("A").loc["violence", "f1"])


def test_the_pairing_is_the_golden_sets_readme_table():
    readme = (REPO_ROOT / "golden_sets" / "README.md").read_text()
    rows = re.findall(r"^\| `([^`]+)` \| \d+ \| \d+ \| `([^`]+)`( \|| \(a)", readme, flags=re.M)
    primary = {policy: path for path, policy, plain in rows if plain == " |"}  # not the stricter subsets
    text_sets = {p: f for p, f in primary.items() if f.startswith("openai-moderation/")}
    assert {a: f for a, f in SAMPLE_SETS.items() if f} == text_sets
    assert set(AREAS) == {p.name for p in (REPO_ROOT / "policies").iterdir() if p.is_dir()}
    assert [a for a, f in SAMPLE_SETS.items() if f is None] == ["drugs", "toxic-speech"]
    for path in filter(None, SAMPLE_SETS.values()):
        assert (REPO_ROOT / "golden_sets" / path).is_file()


def test_suite_golden_checks_areas_and_files(tmp_path):
    paths = suite_golden(REPO_ROOT, areas=["violence", "drugs"])
    assert paths == {"violence": REPO_ROOT / "golden_sets/openai-moderation/violence.csv", "drugs": None}
    own = tmp_path / "drugs.csv"
    own.write_text("id,text,label\n1,a,1\n")
    assert suite_golden(REPO_ROOT, areas=["drugs"], golden={"drugs": own}) == {"drugs": own}
    with pytest.raises(ConfigError, match="Unknown harm area 'weapons'"):
        suite_golden(REPO_ROOT, areas=["weapons"])
    with pytest.raises(ConfigError, match="Unknown harm area 'spam'"):
        suite_golden(REPO_ROOT, golden={"spam": own})
    with pytest.raises(ConfigError, match="not a file"):
        suite_golden(REPO_ROOT, golden={"drugs": tmp_path / "none.csv"})
    with pytest.raises(ConfigError, match="not a file"):
        suite_golden(tmp_path, areas=["violence"])  # a workspace without the samples


def sample_workspace(root, areas=("self-harm", "violence")):
    """A workspace holding the sample policies and golden sets of ``areas`` (and drugs' policy)."""
    for area in (*areas, "drugs"):
        shutil.copytree(REPO_ROOT / "policies" / area, root / "policies" / area)
        if SAMPLE_SETS[area]:
            target = root / "golden_sets" / SAMPLE_SETS[area]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO_ROOT / "golden_sets" / SAMPLE_SETS[area], target)
    return root


def test_suite_runs_are_ordinary_runs_over_a_seeded_sample(workspace):
    root = sample_workspace(workspace.root)
    sides = [SuiteSide("A", Endpoint("http://127.0.0.1:9/v1", "m")),
             SuiteSide("B", Endpoint("http://127.0.0.1:9/v1", "m"), template="cope-a")]
    golden = suite_golden(root, areas=["drugs", "self-harm", "violence"])
    with Store(workspace.private_dir) as store:
        runs = create_suite(store, root, sides, golden, threshold=0.25, limit=10)
        again = create_suite(store, root, sides, golden, threshold=0.25, limit=10)
        assert [(r.side, r.area) for r in runs] == [(s, a) for a in ("drugs", "self-harm", "violence") for s in "AB"]
        assert [r.run_id for r in runs if r.area == "drugs"] == [None, None]
        stored = {(r.side, r.area): store.run(r.run_id) for r in runs if r.run_id}
        repeat = {(r.side, r.area): store.run(r.run_id) for r in again if r.run_id}
        for key, run in stored.items():
            assert (run.n_items, run.threshold) == (10, 0.25)
            assert run.template == ("cope-a" if key[0] == "B" else "cope-b")
            assert run.golden_hash == repeat[key].golden_hash, "the same sample every time: the cache answers"
            assert run.policy_version_id.startswith("sha256:")
        with pytest.raises(ConfigError, match="resume"):
            suite_scores(store, runs)  # pending runs have no table yet
        for run in stored.values():
            items = store.golden_set(run.golden_hash).items
            store.add_predictions(run.id, [(i, 0.9 if k % 2 else 0.1, None, "", None, 1.0, 0)
                                           for k, i in enumerate(items["id"])])
            store.mark_run(run.id, "completed")
        table = card_table(suite_scores(store, runs))
    assert table.side("A").loc["drugs", "status"] == "no sample golden set"
    assert table.mean.loc["A", "areas_in_mean"] == 2
    assert table.side("B").loc["violence", "run_id"] == stored[("B", "violence")].id


def test_sample_items_is_seeded_and_whole_when_the_limit_is_large():
    from cope_eval.golden import load_golden_set

    golden = load_golden_set(REPO_ROOT / "golden_sets" / SAMPLE_SETS["violence"], REPO_ROOT).golden_set
    assert sample_items(golden, None) is golden and sample_items(golden, 10_000) is golden
    a, b, c = sample_items(golden, 20), sample_items(golden, 20), sample_items(golden, 20, seed=1)
    assert a.hash == b.hash != c.hash and len(a) == 20
    assert list(a.items["id"]) == sorted(a.items["id"], key=list(golden.items["id"]).index)


def _side_b(**given):
    a = SuiteSide("A", Endpoint("http://a.test/v1", "model-a", "key-a"), "cope-b", "logprobs")
    asked = []
    side = side_b(a, template_key=lambda variable: f"env:{variable}",
                  first_model=lambda url, key: asked.append((url, key)) or "first-model", **given)
    return side, asked


def test_side_b_takes_as_part_not_given_and_as_key_only_on_as_own_server():
    """The one rule both the CLI's -b flags and the page's B controls use (insight.side_b)."""
    side, asked = _side_b(model="model-b")
    assert (side.endpoint.base_url, side.endpoint.api_key, side.template, side.answer_mode) == \
        ("http://a.test/v1", "key-a", "cope-b", "logprobs")
    other, asked = _side_b(base_url="http://b.test/v1/")
    assert other.endpoint.base_url == "http://b.test/v1"
    assert other.endpoint.api_key is None, "A's key must never go to another server"
    assert other.endpoint.model == "first-model" and asked == [("http://b.test/v1", None)]
    own, _ = _side_b(base_url="http://b.test/v1", own_key="key-b", model="m")
    assert own.endpoint.api_key == "key-b"
    constrained, _ = _side_b(answer_mode="constrained")
    assert (constrained.endpoint.model, constrained.answer_mode) == ("model-a", "constrained")


def test_side_b_equal_to_a_is_refused_naming_what_to_change():
    with pytest.raises(ConfigError, match="Side B is the same as side A") as caught:
        _side_b(model="model-a")
    assert caught.value.options == ("side_b",)
