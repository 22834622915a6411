"""Compare's "Carry a threshold" tab: run B's threshold that keeps run A's precision, recall or
flag rate (two models, templates or quantisations on one policy version and golden set), what
else changes there with intervals, and a button that puts it on the page's slider, from where
Export takes it with its rationale (``cope-eval transfer`` and ``export --transfer-from``)."""

import streamlit as st

from cope_eval.app import escape_markdown, transfer_table
from cope_eval.export import transfer_runs
from cope_eval.metrics import KEEPS
from pages import _common, _state

AT = ("own", "slider")
NUMBERS = {c: st.column_config.NumberColumn(format="%.3f") for c in ("A", "B", "B - A")}


@st.cache_data(show_spinner="Carrying the threshold over…", max_entries=8)
def _transfer(private_dir: str, run_a: str, version_a: int, run_b: str, version_b: int, keep: str, threshold_a: float,
              allow_different: bool):
    """``transfer_runs``, once per choice (``version_*``: the runs' predictions versions)."""
    return transfer_runs(_common.store_at(private_dir), run_a, run_b, keep=keep, threshold_a=threshold_a,
                         allow_different=allow_different)


def _use(asked: dict, transfer) -> None:
    """Put B's threshold on the slider as Compare's choice; Export carries it over with its rationale."""
    st.session_state[_state.COMPARE_THRESHOLD] = transfer.threshold_b
    st.session_state[_state.COMPARE_CHOICE] = {
        "value": transfer.threshold_b, "rule": "transfer", "target": transfer.target, "run_id": asked["run_b"],
        "from_run": asked["run_a"], "keep": asked["keep"], "threshold_a": asked["threshold_a"],
        "allow_different": asked["allow_different"]}
    st.session_state[_state.PICK_NOTE] = f"{transfer.rationale} (threshold {transfer.threshold_b:.4f})"


def show(picked, *, threshold: float) -> None:
    """The tab for the runs ``picked`` (RunInfo, A first); ``threshold`` is the slider's."""
    if len(picked) < 2:
        st.info("Pick two runs of one policy version on one golden set by two models (or templates, or "
                "quantisations): this finds B's threshold that keeps A's precision, recall or flag rate.")
        return
    a, b = picked[0], picked[1]
    st.caption(escape_markdown(f"A = {a.name}: {a.run.template} on {a.run.model}. "
                               f"B = {b.name}: {b.run.template} on {b.run.model}."))
    keep = st.radio("Keep A's", KEEPS, horizontal=True, key=_state.TRANSFER_KEEP,
                    format_func=lambda k: k.replace("-", " "))
    at = st.radio("A's operating point", AT, horizontal=True, key=_state.TRANSFER_AT,
                  format_func={"own": f"at A's own threshold ({a.run.threshold:g})",
                               "slider": f"at the slider's threshold ({threshold:.4f})"}.get)
    allow = st.checkbox("Allow runs of different policy versions or golden sets (compared on the items both scored)",
                        key=_state.TRANSFER_ALLOW)
    asked = {"run_a": a.run.id, "version_a": a.version, "run_b": b.run.id, "version_b": b.version, "keep": keep,
             "threshold_a": a.run.threshold if at == "own" else threshold, "allow_different": allow}
    if st.button(f"Find {b.name}'s threshold", key=_state.TRANSFER_FIND, type="primary"):
        st.session_state[_state.TRANSFER_ASKED] = asked
    shown = st.session_state.get(_state.TRANSFER_ASKED)
    if shown is None or (shown["run_a"], shown["run_b"]) != (a.run.id, b.run.id):
        return
    if shown != asked:
        st.caption("The choices above changed: press the button again to carry them over.")
    transfer = _common.attempt(_transfer, str(_common.workspace().private_dir), **shown)
    if transfer is None:
        return
    found = f"B's threshold {transfer.threshold_b:.4f}" + ("" if transfer.reachable else
                                                          f": the closest, B never reaches A's {transfer.keep}")
    st.subheader(escape_markdown(found))
    st.write(escape_markdown(transfer.rationale))
    st.caption(escape_markdown(" ".join(s for s in (transfer.items, transfer.note) if s)))
    st.dataframe(transfer_table(transfer), key="transfer_changes", column_config=NUMBERS)
    if transfer.reachable:
        st.button("Use it on the slider (Export takes it with this rationale)", key=_state.TRANSFER_USE,
                  on_click=_use, args=(shown, transfer), icon=":material/tune:")
