"""Compare's cached reads: the runs matched once (each run's scores are ``_cached.scores``), their
curves, a set's split sizes and a page of flips' content. Resources, not data: one shared, read-only
object per key (``pages/_shared_cache.py``, within the pages' memory budget), so a threshold move on
two million-item runs neither reads nor pickles a million rows again."""

import streamlit as st

from cope_eval.app import CompareBasis, compare_basis, compare_curves
from cope_eval.app import split_sizes as app_split_sizes
from pages._cached import golden_lookup, scores
from pages._common import store_at
from pages._shared_cache import shared


@shared("Matching the runs' items…")
def basis(private_dir: str, run_ids: tuple[str, ...], versions: tuple[int, ...],
          names: tuple[str, ...]) -> CompareBasis:
    """The runs' ``compare_basis`` (read-only, shared), so a threshold move never matches a million ids again."""
    return compare_basis({n: scores(private_dir, r, v) for n, r, v in zip(names, run_ids, versions)})


@shared()
def curves(private_dir: str, run_ids: tuple[str, ...], versions: tuple[int, ...], names: tuple[str, ...],
           hard: tuple[bool, ...]):
    """PR, ROC and reliability curves of runs on their shared items, and threshold sweeps (read-only)."""
    return compare_curves(basis(private_dir, run_ids, versions, names), hard_label=dict(zip(names, hard)))


@st.cache_data(show_spinner=False, max_entries=16)
def split_sizes(private_dir: str, golden_hash: str) -> tuple[int, int] | None:
    """(dev, test) items of a stored set, None without a split: its split column alone is read."""
    return app_split_sizes(store_at(private_dir).golden_columns(golden_hash, only=["split"]))


def golden_rows(private_dir: str, golden_hash: str):
    """A function from item ids to their id, text, image and video (``flips_page``'s ``items``):
    the content is read once per set and kept (read-only, in Arrow), never copied whole into a page."""
    return golden_lookup(private_dir, golden_hash).rows
