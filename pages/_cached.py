"""The store's reads that pages share, cached across reruns and sessions (``st.cache_data``, and
``pages/_shared_cache.py`` for the large read-only objects, kept within a memory budget; cope_eval
never imports streamlit). Each is keyed by what changes it: a golden set by its hash (immutable),
a run by its predictions version (``version``, ``Store.predictions_version``: every write of
its predictions raises it), so a run still scoring, or one whose errors were sent again, is read
again.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cope_eval.app import GoldenPage, RunErrors, run_errors
from cope_eval.app import f1_at_half as app_f1_at_half
from cope_eval.app import golden_page as _golden_page
from cope_eval.insight import AgreementReport, run_agreement
from cope_eval.store import ItemLookup, run_results, run_scores, score_columns
from pages._common import store_at
from pages._shared_cache import shared


@shared()
def golden_lookup(private_dir: str, golden_hash: str) -> ItemLookup:
    """A stored set's text, image and video, kept once (read-only, Arrow) for looking up a page of
    items at a time (immutable: keyed by hash)."""
    return store_at(private_dir).golden_lookup(golden_hash, ["text", "image", "video", "video_digest"])


def item_texts(private_dir: str, golden_hash: str, item_ids) -> pd.DataFrame:
    """The items of ``item_ids`` (id, text, image, video), from the set's ``golden_lookup``: the few a
    table shows, never the whole set (a million texts pickled and copied on every rerun)."""
    return golden_lookup(private_dir, golden_hash).rows(list(item_ids))


@st.cache_data(show_spinner=False, max_entries=8)
def golden_summary(private_dir: str, golden_hash: str) -> pd.DataFrame:
    """A stored set's label, category and split columns only (immutable: keyed by hash)."""
    return store_at(private_dir).golden_columns(golden_hash, only=["label", "category", "split"])


@st.cache_data(show_spinner=False, max_entries=16)
def golden_page(private_dir: str, golden_hash: str, page: int, search: str, label: int | None,
                category: str | None) -> GoldenPage:
    """One page of a stored set's matching items (``cope_eval.app.golden_page``): a page, never the set."""
    return _golden_page(store_at(private_dir), golden_hash, page, search=search, label=label, category=category)


@shared()
def scores(private_dir: str, run_id: str, version: int) -> pd.DataFrame:
    """``run_scores``: a run's results on its set's dev split (every item when it has none), without
    text or raw replies, keyed by its predictions ``version``. A resource, not
    data: Compare, Evaluate's predictions and Insight's triage share the one frame (pickling a million
    rows on every rerun was most of a threshold move), so callers read it and never change it."""
    return run_scores(store_at(private_dir), run_id, items_of=lambda golden_hash: _set_columns(private_dir, golden_hash))


@shared()
def _set_columns(private_dir: str, golden_hash: str) -> pd.DataFrame:
    """A set's ``score_columns``, read once for every run of it (read-only, shared)."""
    return score_columns(store_at(private_dir), golden_hash)


@st.cache_data(show_spinner=False, max_entries=64)
def f1_at_half(private_dir: str, run_id: str, version: int) -> float:
    """``f1_at_half`` of a run, kept as one number (keyed by its predictions ``version``)."""
    return app_f1_at_half(store_at(private_dir), run_id)


@st.cache_data(show_spinner=False, max_entries=8)
def test_results(private_dir: str, run_id: str, version: int) -> pd.DataFrame:
    """A run's results frame on its test split (keyed by its predictions ``version``), for a page
    that has recorded the reveal (pages/_test_reveal.py): reading it records nothing."""
    return run_results(store_at(private_dir), run_id, split="test")


@st.cache_data(show_spinner=False, max_entries=16)
def errors(private_dir: str, run_id: str, version: int) -> RunErrors:
    """A run's errors by reason, keyed by its predictions ``version``: a page that polls every
    second reads the store only when a write moves it (a resend whose items fail again, for other
    reasons, keeps both counts)."""
    return run_errors(store_at(private_dir), run_id)


@shared("Comparing the runs' decisions…")
def agreement(private_dir: str, run_ids: tuple[str, ...], versions: tuple[int, ...]) -> AgreementReport:
    """``run_agreement`` of the runs, kept (read-only) until one of their predictions ``versions``
    moves: redrawing the tab reads no run again (a million items: 4.5 s each time)."""
    return run_agreement(store_at(private_dir), list(run_ids))


def run_versions(store, run_ids) -> tuple[int, ...]:
    """The runs' predictions versions (``Store.predictions_version``), in order: the key of a cache
    of what those runs' predictions give."""
    return tuple(store.predictions_version(run_id) for run_id in run_ids)


def study_versions(store, study_id: str) -> tuple[int, ...]:
    """The predictions versions of every run a study's report reads (its base run, an attribution's
    run A, its variants), to key the report: a completed study stays completed when one of those
    runs has its errors sent again, but its report changes."""
    study = store.study(study_id)
    return run_versions(store, [study.base_run_id, *([study.params["run_a"]] if "run_a" in study.params else []),
                                *(member.run_id for member in study.runs)])
