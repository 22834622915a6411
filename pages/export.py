"""Export: the version you trust as one bundle a reviewer can read and a team can ship (policy,
card with metrics and intervals, curves, predictions, Zentropi files), at a threshold you choose."""

from functools import partial
from pathlib import Path

import streamlit as st

from cope_eval.app import escape_markdown, files_table, scored_runs
from cope_eval.export import (
    DOWNLOAD_LIMIT_BYTES, EXPORTS_FOLDER, TransferFrom, export_command, extract_bundle, zip_bundle_apart,
)
from pages import _auth, _common, _export_choices, _state

_state.require_app()

MODES = {"run": "The run's own", "compare": "The Compare page's", "given": "Set by hand", "max_f1": "Highest F1",
         "min_precision": "Precision at least", "min_recall": "Recall at least"}


def _compare_choice(choice: dict, runs: dict) -> tuple[str, str | None]:
    """How the Compare page set its threshold, in its buttons' words, and the rule to pick it
    again for ``export`` (``build_bundle``'s ``pick``)."""
    if choice["rule"] is None:
        return "set on its slider", None
    if choice["rule"] == "transfer":
        source = runs.get(choice["from_run"])
        return f"keeps {source.name if source is not None else choice['from_run']}'s {choice['keep']}", None
    if choice["rule"] == "max_f1":
        words, pick = "Max F1", "max-f1"
    else:
        metric = choice["rule"].removeprefix("min_")
        words, pick = f"Reach {metric} {choice['target']:g}", f"{metric}>={choice['target']}"
    info = runs.get(choice["run_id"])
    return f"{words} on {info.name if info is not None else choice['run_id']}", pick


st.title("Export")
ws, store = _common.workspace(), _common.store()
runs = scored_runs(store)
if not runs:
    st.info("No scored runs yet: start one on the Evaluate page.")
    st.stop()
_state.prefer(_state.EXPORT_RUN, _state.CURRENT_RUN, list(runs))
run_id = st.selectbox("Run", list(runs), key=_state.EXPORT_RUN,
                      format_func=partial(_export_choices.run_label, runs))
_state.carry(_state.CURRENT_RUN, run_id)
scoring = _common.run_manager().status(runs[run_id].run) == "running"
if scoring and run_id not in st.session_state[_state.EXPORT_PARTIAL]:
    # Not built on every visit: each build is a look at the test split, and the bundle is out of date the
    # second after (benchmark 14: six analysts' visits during their runs kept the app rebuilding bundles).
    stored, errors, _ = store.prediction_counts(run_id)
    failed = f" ({errors:,} more failed)" if errors else ""
    st.info(escape_markdown(f"Run {run_id} is still scoring: {stored - errors:,} of {runs[run_id].run.n_items:,} "
                            f"items have an answer so far{failed}. Its bundle is built when you open this page "
                            "after it completes. A bundle built now covers the answers so far (its card says how "
                            "many items have none), and shows the test split's figures, which counts as a look at "
                            "them."), icon=":material/hourglass_top:")
    st.button("Build from the answers so far", key=_state.EXPORT_BUILD_PARTIAL, on_click=_export_choices.build_partial,
              args=(run_id,))
    st.stop()
mode_col, value_col = st.columns([3, 1], vertical_alignment="bottom")
mode = mode_col.radio("Threshold", list(MODES), format_func=MODES.get, key=_state.EXPORT_MODE, horizontal=True)
threshold = pick = transfer_from = None
if mode == "compare":
    compare = st.session_state[_state.COMPARE_CHOICE]
    how, rule = _compare_choice(compare, runs)
    if compare["rule"] == "transfer" and compare["run_id"] == run_id:  # the card gives the transfer's rationale
        transfer_from = TransferFrom(compare["from_run"], compare["keep"], compare["threshold_a"],
                                     compare["allow_different"])
    elif rule is not None and compare["run_id"] == run_id:
        pick = rule  # the card then says how it was picked, not "set by hand"
    else:
        threshold = compare["value"]
    value_col.text(f"{compare['value']:.4f}")
elif mode == "given":
    threshold = value_col.number_input("Threshold", 0.0, 1.0, step=0.01, format="%.4f", key=_state.EXPORT_VALUE)
elif mode in ("min_precision", "min_recall"):
    target = value_col.number_input("Target", 0.0, 1.0, step=0.05, key=_state.EXPORT_VALUE)
    pick = f"{mode.removeprefix('min_')}>={target}"
elif mode == "max_f1":
    pick = "max-f1"

# The zip is on disk, keyed by what decides it: built (and one look at the test split recorded) once per
# choice, found again on every re-render; never held in the app's memory.
with st.spinner("Building the export bundle…"):
    bundle = _common.attempt(zip_bundle_apart, store, run_id, ws.private_dir / EXPORTS_FOLDER, workspace_root=ws.root,
                             threshold=threshold, pick=pick, transfer_from=transfer_from,
                             who=_auth.current_author() or "")
if bundle is None:
    st.stop()
name = bundle.name
metrics, intervals = bundle.card["metrics"], bundle.card["confidence_intervals"]["intervals"]
described = f"the Compare page's ({how})" if mode == "compare" else bundle.threshold.description
st.caption(escape_markdown(f"Threshold {bundle.threshold.value:.4f}: {described}. {bundle.threshold.note}"))
if mode == "compare" and bundle.threshold.value != compare["value"]:
    st.warning(escape_markdown(f"The Compare page picked {compare['value']:.4f} on the results it had; on this "
                               f"run's results now, {how} picks {bundle.threshold.value:.4f}, the threshold "
                               "exported."))
for column, metric in zip(st.columns(4), ("precision", "recall", "f1", "accuracy")):
    ci = intervals[metric]
    column.metric(metric, f"{metrics[metric]:.3f}", help=f"95% interval {ci['low']:.3f} to {ci['high']:.3f}")
held_out = bundle.card["test_split"]
st.caption(escape_markdown(
    f"On the dev split. Test split ({held_out['items']:,} held-out items) at this threshold: "
    + ", ".join(f"{m} {held_out['metrics'][m]:.3f}" for m in ("precision", "recall", "f1"))
    + f"; looked at {held_out['looks_before_export']} time(s) before this export." if held_out["has_split"] else
    "The golden set has no test split: these figures are on the items the policy was tuned on."))
probe = bundle.card["steerability"]
st.caption(escape_markdown(
    f"Steerability probe {probe['study_id']}: inverting the policy flipped {probe['flip_rate']['estimate']:.0%} "
    f"of {probe['items']} decisions; a policy on an unrelated subject flagged "
    f"{probe['off_topic_flag_rate']['estimate']:.0%} of them." if probe["probed"] else
    f"Steerability: {probe['note']} (evidence that the model reads the policy at all)."))
for warning in bundle.warnings:
    st.warning(escape_markdown(warning))
st.dataframe(files_table(bundle.files), hide_index=True, key="export_files")

size = bundle.path.stat().st_size
if size <= DOWNLOAD_LIMIT_BYTES:  # read from disk when clicked, not kept between renders
    st.download_button("Download the bundle (.zip)", partial(Path.read_bytes, bundle.path), file_name=f"{name}.zip",
                       mime="application/zip", key=_state.EXPORT_DOWNLOAD, type="primary", icon=":material/download:")
else:  # served whole from the app's memory: too much for one download
    command = export_command(run_id, ws.root / "exports" / name, workspace_root=ws.root, threshold=threshold,
                             pick=pick, transfer_from=transfer_from)
    st.info(escape_markdown(f"The bundle's zip is {size / 1e6:,.0f} MB, too large to download through the app: it "
                            f"is at {bundle.path}. Write it to a folder below, or from a shell:")
            + f"\n\n`{command}`", icon=":material/folder_zip:")
dest = st.text_input("…or write it to a folder (a relative path is inside the workspace)", key=_state.EXPORT_DEST,
                     placeholder=f"exports/{name}") or f"exports/{name}"
if st.button("Write to folder", key=_state.EXPORT_WRITE, icon=":material/folder:"):
    written = _common.attempt(extract_bundle, bundle, ws.root / dest)
    if written is not None:
        st.success(escape_markdown(f"Wrote {len(written)} files to {ws.root / dest}."), icon=":material/check:")
