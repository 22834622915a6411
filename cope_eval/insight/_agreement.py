"""Agreement across models: do runs of one policy version over one golden set decide alike?

Runs differ by model, endpoint, template or answer mode. Each decides "1" when score >= its own
threshold. For every pair of runs: Cohen's kappa and percent agreement over the items both scored
without error (how many, per pair); for every run, kappa and agreement with the gold labels; and
the items on which the runs disagree, most disputed first.

Rules for degenerate input: kappa is undefined (``None``, with a note saying why) when a pair has
no items in common, or when both runs gave every shared item the same one decision: agreement is
then total, but there is no variation left to tell it from chance (scikit-learn's
``cohen_kappa_score`` returns NaN there, with a warning). When only one of the two is constant,
kappa is defined and is 0.0 at most. Percent agreement with no shared items is 0 of 0: estimate
0.0, interval [0, 1] (``proportions``).

Runs on different golden sets or different policy versions are refused: their decisions are not
about the same question, and the Compare page is the place to set versions side by side.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..metrics import Proportion, Result, proportion
from ..records import Run
from ..store import Store, run_scores

_MISSING = -1  # decision code of an item a run has no score for


@dataclass(frozen=True)
class PairAgreement(Result):
    """Two runs' decisions compared over the items both scored without error."""

    a: str
    """First run (display name)."""
    b: str
    """Second run (display name)."""
    n: int
    """Items both runs scored without error: the items this pair used."""
    kappa: float | None
    """Cohen's kappa; None when undefined (see ``note``)."""
    agreement: Proportion
    """Items with the same decision, over ``n``."""
    note: str
    """Why kappa is undefined, or ""."""


@dataclass(frozen=True)
class GoldAgreement(Result):
    """One run's decisions against the gold labels."""

    run: str
    """The run (display name)."""
    n: int
    """Items it scored without error."""
    missing: int
    """Items it has no score for (errors, or not scored yet), left out."""
    kappa: float | None
    """Cohen's kappa with the gold labels; None when undefined (see ``note``)."""
    agreement: Proportion
    """Items whose decision equals the gold label (accuracy), over ``n``."""
    note: str
    """Why kappa is undefined, or ""."""


@dataclass(frozen=True, eq=False)
class AgreementReport(Result):
    """How several runs of one policy version and golden set agree."""

    runs: dict[str, str]
    """Display name to run id, in the order given."""
    thresholds: dict[str, float]
    """Display name to the threshold its decisions use."""
    items: int
    """Items in the golden set."""
    pairs: tuple[PairAgreement, ...]
    """Every pair of runs, in the order given (first with second, first with third, ...)."""
    gold: tuple[GoldAgreement, ...]
    """Each run against the gold labels."""
    disagreements: pd.DataFrame
    """Items on which the runs' decisions differ, most disputed first: ``item_id``, ``label``,
    ``text`` (when known), ``flagged`` (runs deciding "1"), ``scored`` (runs with a score),
    ``dispute`` (the minority's share: 0.5 is an even split), ``spread`` (highest minus lowest
    score), then per run its decision and ``<name> score``."""

    def to_dict(self) -> dict:
        """Plain values; the disagreements as records, missing decisions and scores as None."""
        return {**super().to_dict(), "disagreements": json.loads(self.disagreements.to_json(orient="records"))}

    def kappa_matrix(self) -> pd.DataFrame:
        """Runs x runs; NaN where kappa is undefined (see each pair's note), 1.0 on the diagonal."""
        names = list(self.runs)
        matrix = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
        for pair in self.pairs:
            matrix.loc[pair.a, pair.b] = matrix.loc[pair.b, pair.a] = np.nan if pair.kappa is None else pair.kappa
        return matrix

    def pair_table(self) -> pd.DataFrame:
        """One row per pair: items used, kappa, percent agreement with its interval, note."""
        rows = [{"run A": p.a, "run B": p.b, "items": p.n, "kappa": p.kappa, "agreement": p.agreement.estimate,
                 "agreement low": p.agreement.low, "agreement high": p.agreement.high, "note": p.note}
                for p in self.pairs]
        return pd.DataFrame(rows, columns=["run A", "run B", "items", "kappa", "agreement", "agreement low",
                                           "agreement high", "note"])

    def gold_table(self) -> pd.DataFrame:
        """One row per run: items used, items left out, kappa and agreement with gold, note."""
        rows = [{"run": g.run, "items": g.n, "left out": g.missing, "kappa vs gold": g.kappa,
                 "agreement with gold": g.agreement.estimate, "note": g.note} for g in self.gold]
        return pd.DataFrame(rows, columns=["run", "items", "left out", "kappa vs gold", "agreement with gold", "note"])


def cohen_kappa(a, b) -> tuple[float | None, str]:
    """(Cohen's kappa of two aligned 0/1 arrays, note); kappa is None when undefined (module docstring)."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    n11, n10 = int(np.count_nonzero(a & b)), int(np.count_nonzero(a & ~b))
    n01, n00 = int(np.count_nonzero(~a & b)), int(np.count_nonzero(~a & ~b))
    if not len(a):
        return None, "no items in common"
    # Closed form of (p_o - p_e) / (1 - p_e) for two labels, in integers: the denominator is 0
    # exactly when both raters gave every item the same single decision.
    denominator = (n11 + n10) * (n10 + n00) + (n11 + n01) * (n01 + n00)
    if denominator == 0:
        return None, f"both gave every item the same decision ({int(a[0])}): agreement is total but kappa is undefined"
    return 2 * (n11 * n00 - n10 * n01) / denominator, ""


def agreement(frames: Mapping[str, pd.DataFrame], thresholds: Mapping[str, float], *,
              texts: pd.Series | None = None, run_ids: Mapping[str, str] | None = None) -> AgreementReport:
    """Agreement of runs given as results frames (``results.run_results``), by display name.

    Every frame must cover the same items with the same gold labels. ``texts`` (item id to text)
    adds a ``text`` column to the disagreements; ``run_ids`` maps names to run ids for the report.
    """
    names = list(frames)
    if len(names) < 2:
        raise ConfigError("Agreement needs at least two runs.")
    first = frames[names[0]].set_index("item_id")
    decided, scores = [], []
    for name in names:
        frame = frames[name].set_index("item_id")
        if not frame.index.equals(first.index):  # runs of one set come in its order: nothing to match
            if len(frame) != len(first) or not frame.index.sort_values().equals(first.index.sort_values()):
                raise ConfigError(f"Run {name} covers different items from run {names[0]}: agreement needs one "
                                  "golden set.")
            frame = frame.reindex(first.index)
        if not (frame["label"].to_numpy() == first["label"].to_numpy()).all():
            raise ConfigError(f"Run {name} has different gold labels from run {names[0]}.")
        score = frame["score"].to_numpy(dtype=np.float64)
        ok = frame["error"].isna().to_numpy() & ~np.isnan(score)
        decided.append(np.where(ok, (score >= thresholds[name]).astype(np.int8), _MISSING))
        scores.append(np.where(ok, score, np.nan))
    decisions, scores = np.column_stack(decided), np.column_stack(scores)
    gold = first["label"].to_numpy().astype(bool)
    pairs = tuple(_pair(names[i], names[j], decisions[:, i], decisions[:, j])
                  for i in range(len(names)) for j in range(i + 1, len(names)))
    golds = tuple(_gold(name, decisions[:, k], gold) for k, name in enumerate(names))
    table = _disagreements(first, names, decisions, scores, texts)
    return AgreementReport(dict(zip(names, [(run_ids or {}).get(n, n) for n in names])),
                           {n: float(thresholds[n]) for n in names}, len(first), pairs, golds, table)


def run_agreement(store: Store, run_ids: Sequence[str]) -> AgreementReport:
    """Agreement of stored runs, each at its own threshold; they must share policy version and golden set."""
    if len(set(run_ids)) != len(run_ids):
        raise ConfigError("Each run can be picked once.")
    runs = [store.run(run_id) for run_id in run_ids]
    if len(runs) < 2:
        raise ConfigError("Agreement needs at least two runs.")
    for run in runs[1:]:
        if run.golden_hash != runs[0].golden_hash:
            raise ConfigError(f"Runs {runs[0].id} and {run.id} were scored on different golden sets "
                              f"({runs[0].golden_hash[:19]} vs {run.golden_hash[:19]}): pick runs of one golden set.")
        if run.policy_version_id != runs[0].policy_version_id:
            raise ConfigError(f"Runs {runs[0].id} and {run.id} scored different policy versions "
                              f"({runs[0].policy_version_id[:19]} vs {run.policy_version_id[:19]}): agreement compares "
                              "models on one policy text; compare versions on the Compare page.")
    names = [run_name(run) for run in runs]
    report = agreement({n: run_scores(store, r.id) for n, r in zip(names, runs)},
                       {n: r.threshold for n, r in zip(names, runs)}, run_ids={n: r.id for n, r in zip(names, runs)})
    # The text of the disputed items only, looked up by id: never the whole set's text.
    table = report.disagreements  # this report's own frame
    lookup = store.golden_lookup(runs[0].golden_hash, ["text"])
    table.insert(2, "text", lookup.rows(table["item_id"].tolist())["text"].to_numpy())
    return report


def run_name(run: Run) -> str:
    """``model · template/answer mode · run id suffix``: what tells runs of one policy apart."""
    return f"{run.model} · {run.template}/{run.answer_mode} · {run.id[-6:]}"


def _pair(a: str, b: str, da: np.ndarray, db: np.ndarray) -> PairAgreement:
    both = (da != _MISSING) & (db != _MISSING)
    kappa, note = cohen_kappa(da[both], db[both])
    same = int((da[both] == db[both]).sum())
    return PairAgreement(a, b, int(both.sum()), kappa, proportion(same, int(both.sum())), note)


def _gold(name: str, decided: np.ndarray, gold: np.ndarray) -> GoldAgreement:
    ok = decided != _MISSING
    kappa, note = cohen_kappa(decided[ok], gold[ok])
    return GoldAgreement(name, int(ok.sum()), int((~ok).sum()), kappa,
                         proportion(int((decided[ok] == gold[ok]).sum()), int(ok.sum())), note)


def _disagreements(first: pd.DataFrame, names: list[str], decisions: np.ndarray, scores: np.ndarray,
                   texts: pd.Series | None) -> pd.DataFrame:
    scored = (decisions != _MISSING).sum(axis=1)
    flagged = (decisions == 1).sum(axis=1)
    split = (flagged > 0) & (flagged < scored)
    rows = np.flatnonzero(split)
    with np.errstate(invalid="ignore"):  # an item no run scored has no spread; it never disagrees
        spread = np.nanmax(scores[rows], axis=1) - np.nanmin(scores[rows], axis=1) if len(rows) else np.empty(0)
    table = pd.DataFrame({"item_id": first.index[rows], "label": first["label"].to_numpy()[rows]})
    if texts is not None:
        table["text"] = texts.reindex(table["item_id"]).to_numpy()
    table["flagged"], table["scored"] = flagged[rows], scored[rows]
    table["dispute"] = np.minimum(flagged[rows], scored[rows] - flagged[rows]) / scored[rows]
    table["spread"] = spread
    for k, name in enumerate(names):
        decision = pd.array(decisions[rows, k], dtype="Int64")
        decision[decisions[rows, k] == _MISSING] = pd.NA
        table[name], table[f"{name} score"] = decision, scores[rows, k]
    order = np.lexsort((-table["spread"].to_numpy(), -table["dispute"].to_numpy()))  # last key sorts first
    return table.iloc[order].reset_index(drop=True)
