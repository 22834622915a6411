"""The typed records every other module passes around.

Bulk data (golden-set items, a run's predictions) travels as pandas DataFrames with the
columns named here, so a million rows never become a million Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: importing records must not import pandas (a fast CLI)
    import pandas as pd

ITEM_COLUMNS = ("id", "text", "label", "image", "category", "video", "video_digest", "split")
"""Canonical golden-set columns, in order. Extra metadata columns follow them."""

SPLIT_VALUES = ("dev", "test")
"""What an item's ``split`` holds in a set that has a split (``golden.make_split``): iterate on
``dev``, keep ``test`` for the honest figure; missing in a set without a split."""

SPLITS = ("dev", "test", "all")
"""Which items a report covers (``golden.split_results``): one split, or every item."""


@dataclass(frozen=True)
class PolicyVersion:
    """One immutable saved text of a policy."""

    id: str
    """``sha256:<hex>`` of the canonical text: same text, same id, everywhere."""
    policy: str
    """Slug of the policy this version belongs to, e.g. ``hate-speech``."""
    text: str
    """The policy text exactly as saved."""
    parent: str | None = None
    """Id of the version this one was edited from; None for the first."""
    note: str = ""
    """The author's note for this save."""
    author: str = ""
    """Free-text author name."""
    created: str = ""
    """ISO 8601 UTC time of the save."""


@dataclass(frozen=True)
class GoldenItem:
    """One labeled example."""

    id: str
    """Stable item id (given in the file or derived from the content)."""
    text: str
    """Content text; may be empty when an image carries the content."""
    label: int
    """Gold label: 1 when the policy's label applies, else 0."""
    image: str | None = None
    """Image reference: path relative to the workspace, data URL, or http(s) URL."""
    category: str | None = None
    """Optional category used for per-category tables."""
    video: str | None = None
    """Video reference (path relative to the workspace, data URL, or http(s) URL); an item has
    an image or a video, never both."""
    video_digest: str | None = None
    """``sha256:<hex>`` of the video's bytes as checked when the set was loaded (the set's hash
    covers it, and a request refuses a video whose bytes changed since); None for an http(s)
    URL that was not fetched."""
    split: str | None = None
    """``dev`` or ``test`` (``SPLIT_VALUES``) when the set has a split, else None."""
    meta: dict[str, str | int | float | bool] = field(default_factory=dict)
    """Any extra columns from the source file, kept for slicing (typed: text, number, boolean)."""


@dataclass(frozen=True)
class GoldenSet:
    """A labeled set of items, identified by the hash of its content."""

    name: str
    """Human name, usually the file stem."""
    hash: str
    """``sha256:<hex>`` over the canonical items; changes whenever any item or label does."""
    items: pd.DataFrame
    """One row per item with ``ITEM_COLUMNS`` first, then metadata columns."""

    def __post_init__(self):
        """Every set has all of ITEM_COLUMNS: a column a frame lacks (a snapshot stored before
        videos, a frame built in code) is added, empty, in its place; the caller's frame is not changed."""
        if all(column in self.items.columns for column in ITEM_COLUMNS):
            return
        import pandas as pd  # already loaded: ``items`` is a DataFrame

        items = self.items.copy(deep=False)
        for position, column in enumerate(ITEM_COLUMNS):
            if column not in items.columns:
                items.insert(min(position, len(items.columns)), column,
                             pd.Series(float("nan"), index=items.index, dtype="str"))
        object.__setattr__(self, "items", items)

    def __len__(self) -> int:
        return len(self.items)

    def iter_items(self):
        """Yield ``GoldenItem`` records (use ``items`` directly for bulk work)."""
        names = list(self.items.columns)
        meta_cols = [c for c in names if c not in ITEM_COLUMNS]
        for row in self.items.itertuples(index=False, name=None):  # any column name, "Unnamed: 3" too
            values = dict(zip(names, row))
            yield GoldenItem(
                id=values["id"],
                text=values["text"],
                label=int(values["label"]),
                image=_none_if_missing(values["image"]),
                category=_none_if_missing(values["category"]),
                video=_none_if_missing(values["video"]),
                video_digest=_none_if_missing(values["video_digest"]),
                split=_none_if_missing(values["split"]),
                meta={c: values[c] for c in meta_cols if _none_if_missing(values[c]) is not None},
            )


@dataclass(frozen=True)
class Endpoint:
    """Where to send scoring requests. The key is never stored or shown."""

    base_url: str
    """OpenAI-compatible base URL ending in ``/v1``."""
    model: str
    """Model name as the server lists it."""
    api_key: str | None = field(default=None, repr=False)
    """Bearer token for this server only; kept in memory."""


def _none_if_missing(value):
    if value is None:
        return None
    import pandas as pd  # already loaded: the value came out of a DataFrame

    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


RUN_STATUSES = ("pending", "running", "interrupted", "cancelled", "completed", "failed")


@dataclass(frozen=True)
class Run:
    """One policy version scored over one golden set by one model endpoint."""

    id: str
    """Time-sortable id, e.g. ``run-20261129-231500-3fa2``."""
    policy_version_id: str
    """The exact policy text scored (``PolicyVersion.id``)."""
    golden_hash: str
    """The exact golden set scored (``GoldenSet.hash``)."""
    base_url: str
    """Server the run was sent to (never its API key)."""
    model: str
    """Model name on that server."""
    template: str
    """Prompt template name; part of the run's identity."""
    answer_mode: str
    """``logprobs`` or ``constrained``."""
    threshold: float
    """Decision threshold for this run's headline metrics (score >= threshold is "1")."""
    concurrency: int
    """Requests in flight at most, per server: the fixed level, or the cap when ``adaptive``."""
    status: str
    """As stored: one of RUN_STATUSES. ``store.effective_status(run)`` says what it is now (a
    runner that died leaves ``running`` behind)."""
    n_items: int
    """Items in the golden set."""
    created: str = ""
    """ISO time the run was created."""
    started: str | None = None
    """ISO time scoring first started."""
    finished: str | None = None
    """ISO time it last stopped (completed, cancelled or failed)."""
    heartbeat: str | None = None
    """ISO time the runner last wrote progress."""
    runner_pid: int | None = None
    """Process scoring it while ``status`` is running."""
    error: str | None = None
    """Why it failed, when it did."""
    checkpoint: str | None = None
    """The weights that answered, as the server reported them (vLLM's ``root`` in ``/v1/models``);
    None when no server of the run said. Recorded on the first execution that learns it; a later
    execution against other weights is refused, so a run never mixes checkpoints."""
    adaptive: bool = False
    """True when the requests in flight adapt to the server (``--concurrency auto``, the default):
    each server's limit follows a controller (``scoring._concurrency``) within [1, ``concurrency``]."""
    settled_concurrency: int | None = None
    """For an adaptive run, the requests in flight its limit settled on in its last execution,
    summed over its servers (replicas included); None when fixed, or before an execution ended."""


@dataclass(frozen=True)
class StudyRun:
    """One scored variant of a study: a derived policy text run over the study's items."""

    role: str
    """Machine name, unique in the study, e.g. ``inverted`` or ``without:includes-2``."""
    label: str
    """What an analyst reads, e.g. "without Includes 2: Threats, intimidation or ..."."""
    run_id: str
    """The run that scored this variant."""


@dataclass(frozen=True)
class Study:
    """Several runs that answer one question about a base run (probes, ablation, attribution)."""

    id: str
    """Time-sortable id, e.g. ``study-20261130-021500-3fa2c1``."""
    kind: str
    """``probes``, ``ablation`` or ``attribution``."""
    base_run_id: str
    """The run whose policy, golden set and endpoint the variants derive from."""
    params: dict = field(default_factory=dict)
    """What the study was asked for (item selection, versions compared...), JSON-serialisable."""
    author: str = ""
    """Who started it."""
    created: str = ""
    """ISO time it was created."""
    runs: tuple[StudyRun, ...] = ()
    """Its variants, in creation order."""


TRIAGE_TAGS = ("policy_gap", "label_error")
"""What an analyst can say about a confident disagreement: the policy text does not cover the
item (``policy_gap``), or the gold label is wrong (``label_error``)."""


@dataclass(frozen=True)
class TriageTag:
    """An analyst's verdict on one item where a run disagreed with the gold label.

    A tag belongs to (``policy``, ``lineage``, ``item_id``), not to one run or golden version, so
    it is still there after a relabel and on the next policy version's run (see ``triage``).
    """

    policy: str
    """Slug of the policy whose run surfaced the item."""
    lineage: str
    """Hash of the first golden-set version of the item's set (relabels keep it)."""
    item_id: str
    """Id of the golden item."""
    tag: str
    """One of TRIAGE_TAGS."""
    note: str
    """The analyst's words: what the policy misses, or why the label is wrong."""
    author: str
    """Who tagged it."""
    run_id: str
    """The run that surfaced the disagreement."""
    policy_version_id: str
    """The policy version that run scored."""
    golden_hash: str
    """The golden-set version the gold label was read from."""
    gold_label: int
    """The gold label when tagged; a label error flips it."""
    score: float | None
    """The run's P("1") for the item when tagged."""
    text: str = ""
    """The item's text when tagged, so a checklist shows it without loading the set."""
    id: int | None = None
    """Row id in the store; the handle for marking a gap done."""
    created: str = ""
    """ISO time it was tagged."""
    status: str = "open"
    """``open``, or ``done`` (gap addressed; label error sent to relabeling)."""
    done_by: str | None = None
    """Who marked it done."""
    done: str | None = None
    """ISO time it was marked done."""
    resolved_hash: str | None = None
    """Label errors: the golden-set version that carries the corrected label."""

def short_id(version_id: str, n: int = 12) -> str:
    """First ``n`` hex digits of a ``sha256:`` id."""
    return version_id.split(":", 1)[-1][:n]
