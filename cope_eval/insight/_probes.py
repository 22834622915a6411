"""Steerability probes: does the model behind a run follow the policy at all?

One study (kind ``probes``) scores a base run's items under the inverted policy and under an
off-topic policy (``probe_policies``), with the base run's model, template, answer mode and
threshold. A model that follows the policy flips nearly every decision under the inverted text
and flags almost nothing under the off-topic one. The report says so in numbers, each rate with
a Wilson interval, and warns in plain words when the model does not, or when too few items or
too many errors make the numbers unreliable.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import ConfigError
from ..metrics import Proportion, Result, proportion
from ..records import Run, Study
from ..store import Store
from ._kinds import Design, StudyData, StudyKind, load_study
from ._probe_policies import INVERTED, OFF_TOPIC, probe_variants
from ._studies import SELECTIONS

MIN_FLIP_RATE = 0.5
"""Below this share of decisions flipped by inverting the policy, the model is not following it."""
MAX_OFF_TOPIC_FLAG_RATE = 0.10
"""Above this share of items flagged under the unrelated policy, flags do not come from the policy."""
MAX_ERROR_RATE = 0.05
"""Above this share of items failing under a variant, the probe's numbers are unreliable."""
CONFIDENCE = 0.95
"""Coverage of the Wilson intervals on every rate."""
SHOWN_ITEMS = ("not flipped", "flipped", "flagged off-topic", "errors", "all")
"""Views of the probed items: the ones that tell against the model come first."""


@dataclass(frozen=True)
class ProbeWarning(Result):
    """Something an analyst must know before trusting the model (or this probe)."""

    code: str
    """``unfinished``, ``errors``, ``weak_flips``, ``off_topic_flags`` or ``uncertain``."""
    message: str
    """What happened and what it means, in plain words."""


@dataclass(frozen=True)
class ProbeReport(Result):
    """What the probe study found about one base run."""

    study_id: str
    """The probe study."""
    base_run_id: str
    """The run whose policy was inverted."""
    threshold: float
    """The base run's threshold: every decision here is score >= threshold."""
    items: int
    """Items the study scores (each under both variants)."""
    complete: bool
    """True when every variant scored every item (errors included)."""
    errors: dict[str, int]
    """Variant role to items that failed under it (counted here, never dropped silently)."""
    unscored: dict[str, int]
    """Variant role to items not scored yet (an unfinished study)."""
    flip_rate: Proportion
    """Items whose decision differs between base and inverted policy, over items scored without
    error under both."""
    flips_to_1: int
    """Flips from "0" under the base policy to "1" under the inverted one."""
    flips_to_0: int
    """Flips from "1" to "0"."""
    mean_abs_delta: float
    """Mean |P("1") inverted - P("1") base| over the same items; 0.0 when there are none."""
    off_topic_flag_rate: Proportion
    """Items flagged under the off-topic policy, over items it scored without error."""
    base_flag_rate: Proportion
    """Items flagged under the base policy, over the study's items."""
    warnings: tuple[ProbeWarning, ...]
    """Plain-language warnings; empty when the model follows the policy and the numbers are solid."""


def create_probe_study(store: Store, base_run_id: str, *, selection: str = "all", limit: int | None = None,
                       seed: int = 0, author: str = "") -> Study:
    """Register the inverted and off-topic variant runs over the chosen items (``studies.select_items``)."""
    return PROBES.create(store, store.run(base_run_id), items=selection, limit=limit, seed=seed,
                         author=author)


def probe_policy_texts(store: Store, study: Study) -> dict[str, str]:
    """Variant label to the policy text it scored."""
    return {m.label: store.policy_version(store.run(m.run_id).policy_version_id).text for m in study.runs}


def probe_table(store: Store, study: Study) -> pd.DataFrame:
    """One row per study item: gold ``label``, ``text``, each variant's score, decision and error.

    ``flipped`` and ``off_topic_flagged`` are missing (<NA>) where the variant has no score.
    """
    return _table(store, load_study(store, study))


def probe_report(store: Store, study: Study) -> ProbeReport:
    """Flip rate, mean |ΔP|, off-topic and base flag rates, error counts and warnings.

    Unlike the other kinds' reports (``StudyKind.report``), this one also reads an unfinished
    study: it counts what is missing and warns ``unfinished``, so a probe can be read as it goes.
    """
    return _report(store, load_study(store, study))


def probe_items(table: pd.DataFrame, show: str) -> pd.DataFrame:
    """The rows of ``probe_table`` that ``show`` (one of ``SHOWN_ITEMS``) names."""
    if show not in SHOWN_ITEMS:
        raise ConfigError(f"Unknown item view {show!r}; choose one of {', '.join(SHOWN_ITEMS)}.")
    masks = {"not flipped": table["flipped"].eq(False), "flipped": table["flipped"].eq(True),
             "flagged off-topic": table["off_topic_flagged"].eq(True),
             "errors": table["inverted_error"].notna() | table["off_topic_error"].notna()}
    return table[masks[show].fillna(False).to_numpy(dtype=bool)] if show in masks else table


def _design(store: Store, base_run: Run, *, items: str, limit: int | None) -> Design:
    return Design(probe_variants(store.policy_version(base_run.policy_version_id).text))


def _table(store: Store, data: StudyData) -> pd.DataFrame:
    threshold = data.base_run.threshold
    base = data.base
    table = pd.DataFrame({"item_id": base["item_id"], "label": base["label"], "base_score": base["score"]})
    base_flag = (base["score"] >= threshold).to_numpy()
    for role, column in ((INVERTED, "inverted"), (OFF_TOPIC, "off_topic")):
        frame = data.variants[role].set_index("item_id").reindex(base["item_id"])
        scored = frame["error"].isna().to_numpy() & frame["score"].notna().to_numpy()
        table[f"{column}_score"] = frame["score"].to_numpy()
        table[f"{column}_error"] = frame["error"].to_numpy()
        flagged = pd.array(frame["score"].to_numpy() >= threshold, dtype="boolean")
        flagged[~scored] = pd.NA
        table[f"{column}_flagged"] = flagged
    table["flipped"] = table["inverted_flagged"] != pd.array(base_flag, dtype="boolean")
    texts = store.golden_set(store.run(data.study.runs[0].run_id).golden_hash).items.set_index("id")["text"]
    table.insert(2, "text", texts.reindex(table["item_id"]).to_numpy())
    return table


def _report(store: Store, data: StudyData) -> ProbeReport:
    study, threshold = data.study, data.base_run.threshold
    table = _table(store, data)
    items = len(table)
    unscored, errors = {}, {}
    for member in study.runs:
        stored, failed, _ = store.prediction_counts(member.run_id)
        unscored[member.role], errors[member.role] = items - stored, failed
    compared = table["flipped"].notna().to_numpy()
    flipped = table["flipped"].fillna(False).to_numpy(dtype=bool)
    base_flag = (table["base_score"] >= threshold).to_numpy()
    delta = (table["inverted_score"] - table["base_score"]).abs().to_numpy()[compared]
    off_topic = table["off_topic_flagged"]
    report = dict(
        study_id=study.id, base_run_id=study.base_run_id, threshold=threshold, items=items,
        complete=not any(unscored.values()), errors=errors, unscored=unscored,
        flip_rate=proportion(flipped.sum(), compared.sum(), confidence=CONFIDENCE),
        flips_to_1=int((flipped & ~base_flag).sum()), flips_to_0=int((flipped & base_flag).sum()),
        mean_abs_delta=float(delta.mean()) if len(delta) else 0.0,
        off_topic_flag_rate=proportion(off_topic.fillna(False).sum(), off_topic.notna().sum(), confidence=CONFIDENCE),
        base_flag_rate=proportion(base_flag.sum(), items, confidence=CONFIDENCE),
    )
    return ProbeReport(**report, warnings=_warnings(report, {m.role: m.label for m in study.runs}))


PROBES = StudyKind("probes", "a probe", SELECTIONS, _design, _report)
"""Steerability probes: the base policy inverted and an off-topic policy, over every scored item,
a seeded sample or the items nearest the threshold."""


def threshold_notes() -> tuple[str, ...]:
    """What each warning threshold means, for the screen."""
    return (
        f"Flip rate below {MIN_FLIP_RATE:.0%}: inverting the policy should flip nearly every decision; a model that "
        "flips fewer than half barely reads the policy.",
        f"Off-topic flag rate above {MAX_OFF_TOPIC_FLAG_RATE:.0%}: a policy about chess notation should flag almost "
        "nothing in moderation data; flags there come from the content alone, not from the policy.",
        f"Errors above {MAX_ERROR_RATE:.0%} of items under a variant: the missing answers could change every rate.",
        f"Every rate has a {CONFIDENCE:.0%} Wilson interval; when it reaches across a threshold, the sample is too "
        "small to tell, and the probe says so instead of passing or failing the model.",
    )


def _warnings(report: dict, labels: dict[str, str]) -> tuple[ProbeWarning, ...]:
    out = []
    items = report["items"]
    missing = sum(report["unscored"].values())
    if missing:
        out.append(ProbeWarning("unfinished", f"The probe is not finished: {missing:,} of {items * len(labels):,} "
                                              "scores are missing, so the numbers cover the items scored so far."))
    for role, failed in report["errors"].items():
        if items and failed / items > MAX_ERROR_RATE:
            out.append(ProbeWarning("errors", f"{failed:,} of {items:,} items failed under the {labels[role]} "
                                              f"(more than {MAX_ERROR_RATE:.0%}): the results are unreliable until "
                                              "those errors are understood and the items scored."))
    flips, flagged = report["flip_rate"], report["off_topic_flag_rate"]
    if flips.n and flips.estimate < MIN_FLIP_RATE:
        out.append(ProbeWarning("weak_flips", f"Only {_rate(flips)} of decisions flip when the policy is inverted "
                                              "(a model that follows the policy flips nearly all): the model barely "
                                              "reacts to inverting the policy. Wrong template, wrong endpoint, or a "
                                              "model that ignores policies."))
    elif flips.n and flips.low < MIN_FLIP_RATE:
        out.append(ProbeWarning("uncertain", f"Only {flips.n:,} items compared: the flip rate is {_rate(flips)}, "
                                             f"which could still be below {MIN_FLIP_RATE:.0%}. Probe more items."))
    if flagged.n and flagged.estimate > MAX_OFF_TOPIC_FLAG_RATE:
        out.append(ProbeWarning("off_topic_flags", f"The model flags {_rate(flagged)} of items under an unrelated "
                                                   "policy about chess notation: it flags content whatever the policy "
                                                   "says, so its flags may not come from your policy."))
    elif flagged.n and flagged.high > MAX_OFF_TOPIC_FLAG_RATE:
        out.append(ProbeWarning("uncertain", f"Only {flagged.n:,} items scored under the off-topic policy: its flag "
                                             f"rate is {_rate(flagged)}, which could still be above "
                                             f"{MAX_OFF_TOPIC_FLAG_RATE:.0%}. Probe more items."))
    return tuple(out)


def _rate(p: Proportion) -> str:
    return f"{p.estimate:.0%} ({p.count:,} of {p.n:,}; {p.confidence:.0%} interval {p.low:.0%}-{p.high:.0%})"
