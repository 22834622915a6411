"""The export card's ``test_split`` section: the figures on the items kept out of iteration, at
the exported threshold (chosen on dev), and how often the test split was looked at before.

Exporting shows test figures, so each export is itself recorded as a look (``place`` "export"),
after the count the card states: "looked at k times before this export". A policy whose test
figures were looked at after every edit has been tuned on them; the count is how a reviewer tells.
"""

from __future__ import annotations

from ..metrics import bootstrap_ci, metrics_at_threshold
from ..records import GoldenSet, Run
from ..store import Store, has_split, recorded_reveals, reveal_test

LOOKS_LISTED = 20
"""Looks listed by who, when and where on the card; the rest are counted."""


def held_out_section(store: Store, run: Run, golden: GoldenSet, threshold: float, *, who: str,
                     metrics: tuple[str, ...], n_resamples: int, confidence: float, random_state: int) -> dict:
    """The section for ``run`` (over ``golden``, its set) at ``threshold``; records this export as
    one look by ``who``. A set without a split gets ``{"has_split": False}``: every figure of the
    card is then on the items iterated on."""
    if not has_split(golden.items):
        return {"has_split": False}
    before = recorded_reveals(store, run.id).looks
    test = reveal_test(store, run.id, who=who, place="export")
    scored = metrics_at_threshold(test, threshold=threshold)
    ci = bootstrap_ci(test, threshold=threshold, metrics=metrics, n_resamples=n_resamples, confidence=confidence,
                      random_state=random_state)
    return {
        "has_split": True, "items": len(test), "metrics": scored.to_dict(),
        "intervals": {name: interval.to_dict() for name, interval in ci.intervals.items()},
        "confidence": ci.confidence,
        "looks_before_export": len(before),
        "looks": before.tail(LOOKS_LISTED)[["who", "place", "created", "run_id"]].to_dict(orient="records"),
    }
