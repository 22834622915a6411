"""Export a tuned policy: one folder a reviewer can read and a team can ship.

A bundle is written file by file into a folder (``stage_bundle``), the big files a piece at a
time, so a million-item run's bundle is never whole in memory; ``export_bundle`` (the CLI) and
``zip_bundle`` (the Export page) put it in place from there, and ``build_bundle`` reads a small
one back into memory. Its files (``FILES``):

- ``policy.md``: the policy text, byte for byte as saved;
- ``card.json``: the policy card, format ``cope-eval/policy-card@1`` (keys below);
- ``card.md``: the same card for a reviewer, with the diff from the parent version;
- ``curves.html``: precision-recall, ROC, metrics-by-threshold and confusion matrix, one HTML
  page with plotly's JavaScript inlined (opens offline, loads nothing);
- ``predictions.csv``: one row per item with score, prediction, outcome, error (and its dev/test
  split when the set has one), then its text and image reference so a reviewer can read the
  misses (every text cell formula-safe);
- ``zentropi/criteria.md``, ``zentropi/test-samples.json``, ``zentropi/test-samples.csv``: see
  ``zentropi_formats``.

The card's keys: ``format``, ``cope_eval_version``, ``exported`` (ISO time); ``policy`` (name,
version_id, label: "v3", the version's number in its policy or null when the workspace no longer
holds it, parent, parent_label, created, author, note, text_file, text_sha256, diff_from_parent: found, note,
added/removed/changed lines); ``model``, ``template``, ``answer_mode``; ``threshold`` (value,
method: run | given | max_f1 | min_precision | min_recall | transfer, target, description, note);
``transfer`` (null unless the threshold was carried over from another run: from_run, its model,
template, answer_mode, policy_version_id and golden_hash, keep, threshold_a, target, achieved,
reachable, rationale, items_compared, items, hard_label_b, metrics_a, and changes: a, b and b - a
with intervals per metric of ``metrics.CHANGES``);
``test_split`` (has_split; with a split: the test items, their metrics and intervals at the
threshold, looks_before_export and the last looks: who, place, created, run_id);
``golden_set`` (name, hash, n_items); ``metrics`` (``ThresholdMetrics`` at the threshold, on the
dev split when the set has one);
``confidence_intervals`` (method, confidence, n_resamples, random_state, intervals: estimate, low,
high per metric of ``CI_METRICS``); ``curves`` (average_precision, roc_auc, hard_label, note,
file); ``per_category`` (one row per category: counts and ratios) and ``per_category_mean``
(unweighted); ``run`` (id, created, started, finished, status, n_items, scored, errors,
not_scored); ``zentropi`` (model: the Zentropi API name or null, file names, samples, skipped);
``steerability`` (the newest completed steerability probe of the run: probed, study_id, threshold,
items, flip_rate and off_topic_flag_rate with Wilson intervals, mean_abs_delta, errors,
warnings; or probed false and a note); ``files``; ``warnings``. Undefined numbers (an AUC with one class) are null, never NaN.

Nothing written holds an API key (runs never store one) or the server URL, and text cope-eval
wrote itself (error messages, notes) and image paths in ``predictions.csv`` have this machine's
workspace and home paths replaced by ``<workspace>`` and ``~``. Policy and golden-set content is
exported as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, CopeEvalError, NotFoundError
from ..insight import PROBES, probe_report, study_status
from ..metrics import (
    ThresholdTransfer, best_f1_threshold, bootstrap_ci, check_results, check_threshold, metrics_at_threshold,
    slice_metrics, threshold_for_precision, threshold_for_recall
)
from ..policies import diff_versions, get_version, version_labels
from ..records import PolicyVersion, Run
from ..store import Store, run_results, utc_now
from ._zentropi import (
    CHUNK_ROWS, criteria_bytes, criteria_warnings, write_samples, zentropi_model
)
from . import _card as export_card
from ._files import new_file, write_new
from ._held_out import held_out_section
from ._predictions_csv import write_predictions
from ._transfer import TransferFrom, transfer_card, transfer_runs

CARD_FORMAT = "cope-eval/policy-card@1"
"""Value of ``format`` in every card.json; bump it when a field changes meaning."""
CI_METRICS = ("precision", "recall", "f1", "accuracy")
"""Metrics given a bootstrap interval in the card."""
PICK_HELP = "max-f1, precision>=X or recall>=X (X between 0 and 1)"
NOT_SCORED = "not scored yet"
FILES = ("policy.md", "card.json", "card.md", "curves.html", "predictions.csv", "zentropi/criteria.md",
         "zentropi/test-samples.json", "zentropi/test-samples.csv")
"""A bundle's files (``/``-separated paths), in the order they are listed, written and zipped."""
_PICK = re.compile(r"^\s*(precision|recall)\s*>=\s*([0-9]*\.?[0-9]+)\s*$")


class ExportError(CopeEvalError):
    """A bundle could not be made as asked (no threshold meets the rule, files in the way)."""


@dataclass(frozen=True)
class ChosenThreshold:
    """The threshold a bundle is exported at, and how it was chosen."""

    value: float
    """Items with score >= value are labelled 1."""
    method: str
    """``run`` (the run's own threshold), ``given`` (set by hand), ``max_f1``,
    ``min_precision``, ``min_recall`` or ``transfer`` (carried over from another run)."""
    target: float | None
    """The precision or recall asked for, or for a transfer the source run's value of what it
    keeps; None for the other methods."""
    description: str
    """One sentence for people: how the value was chosen."""
    note: str = ""
    """What the picking rule reported (e.g. how many distinct scores it chose among)."""
    transfer: ThresholdTransfer | None = None
    """For ``transfer``: the source run's operating point, what was kept and what else changes."""


@dataclass(frozen=True, eq=False)
class Bundle:
    """An export, in memory."""

    files: dict[str, bytes]
    """Relative path (``/``-separated) to the file's bytes, in writing order."""
    card: dict
    """The JSON card, as written to ``card.json``."""
    threshold: ChosenThreshold
    """The threshold every metric in the bundle is taken at."""
    warnings: tuple[str, ...]
    """What a reviewer should know (also in the card)."""


@dataclass(frozen=True, eq=False)
class StagedBundle:
    """What ``stage_bundle`` tells of the files it wrote."""

    card: dict
    """The JSON card, as written to ``card.json``."""
    threshold: ChosenThreshold
    """The threshold every metric in the bundle is taken at."""
    warnings: tuple[str, ...]
    """What a reviewer should know (also in the card)."""


@dataclass(frozen=True, eq=False)
class WrittenBundle:
    """A bundle on disk: a folder (``export_bundle``, ``extract_bundle``) or a zip (``zip_bundle``)."""

    path: Path
    """The folder the files are in, or the zip file (its files are under ``name``/ in it)."""
    card: dict
    """The JSON card, as written to ``card.json``."""
    threshold: ChosenThreshold
    """The threshold every metric in the bundle is taken at (read back from a zip's card, it has
    no ``transfer``: the card's ``transfer`` section has it)."""
    warnings: tuple[str, ...]
    """What a reviewer should know (also in the card)."""
    files: dict[str, int]
    """Relative path (``/``-separated) to the file's size in bytes, in ``FILES`` order."""

    @property
    def name(self) -> str:
        """``bundle_name``: the folder in the zip, and the download's name."""
        return bundle_name(self.card)


def parse_pick(text: str) -> tuple[str, float | None]:
    """``max-f1`` -> ("max_f1", None); ``precision>=0.9`` -> ("min_precision", 0.9); same for
    recall. Raises ConfigError for anything else."""
    if text.strip().lower() in ("max-f1", "max_f1"):
        return "max_f1", None
    match = _PICK.match(text.lower())
    if match and 0.0 <= float(match.group(2)) <= 1.0:
        return f"min_{match.group(1)}", float(match.group(2))
    raise ConfigError(f"Cannot read threshold rule {text!r}; use {PICK_HELP}.")


def choose_threshold(results, run: Run, *, threshold: float | None = None, pick: str | None = None,
                     hard_label: bool = False) -> ChosenThreshold:
    """The run's own threshold, a given one, or one picked by a rule (see ``parse_pick``)."""
    if threshold is not None and pick is not None:
        raise ConfigError("Give a threshold or a rule to pick one, not both.")
    if threshold is not None:
        value = check_threshold(threshold)
        return ChosenThreshold(value, "given", None, f"set by hand to {value:g}")
    if pick is None:
        return ChosenThreshold(float(run.threshold), "run", None, f"the run's own threshold ({run.threshold:g})")
    rule, target = parse_pick(pick)
    if rule == "max_f1":
        choice = best_f1_threshold(results, hard_label=hard_label)
        wanted = "the highest F1"
    elif rule == "min_precision":
        choice = threshold_for_precision(results, target, hard_label=hard_label)
        wanted = f"precision >= {target:g} with the highest recall"
    else:
        choice = threshold_for_recall(results, target, hard_label=hard_label)
        wanted = f"recall >= {target:g} with the highest precision"
    if not choice.found:
        raise ExportError(f"No threshold of run {run.id} gives {wanted}: {choice.note}.")
    return ChosenThreshold(choice.threshold, rule, target, f"picked for {wanted}", choice.note)


def _transferred_threshold(transfer: ThresholdTransfer) -> ChosenThreshold:
    """The threshold a transfer found for its run B, with its rationale as the description.
    Raises ``ExportError`` when B reaches A's precision (or recall) at no threshold."""
    if not transfer.reachable:
        raise ExportError(f"{transfer.rationale.removesuffix('.')}: there is no threshold of {transfer.run_b} "
                          "that keeps it. Set the threshold by hand to export at the closest anyway.")
    return ChosenThreshold(transfer.threshold_b, "transfer", transfer.target, transfer.rationale.removesuffix("."),
                           transfer.note, transfer)


def build_bundle(store: Store, run_id: str, *, workspace_root: Path, threshold: float | None = None,
                 pick: str | None = None, transfer_from: TransferFrom | None = None, allow_urls: bool = False,
                 who: str = "", n_resamples: int = 1000, confidence: float = 0.95, random_state: int = 0) -> Bundle:
    """The bundle in memory (``stage_bundle`` into a temporary folder, read back): for small runs
    and tests. A large run's bundle goes to disk instead (``export_bundle``, ``zip_bundle``): its
    files are hundreds of megabytes."""
    with tempfile.TemporaryDirectory(prefix="cope-eval-bundle-") as folder:
        staged = stage_bundle(store, run_id, Path(folder), workspace_root=workspace_root, threshold=threshold,
                              pick=pick, transfer_from=transfer_from, allow_urls=allow_urls, who=who,
                              n_resamples=n_resamples, confidence=confidence, random_state=random_state)
        files = {name: (Path(folder) / name).read_bytes() for name in FILES}
    return Bundle(files, staged.card, staged.threshold, staged.warnings)


def stage_bundle(store: Store, run_id: str, folder: Path, *, workspace_root: Path, threshold: float | None = None,
                 pick: str | None = None, transfer_from: TransferFrom | None = None, allow_urls: bool = False,
                 who: str = "", n_resamples: int = 1000, confidence: float = 0.95, random_state: int = 0,
                 chunk_rows: int = CHUNK_ROWS) -> StagedBundle:
    """Write the bundle's ``FILES`` into ``folder`` (empty, or new), for one run's policy version
    at one threshold: the run's own, ``threshold``, one picked by the rule ``pick``, or the one that
    keeps another run's operating point (``transfer_from``, see ``transfer_runs``; its rationale
    goes on the card). The big files (predictions, Zentropi samples) are written ``chunk_rows``
    rows at a time: the bundle is never whole in memory. A file that cannot be written raises
    ``UnwritableFile`` naming it (the caller says where it was going and cleans up).

    Every figure and file is on the golden set's dev split (all items when it has none), and the
    threshold is chosen there; the card's ``test_split`` gives the held-out figures, and building
    it is recorded as one look at the test split by ``who`` (``held_out_section``)."""
    run = store.run(run_id)
    version = store.policy_version(run.policy_version_id)
    results = run_results(store, run_id)  # before the set: its own read of the set is freed first
    golden = store.golden_set(run.golden_hash)
    scored = check_results(results)
    # Scores that are all 0 or 1 (safeguard, chat-label without logprobs) are labels: one operating point.
    hard_label = bool(scored.n) and bool(np.isin(scored.s, (0.0, 1.0)).all())
    if transfer_from is not None:
        if threshold is not None or pick is not None:
            raise ConfigError("Give a threshold, a rule to pick one, or a run to carry it over from: one of them.")
        chosen = _transferred_threshold(transfer_runs(
            store, transfer_from.run, run_id, keep=transfer_from.keep, threshold_a=transfer_from.threshold,
            allow_different=transfer_from.allow_different, n_resamples=n_resamples, confidence=confidence,
            random_state=random_state))
    else:
        chosen = choose_threshold(scored, run, threshold=threshold, pick=pick, hard_label=hard_label)
    scrub = _scrubber(workspace_root)
    parent, diff = _parent_diff(store, workspace_root, version)
    labels: dict[str, str] = {}
    with contextlib.suppress(CopeEvalError):  # a policy name that is no folder name here: no labels
        labels = version_labels(workspace_root, version.policy)
    folder = Path(folder)
    write_new(folder, "policy.md", version.text.encode("utf-8"))
    write_new(folder, "zentropi/criteria.md", criteria_bytes(version))
    with new_file(folder, "predictions.csv") as out:
        write_predictions(out, results, golden.items, chosen.value, scrub, chunk_rows)
    with new_file(folder, "zentropi/test-samples.json") as json_out, \
            new_file(folder, "zentropi/test-samples.csv") as csv_out:
        samples = write_samples(golden, workspace_root, json_out, csv_out, allow_urls=allow_urls,
                                chunk_rows=chunk_rows)

    steerability = _steerability(store, run)
    warnings = list(_run_warnings(run, results, scrub))
    warnings += [f"Steerability probe: {w}" for w in steerability.get("warnings", ())]
    warnings += [f"Zentropi criteria: {w}" for w in criteria_warnings(version.text)]
    warnings += [f"Zentropi samples: {w}" for w in samples.warnings]
    warnings += [f"Zentropi samples: {p}" for p in samples.skipped[:20]]
    warnings = [scrub(w) for w in warnings]
    card = _card(run, version, labels, golden, results, scored, chosen, hard_label, parent, diff, samples,
                 steerability, list(FILES), warnings, n_resamples=n_resamples, confidence=confidence,
                 random_state=random_state)
    card["transfer"] = _plain(transfer_card(store, chosen.transfer))
    card["test_split"] = _plain(held_out_section(store, run, golden, chosen.value, who=who, metrics=CI_METRICS,
                                                 n_resamples=n_resamples, confidence=confidence,
                                                 random_state=random_state))
    card_json = json.dumps(card, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_new(folder, "card.json", card_json.encode("utf-8"))
    write_new(folder, "card.md", export_card.card_markdown(card, diff.unified if diff else None).encode("utf-8"))
    write_new(folder, "curves.html", export_card.curves_html(scored, chosen, card).encode("utf-8"))
    return StagedBundle(card, chosen, tuple(warnings))


def bundle_name(card: dict) -> str:
    """The bundle's folder name, from its card: the policy's name and 8 digits of its version's hash
    (``violence-3f2a9b0c``); the download and the suggested folder are named after it."""
    return f"{card['policy']['name']}-{card['policy']['version_id'][7:15]}"


def _card(run, version, labels, golden, results, scored, chosen, hard_label, parent, diff, samples, steerability,
          files, warnings, *, n_resamples, confidence, random_state) -> dict:
    from .. import __version__

    metrics = metrics_at_threshold(scored, threshold=chosen.value)
    ci = bootstrap_ci(scored, threshold=chosen.value, metrics=CI_METRICS, n_resamples=n_resamples,
                      confidence=confidence, random_state=random_state)
    curves = export_card.curve_summary(scored, hard_label)
    has_category = results["category"].notna().any()
    slices = slice_metrics(results, by="category", threshold=chosen.value) if has_category else None
    not_scored = int((results["error"] == NOT_SCORED).sum())
    return _plain({
        "format": CARD_FORMAT,
        "cope_eval_version": __version__,
        "exported": utc_now(),
        "policy": {
            "name": version.policy, "version_id": version.id, "label": labels.get(version.id),
            "parent": version.parent, "parent_label": labels.get(version.parent),
            "created": version.created, "author": version.author, "note": version.note,
            "text_file": "policy.md",
            "text_sha256": "sha256:" + hashlib.sha256(version.text.encode("utf-8")).hexdigest(),
            "diff_from_parent": {
                "found": diff is not None, "note": parent,
                "added": diff.added if diff else None, "removed": diff.removed if diff else None,
                "changed": diff.changed if diff else None},
        },
        "model": run.model,
        "server": {"base_url": run.base_url, "checkpoint": run.checkpoint},
        "template": run.template,
        "answer_mode": run.answer_mode,
        "threshold": {"value": chosen.value, "method": chosen.method, "target": chosen.target,
                      "description": chosen.description, "note": chosen.note},
        "transfer": None,  # filled in by build_bundle: it reads the source run from the store
        "test_split": None,  # filled in by build_bundle: it records the look at the test split
        "golden_set": {"name": golden.name, "hash": golden.hash, "n_items": len(golden)},
        "metrics": metrics.to_dict(),
        "confidence_intervals": {
            "method": "percentile bootstrap over items", "confidence": ci.confidence,
            "n_resamples": ci.n_resamples, "random_state": random_state,
            "intervals": {name: interval.to_dict() for name, interval in ci.intervals.items()},
        },
        "curves": {**curves, "file": "curves.html"},
        "per_category": [] if slices is None else _slice_rows(slices),
        "per_category_mean": None if slices is None else slices.mean,
        "run": {"id": run.id, "created": run.created, "started": run.started, "finished": run.finished,
                "status": run.status, "n_items": run.n_items, "scored": metrics.n,
                "errors": metrics.errors - not_scored, "not_scored": not_scored},
        "zentropi": {"model": zentropi_model(run.model), "criteria_file": "zentropi/criteria.md",
                     "samples_json": "zentropi/test-samples.json", "samples_csv": "zentropi/test-samples.csv",
                     "samples": samples.count, "skipped": len(samples.skipped)},
        "steerability": steerability,
        "files": files,
        "warnings": warnings,
    })


def completed_probes(store: Store, run_id: str) -> tuple[str, ...]:
    """Ids of the run's completed steerability probes, oldest first (the card shows the newest)."""
    return tuple(s.id for s in store.studies(PROBES.name) if s.base_run_id == run_id and study_status(store, s) == "completed")


def _steerability(store: Store, run: Run) -> dict:
    """The newest completed probe of the run: evidence that the model reads the policy at all."""
    probes = completed_probes(store, run.id)
    if not probes:
        return {"probed": False, "note": f"not probed: run `python -m cope_eval probe {run.id}`, "
                                         "or Insight > Steerability probes"}
    report = probe_report(store, store.study(probes[-1]))
    return {"probed": True, "study_id": report.study_id, "threshold": report.threshold, "items": report.items,
            "flip_rate": report.flip_rate.to_dict(), "off_topic_flag_rate": report.off_topic_flag_rate.to_dict(),
            "mean_abs_delta": report.mean_abs_delta, "errors": report.errors,
            "warnings": [w.message for w in report.warnings]}


def _slice_rows(slices) -> list[dict]:
    rows = slices.rows.reset_index().rename(columns={slices.rows.index.name: "category"})
    return rows.to_dict(orient="records")


def _parent_diff(store, workspace_root, version: PolicyVersion):
    """(note about the parent, PolicyDiff or None): the parent from the store, else the workspace."""
    if version.parent is None:
        return "First version of this policy: no parent, no diff", None
    parent = None
    try:
        parent = store.policy_version(version.parent)
    except NotFoundError:
        try:
            parent = get_version(workspace_root, version.policy, version.parent)
        except CopeEvalError:
            pass
    if parent is None:
        return f"Parent {version.parent} is not in this workspace, so there is no diff", None
    return f"Diff from parent {parent.id}", diff_versions(parent, version,
                                                          labels=version_labels(workspace_root, version.policy))


def _run_warnings(run: Run, results: pd.DataFrame, scrub):
    not_scored = int((results["error"] == NOT_SCORED).sum())
    errors = int(results["error"].notna().sum()) - not_scored
    if run.status != "completed":
        reason = f" ({scrub(run.error)})" if run.error else ""
        yield f"run {run.id} is {run.status}{reason}: {not_scored} of {run.n_items} items have no prediction"
    elif not_scored:
        yield f"{not_scored} of {run.n_items} items have no prediction"
    if errors:
        yield f"{errors} item(s) errored: they are left out of every metric, never scored as 0"


def _scrubber(workspace_root: Path):
    """Replace this machine's workspace and home paths in text cope-eval wrote (errors, notes)."""
    root = Path(workspace_root)
    pairs = [(str(p), "<workspace>") for p in {root, root.resolve()} if str(p) not in ("", "/", ".")]
    home = str(Path.home())
    if home not in ("", "/"):
        pairs.append((home + "/", "~/"))
    pairs.sort(key=lambda pair: -len(pair[0]))

    def scrub(text):
        if not isinstance(text, str):
            return text
        for path, shown in pairs:
            text = text.replace(path, shown)
        return text

    return scrub


def _plain(value):
    """JSON-safe values: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value
