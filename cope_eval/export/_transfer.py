"""Carrying a threshold from one stored run to another, for ``cope-eval transfer``, ``export
--transfer-from`` and the pages: the check that the two runs may be compared, then
``metrics.transfer_threshold`` on their results.

A threshold carries over between two runs of one policy version on one golden set, scored by two
models (or templates, or quantisations): then the only difference is the scorer. Runs of different
policy versions or golden sets are refused unless the caller allows it (``allow_different``);
then the items both runs scored are compared, and the transfer says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..metrics import ThresholdTransfer, transfer_threshold
from ..store import Store, run_results


@dataclass(frozen=True)
class TransferFrom:
    """Export at the threshold carried over from another run (``build_bundle``'s ``transfer_from``).

    Hashable, so a page can cache the bundle it builds on it."""

    run: str
    """Id of the run whose operating point is kept (run A); the exported run is run B."""
    keep: str
    """What to keep: one of ``metrics.KEEPS`` (precision, recall, flag-rate)."""
    threshold: float | None = None
    """Run A's threshold; None for A's own (``Run.threshold``)."""
    allow_different: bool = False
    """Carry it over even when the runs scored different policy versions or golden sets."""


def transfer_runs(store: Store, run_a: str, run_b: str, *, keep: str, threshold_a: float | None = None,
                  allow_different: bool = False, n_resamples: int = 1000, confidence: float = 0.95,
                  random_state=0) -> ThresholdTransfer:
    """Run B's threshold that keeps run A's operating point (``metrics.transfer_threshold``), the
    runs named by their ids. ``threshold_a`` None is A's own threshold. Raises ``ConfigError``
    (option ``allow_different``) when the runs scored different policy versions or golden sets and
    that is not allowed, ``NotFoundError`` for an unknown run."""
    a, b = store.run(run_a), store.run(run_b)
    differ = []
    if a.policy_version_id != b.policy_version_id:
        differ.append(f"policy versions ({a.policy_version_id[:19]} and {b.policy_version_id[:19]})")
    if a.golden_hash != b.golden_hash:
        differ.append(f"golden sets ({a.golden_hash[:19]} and {b.golden_hash[:19]})")
    if differ and not allow_different:
        raise ConfigError(f"Runs {a.id} and {b.id} scored different {' and '.join(differ)}: a threshold carries "
                          "over between two runs of one policy version on one golden set, by two models, "
                          "templates or quantisations.", options=("allow_different",))
    return transfer_threshold(
        run_results(store, a.id), run_results(store, b.id), keep=keep,
        threshold_a=a.threshold if threshold_a is None else threshold_a, names=(a.id, b.id),
        golden_hashes=(a.golden_hash, b.golden_hash), n_resamples=n_resamples, confidence=confidence,
        random_state=random_state)


def transfer_card(store: Store, transfer: ThresholdTransfer | None) -> dict | None:
    """The export card's ``transfer`` section: where the threshold came from and what it keeps
    (numbers as the metrics give them; the card makes them JSON-safe)."""
    if transfer is None:
        return None
    source = store.run(transfer.run_a)
    return {
        "from_run": source.id, "model": source.model, "template": source.template, "answer_mode": source.answer_mode,
        "policy_version_id": source.policy_version_id, "golden_hash": source.golden_hash,
        "keep": transfer.keep, "threshold_a": transfer.threshold_a, "target": transfer.target,
        "achieved": transfer.achieved, "reachable": transfer.reachable, "rationale": transfer.rationale,
        "items_compared": transfer.n, "items": transfer.items, "hard_label_b": transfer.hard_label_b,
        "metrics_a": transfer.metrics_a.to_dict(),
        "changes": {name: change.to_dict() for name, change in transfer.changes.items()},
        "confidence": transfer.confidence, "n_resamples": transfer.n_resamples,
    }
