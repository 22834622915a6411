"""Error triage: confident disagreements with the gold label, tagged by an analyst.

A run lists the items it scored without error whose decision (score >= the run's threshold)
disagrees with the gold label, most confident first: for a false positive the confidence is
P("1"), for a false negative 1 - P("1"). The analyst tags each as a ``policy_gap`` (the policy
text does not say what to do with it) or a ``label_error`` (the gold label is wrong). Label
errors go to the relabeling flow (``golden_registry.correct_label``, with the analyst's note as
the reason); policy gaps become a checklist beside the policy editor.

Where a tag lives: (policy slug, golden lineage, item id). The lineage is the first version of
the item's golden set, which every relabel keeps (a relabel makes a child version, never a new
root). So a tag is still shown after its label error is corrected, and on the next policy
version's run over the same set or any relabeled version of it. A run of another policy, or a
file uploaded again as a new set (no parent), starts with no tags. Re-tagging an item replaces
its tag; the replaced one stays in the store as history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError, CopeEvalError, NotFoundError, RowProblem, ValidationError
from ..golden import correct_label, relabel
from ..metrics import check_threshold
from ..records import TRIAGE_TAGS, GoldenSet, Run, TriageTag
from ..scoring import get_template
from ..store import Store, run_results

DEFAULT_MIN_CONFIDENCE = 0.8
"""Disagreements at least this confident are listed unless asked otherwise."""

KINDS = ("FP", "FN")
"""A false positive (model "1", gold 0) or a false negative (model "0", gold 1)."""

ITEM_COLUMNS = ["item_id", "kind", "label", "score", "confidence", "category"]
TAG_COLUMNS = ["tag", "note", "tag_author", "tag_status", "tag_id"]


@dataclass(frozen=True)
class Triage:
    """A run's confident disagreements and their current tags."""

    run: Run
    """The run triaged."""
    policy: str
    """Slug of the policy the run scored: tags belong to it."""
    lineage: str
    """First version of the run's golden set: tags belong to it (see the module docstring)."""
    threshold: float
    """The run's decision threshold."""
    min_confidence: float
    """The confidence asked for; not applied to a hard-label run."""
    hard_label: bool
    """True when the run's template gives labels, not probabilities."""
    scored: int
    """Items scored without error: the ones that can disagree."""
    left_out: int
    """Items with an error or not scored yet: never listed."""
    disagreeing: int
    """Scored items that disagree with the gold label, at any confidence."""
    items: pd.DataFrame
    """One row per listed item, most confident first: ITEM_COLUMNS, ``text``, then TAG_COLUMNS
    (missing where the item has no tag)."""
    open_label_errors: int
    """Label-error tags of this policy and lineage not yet sent to relabeling (listed or not)."""

    @property
    def note(self) -> str:
        """What the list holds, in one line."""
        counts = self.items["kind"].value_counts()
        which = (f"{len(self.items)} disagreement(s) ({counts.get('FP', 0)} FP, {counts.get('FN', 0)} FN) "
                 f"among {self.scored} scored item(s) at threshold {self.threshold:g}")
        if self.hard_label:
            which += "; a hard-label run gives no probabilities, so every disagreement is listed"
        else:
            which += f"; {self.disagreeing - len(self.items)} less confident than {self.min_confidence:g} not shown"
        return which + (f"; {self.left_out} errored or unscored item(s) left out." if self.left_out else ".")


@dataclass(frozen=True)
class Relabeled:
    """What ``send_label_errors_to_relabeling`` did."""

    golden: GoldenSet
    """The newest golden-set version, carrying every correction."""
    changes: pd.DataFrame
    """One row per corrected item: ``item_id``, ``old_label``, ``new_label``, ``golden_hash``
    (the version made by that change), ``tag_id``."""


def disagreements(results: pd.DataFrame, threshold: float, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                  hard_label: bool = False) -> pd.DataFrame:
    """Items of ``results`` (``results.run_results``) whose decision disagrees with the gold label.

    Only items scored without error count. A hard-label run's scores are 0 or 1, so every
    disagreement has confidence 1 and ``min_confidence`` is not applied. Sorted most confident
    first, then by item id. Columns: ITEM_COLUMNS, then ``text`` when ``results`` has it.
    """
    check_threshold(threshold)
    check_threshold(min_confidence, source="Minimum confidence")
    score = results["score"].to_numpy(dtype=np.float64)
    ok = ~np.isnan(score) & results["error"].isna().to_numpy()
    label = results["label"].to_numpy(dtype=np.int64)
    said_one = score >= threshold
    wrong = ok & (said_one != (label == 1))
    confidence = np.where(said_one, score, 1.0 - score)
    keep = wrong if hard_label else wrong & (confidence >= min_confidence)
    columns = ITEM_COLUMNS[:1] + [c for c in ("label", "score", "category", "text") if c in results.columns]
    out = results.loc[keep, columns].copy()
    out["kind"] = np.where(said_one[keep], "FP", "FN")
    out["confidence"] = confidence[keep]
    if "category" not in out.columns:
        out["category"] = None
    out = out.sort_values(["confidence", "item_id"], ascending=[False, True], kind="stable")
    extra = ["text"] if "text" in out.columns else []
    return out[ITEM_COLUMNS + extra].reset_index(drop=True)


def triage_run(store: Store, run_id: str, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
               results: pd.DataFrame | None = None) -> Triage:
    """The run's confident disagreements (``disagreements``) with item text and current tags.

    ``results``: the run's ``run_results`` frame when the caller already has it (a page's cache);
    read from the store otherwise. It is not modified.
    """
    check_threshold(min_confidence, source="Minimum confidence")
    run, policy, lineage = _context(store, run_id)
    hard = not get_template(run.template).has_probability
    results = run_results(store, run.id) if results is None else results
    # One pass for every disagreement; the listed ones are its most confident rows. Text is joined
    # to the listed rows only, not carried through the sort of every item (1M items: about 1 s less).
    everything = disagreements(results.drop(columns=["text"], errors="ignore"), run.threshold, min_confidence=0.0,
                               hard_label=hard)
    listed = everything if hard else everything[everything["confidence"] >= min_confidence]
    listed = _with_text(store, run, listed)
    tags = store.triage_tags(policy, lineage=lineage)
    shown = tags.rename(columns={"author": "tag_author", "status": "tag_status", "id": "tag_id"})
    items = listed.merge(shown[["item_id", *TAG_COLUMNS]], on="item_id", how="left")
    items["tag_id"] = items["tag_id"].astype("Int64")
    ok = int((results["error"].isna() & results["score"].notna()).sum())
    open_errors = int(((tags["tag"] == "label_error") & (tags["status"] == "open")).sum())
    return Triage(run, policy, lineage, run.threshold, min_confidence, hard, ok, len(results) - ok, len(everything),
                  items, open_errors)


def tag_item(store: Store, run_id: str, item_id: str, tag: str, *, note: str = "", author: str = "") -> TriageTag:
    """Tag an item the run got wrong (at its own threshold); replaces the item's current tag.

    A label error needs a note: it becomes the reason of the label correction.
    """
    if tag not in TRIAGE_TAGS:
        raise ConfigError(f"Unknown triage tag {tag!r}; choose one of {', '.join(TRIAGE_TAGS)}.")
    if tag == "label_error" and not note.strip():
        raise ConfigError("A label-error tag needs a note saying why the gold label is wrong (it becomes the "
                          "reason of the label correction).")
    run, policy, lineage = _context(store, run_id)
    results = _with_text(store, run)
    row = results[results["item_id"] == item_id]
    if row.empty:
        raise NotFoundError(f"Run {run_id} has no item {item_id!r}.")
    row = row.iloc[0]
    if pd.notna(row["error"]) or pd.isna(row["score"]):
        raise ConfigError(f"Item {item_id!r} has no score in run {run_id}, so it cannot disagree with its label.")
    if (row["score"] >= run.threshold) == (int(row["label"]) == 1):
        raise ConfigError(f"Run {run_id} agrees with the gold label of item {item_id!r} (score {row['score']:.3f}, "
                          f"gold {int(row['label'])}, threshold {run.threshold:g}); only disagreements are triaged.")
    draft = TriageTag(policy=policy, lineage=lineage, item_id=item_id, tag=tag, note=note.strip(), author=author,
                      run_id=run.id, policy_version_id=run.policy_version_id, golden_hash=run.golden_hash,
                      gold_label=int(row["label"]), score=float(row["score"]),
                      text="" if pd.isna(row["text"]) else str(row["text"]))
    return store.triage_tag(store.put_triage_tag(draft))


def untag_item(store: Store, run_id: str, item_id: str) -> bool:
    """Withdraw an item's current tag (kept as history); False when it had none."""
    _, policy, lineage = _context(store, run_id)
    return store.clear_triage_tag(policy, lineage, item_id)


def send_label_errors_to_relabeling(store: Store, run_id: str, *, author: str,
                                    golden_hash: str | None = None) -> Relabeled:
    """Correct the gold label of every open label-error tag of the run's policy and lineage.

    Each correction is one ``correct_label`` (a new golden version with its history row: this
    author, the tag's note and where it came from as the reason), and its tag is marked done
    with the version that carries it. The corrections start from ``golden_hash``, by default the
    newest version derived from the run's set (so corrections made since are kept). Every tag is
    checked before anything is written, and the writes commit together: all or nothing.
    """
    if not author.strip():
        raise ConfigError("Say who sends the label errors to relabeling (an author): each correction records it.")
    run, policy, lineage = _context(store, run_id)
    tags = store.triage_tags(policy, lineage=lineage, tag="label_error", status="open")
    if tags.empty:
        raise ConfigError(f"Policy {policy!r} has no open label-error tags on this golden set.")
    base = store.golden_set(golden_hash or _newest_version(store, run.golden_hash))
    if store.golden_lineage(base.hash) != lineage:
        raise ConfigError(f"Golden set {base.hash} is not a version of run {run.id}'s golden set.")
    _check_all(base, tags)
    changes = []
    with store.atomic():
        current = base.hash
        for tag in tags.itertuples(index=False):
            old = int(tag.gold_label)
            changed = correct_label(store, current, tag.item_id, 1 - old, author=author, reason=_reason(tag))
            store.set_triage_status(int(tag.id), "done", by=author, resolved_hash=changed.hash)
            changes.append((tag.item_id, old, 1 - old, changed.hash, int(tag.id)))
            current = changed.hash
    frame = pd.DataFrame(changes, columns=["item_id", "old_label", "new_label", "golden_hash", "tag_id"])
    return Relabeled(store.golden_set(current), frame)


def policy_gaps(store: Store, policy: str) -> pd.DataFrame:
    """The policy's gap checklist: open gaps first (oldest first), then done ones (latest first).

    Columns: ``id``, ``status``, ``note``, ``item_id``, ``text``, ``run_id``, ``policy_version_id``
    (the run and version that surfaced it), ``author``, ``created``, ``done_by``, ``done``.
    """
    gaps = store.triage_tags(policy, tag="policy_gap")
    columns = ["id", "status", "note", "item_id", "text", "run_id", "policy_version_id", "author", "created",
               "done_by", "done"]
    open_ = gaps[gaps["status"] == "open"]
    done = gaps[gaps["status"] == "done"].sort_values("done", ascending=False, kind="stable")
    return pd.concat([open_, done])[columns].reset_index(drop=True)


def mark_gap_done(store: Store, gap_id: int, *, author: str = "", done: bool = True) -> TriageTag:
    """Tick a policy gap off the checklist (or, with ``done=False``, put it back)."""
    tag = store.triage_tag(int(gap_id))
    if tag.tag != "policy_gap":
        raise ConfigError(f"Triage tag {gap_id} is a {tag.tag.replace('_', ' ')}, not a policy gap; label errors "
                          "are done when they are sent to relabeling.")
    store.set_triage_status(tag.id, "done" if done else "open", by=author)
    return store.triage_tag(tag.id)


def _context(store: Store, run_id: str) -> tuple[Run, str, str]:
    run = store.run(run_id)
    return run, store.policy_version(run.policy_version_id).policy, store.golden_lineage(run.golden_hash)


def _with_text(store: Store, run: Run, results: pd.DataFrame | None = None) -> pd.DataFrame:
    texts = store.golden_set(run.golden_hash).items[["id", "text"]].rename(columns={"id": "item_id"})
    return (run_results(store, run.id) if results is None else results).merge(texts, on="item_id", how="left")


def _newest_version(store: Store, golden_hash: str) -> str:
    leaves = store.golden_leaves(golden_hash)
    if len(leaves) > 1:
        raise ConfigError(f"Golden set {golden_hash} has {len(leaves)} corrected versions that branch apart "
                          f"({', '.join(leaves)}); say which one to correct.")
    return leaves[0]


def _check_all(base: GoldenSet, tags: pd.DataFrame) -> None:
    """Apply every correction in memory first; raise with every problem found, writing nothing."""
    problems, current = [], base
    for tag in tags.itertuples(index=False):
        labels = current.items.loc[current.items["id"] == tag.item_id, "label"]
        if len(labels) and int(labels.iloc[0]) != int(tag.gold_label):
            problems.append(RowProblem(base.name, None, None, None,
                                       f"item {tag.item_id!r} (tag {tag.id}) is already labeled {int(labels.iloc[0])} "
                                       f"in {base.hash[:19]}; it was {int(tag.gold_label)} when tagged"))
            continue
        try:
            current, _ = relabel(current, tag.item_id, 1 - int(tag.gold_label))
        except CopeEvalError as error:
            problems.append(RowProblem(base.name, None, None, None, f"item {tag.item_id!r} (tag {tag.id}): {error}"))
    if problems:
        raise ValidationError(problems, headline=f"{len(problems)} of {len(tags)} label-error tag(s) cannot be "
                              f"applied, so no label was changed: {'; '.join(map(str, problems[:5]))}")


def _reason(tag) -> str:
    note, score = tag.note.strip(), "no score" if pd.isna(tag.score) else f"{tag.score:.3f}"
    return (f"{note} (error triage: run {tag.run_id} scored it {score} against gold {int(tag.gold_label)}; "
            f"tagged label error by {tag.author or 'someone'} on {tag.created[:10]})")
