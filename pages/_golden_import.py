"""The Golden sets page's import step for one file: delimiter and encoding, which column plays
which role, the label rule; every bad row shown before anything is saved, with fixing the mapping
as the first action and saving the valid rows (saying how many are left out) as the second."""

from pathlib import Path

import streamlit as st

from cope_eval.app import (
    AUTO, BY_NAME, FIX_LABELS, IMPORT_REMEDIES, IMPORT_ROLES, LABEL_RULES, PREVIEW_ROWS, delimiter_label,
    encoding_label, escape_markdown,
    chosen, golden_preview, label_rule_from, label_values, problems_table, save_label, suggested_fix
)
from cope_eval.errors import CopeEvalError
from cope_eval.golden import (
    DELIMITERS, ENCODINGS, ColumnSpec, LabelRule, add_golden_set, load_golden_set, preview_file, with_thumbnails
)
from cope_eval.records import short_id
from pages import _common, _state

COLUMNS = {"thumbnail": _common.PREVIEW_COLUMN,
           "text": st.column_config.TextColumn(width="large")}


@st.cache_data(show_spinner=False, max_entries=4)
def _preview(key: str, name: str, _source, delimiter: str | None, encoding: str | None):
    """The first ``PREVIEW_ROWS`` records only: a million-row file is read whole by ``_load`` alone."""
    return preview_file(_source, filename=name, delimiter=delimiter, encoding=encoding, rows=PREVIEW_ROWS)


@st.cache_data(show_spinner=False, max_entries=8)
def _load(key: str, name: str, _source, root: str, spec: tuple, delimiter, encoding, rule: LabelRule):
    """Load and check a file once per upload (``key``) and settings; bad rows are kept aside, not raised."""
    return load_golden_set(_source, Path(root), filename=name, drop_bad_rows=True, spec=ColumnSpec(**dict(spec)),
                           delimiter=delimiter, encoding=encoding, label_rule=rule)


def _error(error: CopeEvalError) -> None:
    st.error(escape_markdown(error.with_remedies(IMPORT_REMEDIES)), icon=":material/error:")


def _column_key(role: str) -> str:
    return f"{_state.GOLDEN_IMPORT_COLUMN}:{role}"


def _apply_fix(kind: str) -> None:
    st.session_state[_state.GOLDEN_IMPORT_RULE] = kind
    if kind == "threshold":
        st.session_state[_state.GOLDEN_IMPORT_THRESHOLD] = 0.5


def _fix_button(problems, label_column) -> bool:
    """The primary action when rows are rejected: the label rule that keeps them, if one would."""
    fix = suggested_fix(problems, label_column)
    if fix is not None:
        st.button(FIX_LABELS[fix], key=_state.GOLDEN_IMPORT_FIX, type="primary", on_click=_apply_fix, args=(fix,))
    return fix is not None


def draw(key: str, name: str, source, origin: str, root: Path, store) -> None:
    ss = st.session_state
    if ss[_state.GOLDEN_IMPORT_FILE] != key:  # a new file: start from what is detected
        ss.update({_state.GOLDEN_IMPORT_FILE: key, _state.GOLDEN_IMPORT_DELIMITER: AUTO,
                   _state.GOLDEN_IMPORT_ENCODING: AUTO, _state.GOLDEN_IMPORT_RULE: "as is",
                   _state.GOLDEN_IMPORT_THRESHOLD: 0.5, _state.GOLDEN_IMPORT_ONES: [], _state.GOLDEN_IMPORT_ZEROS: []})
        for role in IMPORT_ROLES:
            ss.pop(_column_key(role), None)
    delimiter, encoding = chosen(ss[_state.GOLDEN_IMPORT_DELIMITER]), chosen(ss[_state.GOLDEN_IMPORT_ENCODING])
    try:
        preview = _preview(key, name, source, delimiter, encoding)
    except CopeEvalError as error:
        preview = None
        _error(error)
    st.subheader("Import settings")
    left, right = st.columns(2)
    left.selectbox("Delimiter", [AUTO, *DELIMITERS], key=_state.GOLDEN_IMPORT_DELIMITER,
                   format_func=lambda c: delimiter_label(c, preview))
    right.selectbox("Encoding", [AUTO, *ENCODINGS], key=_state.GOLDEN_IMPORT_ENCODING,
                    format_func=lambda c: encoding_label(c, preview))
    if preview is None:
        return
    columns = [BY_NAME, *map(str, preview.frame.columns)]
    st.caption("The file as read (first 5 rows); choose which column is which")
    st.dataframe(preview.frame.head(5), hide_index=True, key="golden_import_raw")
    pickers = st.columns(3)
    for i, role in enumerate(IMPORT_ROLES):
        if ss.get(_column_key(role)) not in columns:
            ss[_column_key(role)] = preview.guessed[role] or BY_NAME
        pickers[i % 3].selectbox(f"{role.capitalize()} column", columns, key=_column_key(role))
    label_column = chosen(ss[_column_key("label")]) or preview.guessed["label"]
    kind = st.radio("Label rule", list(LABEL_RULES), key=_state.GOLDEN_IMPORT_RULE, format_func=LABEL_RULES.get,
                    horizontal=True)
    if kind == "map":
        values, ones_col, zeros_col = label_values(preview, label_column), *st.columns(2)
        for picked in (_state.GOLDEN_IMPORT_ONES, _state.GOLDEN_IMPORT_ZEROS):
            ss[picked] = [v for v in ss.get(picked, []) if v in values]
        ones = ones_col.multiselect("Values that mean 1", values, key=_state.GOLDEN_IMPORT_ONES)
        zeros = zeros_col.multiselect("Values that mean 0", values, key=_state.GOLDEN_IMPORT_ZEROS)
    elif kind == "threshold":
        st.number_input("1 when value ≥", key=_state.GOLDEN_IMPORT_THRESHOLD, step=0.05, format="%.2f")
    try:
        rule = label_rule_from(kind, ones=ones if kind == "map" else (), zeros=zeros if kind == "map" else (),
                               threshold=ss[_state.GOLDEN_IMPORT_THRESHOLD])
        spec = tuple((role, chosen(ss[_column_key(role)])) for role in IMPORT_ROLES)
        loaded = _load(key, name, source, str(root), spec, delimiter, encoding, rule)
    except CopeEvalError as error:
        _error(error)
        problems = getattr(error, "problems", [])
        if any(p.row is not None for p in problems):
            st.dataframe(problems_table(problems), hide_index=True, key="golden_problems")
        _fix_button(problems, label_column)
        return
    _results(loaded, label_column, origin, root, store)


def _results(loaded, label_column, origin: str, root: Path, store) -> None:
    golden = loaded.golden_set
    if loaded.problems:
        st.error(f"{len(loaded.problems)} problem(s) in {len({p.row for p in loaded.problems})} row(s). Change the "
                 "columns or the label rule above to keep them; saving now leaves them out.", icon=":material/error:")
        st.dataframe(problems_table(loaded.problems), hide_index=True, key="golden_problems")
    if loaded.warnings:
        st.warning(f"{len(loaded.warnings)} warning(s): accepted, but worth a look.")
        st.dataframe(problems_table(loaded.warnings), hide_index=True, key="golden_warnings")
    st.caption(f"{len(golden):,} valid items · preview of the first 50 · read with "
               f"{escape_markdown(loaded.rule.describe())}")
    st.dataframe(with_thumbnails(golden_preview(golden), root), hide_index=True, column_config=COLUMNS, placeholder="")
    fixing = bool(loaded.problems) and _fix_button(loaded.problems, label_column)
    if st.button(save_label(loaded), key=_state.GOLDEN_SAVE, type="secondary" if loaded.problems else "primary"):
        try:
            add_golden_set(store, loaded, origin=origin)
        except CopeEvalError as error:
            return _error(error)
        st.session_state[_state.GOLDEN_PENDING] = (golden.hash, f"Saved golden set {short_id(golden.hash)}.")
        st.rerun()
    if loaded.problems and not fixing:
        st.caption("No label rule would keep these rows: choose other columns above, or fix the file.")
