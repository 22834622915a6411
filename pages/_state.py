"""Every session-state key the pages use, initialised in one place.

Session state holds selections and ids only; data of record lives in the workspace store.
Widget keys are listed here too, so tests can find widgets by the same names.
"""

import streamlit as st

# -- sidebar: the model server for this session (the API key lives in memory only) --------
SERVER_URL = "server_url"
SERVER_MODEL = "server_model"
SERVER_API_KEY = "server_api_key"
SERVER_ERROR = "server_error"
SERVER_URL_INPUT = "server_url_input"
SERVER_KEY_INPUT = "server_key_input"
SERVER_MODEL_INPUT = "server_model_input"
SERVER_USE = "server_use"
SERVER_RESET = "server_reset"

# -- Sign-in (shared deployments; see _auth.py) --------------------------------------------
SIGN_IN = "sign_in"
"""Prefix of the sign-in buttons' keys: ``sign_in:<provider>`` (``sign_in:default`` for one provider)."""
SIGN_OUT = "sign_out"

# -- Policies --------------------------------------------------------------------------------
POLICY_SLUG = "policy_slug"
POLICY_CHOICE = "policy_choice"
"""The policy last picked: the picker's own key is dropped while another page shows, this one stays."""
POLICY_CREATING = "policy_creating"
"""True while the page shows the new-policy form (the "New policy" button) instead of the picker."""
POLICY_NEW = "policy_new"
POLICY_NEW_CANCEL = "policy_new_cancel"
POLICY_NEW_NAME = "policy_new_name"
POLICY_BASE = "policy_base"
POLICY_LOADED = "policy_loaded"
"""(slug, version id) whose text the editor was last filled with."""
POLICY_SEEN = "policy_seen"
"""The policy's newest version id when the editor was last filled: a newer one was saved meanwhile."""
POLICY_EDITOR = "policy_editor"
POLICY_NOTE = "policy_note"
POLICY_AUTHOR = "policy_author"
POLICY_SAVE = "policy_save"
POLICY_SAVED = "policy_saved"
"""(slug, version id, whether it existed) of the version just saved: selected and announced on
the next rerun."""
POLICY_DIFF_OLD = "policy_diff_old"
POLICY_DIFF_NEW = "policy_diff_new"
POLICY_DRAFT_SAVE = "policy_draft_save"
POLICY_DRAFT_DISCARD = "policy_draft_discard"

# -- Golden sets -----------------------------------------------------------------------------
GOLDEN_UPLOAD = "golden_upload"
GOLDEN_FILE = "golden_file"
GOLDEN_SAVE = "golden_save"
GOLDEN_HASH = "golden_hash"
GOLDEN_PENDING = "golden_pending"
"""(hash, message): the set to select and what to say on the next rerun, after a save or a correction."""
GOLDEN_SEARCH = "golden_search"
GOLDEN_LABEL_FILTER = "golden_label_filter"
GOLDEN_CATEGORY_FILTER = "golden_category_filter"
GOLDEN_PAGE = "golden_page"
GOLDEN_VIDEO_ITEM = "golden_video_item"
RELABEL_ITEM = "relabel_item"
RELABEL_LABEL = "relabel_label"
RELABEL_REASON = "relabel_reason"
RELABEL_AUTHOR = "relabel_author"
RELABEL_SAVE = "relabel_save"
ALL = "(all)"

# -- Golden sets: import step (pages/_golden_import.py) --------------------------------------
GOLDEN_IMPORT_FILE = "golden_import_file"
"""The file the import controls were last set up for: a new file resets them to what is detected."""
GOLDEN_IMPORT_DELIMITER = "golden_import_delimiter"
"""A delimiter, or ``app.AUTO``: what is sniffed."""
GOLDEN_IMPORT_ENCODING = "golden_import_encoding"
"""An encoding, or ``app.AUTO``: what is detected."""
GOLDEN_IMPORT_COLUMN = "golden_import_column"
"""Prefix of the column pickers' keys: ``golden_import_column:<role>`` (``app.IMPORT_ROLES``)."""
GOLDEN_IMPORT_RULE = "golden_import_rule"
GOLDEN_IMPORT_ONES = "golden_import_ones"
GOLDEN_IMPORT_ZEROS = "golden_import_zeros"
GOLDEN_IMPORT_THRESHOLD = "golden_import_threshold"
GOLDEN_IMPORT_FIX = "golden_import_fix"

# -- Evaluate --------------------------------------------------------------------------------
EVAL_POLICY = "eval_policy"
EVAL_VERSIONS = "eval_versions"
EVAL_GOLDEN = "eval_golden"
EVAL_TEMPLATE = "eval_template"
EVAL_ANSWER_MODE = "eval_answer_mode"
EVAL_CONCURRENCY = "eval_concurrency"
EVAL_START = "eval_start"
EVAL_RUN = "eval_run"
"""The "Follow run" picker. Its key is dropped on other pages and the browser may send back a stale
choice: ``EVAL_FOLLOW`` is the run followed, and the picker is set from it on every run."""
EVAL_FOLLOW = "eval_follow"
"""The run Evaluate follows: the run this session started, from the script run of its Start on, or
the one picked. None in a new session until ``app.run_to_follow`` names one (then it stays)."""
EVAL_STARTED = "eval_started"
"""Ids of the runs this session started, newest first: "My runs" with sign-in off."""
EVAL_SCOPE = "eval_scope"
"""The picker lists ``app.MY_RUNS`` or ``app.EVERYONES_RUNS`` (default: mine when signed in)."""
EVAL_CANCEL = "eval_cancel"
EVAL_RESUME = "eval_resume"
EVAL_SNAPSHOT = "eval_snapshot"
"""While the followed run scores: {"run": id, "version": its predictions version when the browser was
first drawn, or asked again}. The browser shows that snapshot until the run stops."""
EVAL_RETAKE = "eval_retake"
CHECK_TEXT = "check_text"
CHECK_UPLOAD = "check_upload"
CHECK_BUTTON = "check_button"

# -- Compare ---------------------------------------------------------------------------------
COMPARE_RUNS = "compare_runs"
COMPARE_PAIR = "compare_pair"
"""The runs last compared. Streamlit drops the picker's key on pages that do not draw it: back on
Compare, they are compared again while the last of them is still the current run."""
COMPARE_THRESHOLD = "compare_threshold"
"""The threshold slider. Streamlit drops a widget's key on pages that do not draw it: read
``COMPARE_CHOICE``, which outlives a page switch."""
COMPARE_CHOICE = "compare_choice"
"""How Compare's threshold was set, for Export and for the slider on return: a dict ``value``,
``rule`` (``max_f1``, ``min_precision``, ``min_recall``, ``transfer``; None when set on the slider),
``target`` (the precision or recall asked for, else None) and ``run_id`` (the run the rule picked
on). A ``transfer`` (the "Carry a threshold" tab) adds ``from_run``, ``keep``, ``threshold_a`` and
``allow_different``: ``export.TransferFrom``'s fields."""
COMPARE_CURVES = "compare_curves"
"""The open tab of the charts (metrics by threshold, PR, ROC, calibration, confusion matrix); only it is
drawn (``_tabs.draw_open``)."""
COMPARE_DETAIL = "compare_detail"
"""The open tab of what changed, fairness and carrying a threshold; only it is drawn."""
COMPARE_FOCUS = "compare_focus"
TARGET_PRECISION = "target_precision"
TARGET_RECALL = "target_recall"
PICK_F1 = "pick_f1"
PICK_PRECISION = "pick_precision"
PICK_RECALL = "pick_recall"
PICK_NOTE = "pick_note"
FLIPS_OUTCOME = "flips_outcome"
FLIPS_PAGE = "flips_page"
FAIRNESS_BY = "fairness_by"
FAIRNESS_USE_CUT = "fairness_use_cut"
FAIRNESS_CUT = "fairness_cut"
FAIRNESS_MIN_ITEMS = "fairness_min_items"
FAIRNESS_RUN = "fairness_run"
FAIRNESS_PAGE = "fairness_page"
TRANSFER_KEEP = "transfer_keep"
TRANSFER_AT = "transfer_at"
TRANSFER_ALLOW = "transfer_allow"
TRANSFER_FIND = "transfer_find"
TRANSFER_ASKED = "transfer_asked"
"""The choices of the last "Find B's threshold" press (runs, keep, A's threshold, allow): the
transfer shown, until another pair of runs is picked."""
TRANSFER_USE = "transfer_use"
REVEAL_TEST = "reveal_test"
SPLIT_FRACTION = "split_fraction"
SPLIT_SEED = "split_seed"
SPLIT_SAVE = "split_save"
REVEALED = "revealed"
"""Ids of the runs whose test-split figures this session revealed (each reveal recorded once)."""

# -- Predictions browser (pages/_predictions.py, on the Evaluate page) ------------------------
PREDICTIONS_THRESHOLD = "predictions_threshold"
"""The browser's threshold input. Its key is dropped on other pages: ``PREDICTIONS_VALUE`` outlives that."""
PREDICTIONS_VALUE = "predictions_value"
"""The browser's threshold: the Compare page's (``COMPARE_CHOICE``) until one is typed here."""
PREDICTIONS_FOLLOWS = "predictions_follows"
"""The Compare threshold ``PREDICTIONS_VALUE`` last took: when Compare's changes, the browser takes the new one."""
PREDICTIONS_OUTCOME = "predictions_outcome"
PREDICTIONS_CATEGORY = "predictions_category"
PREDICTIONS_SEARCH = "predictions_search"
PREDICTIONS_SORT = "predictions_sort"
PREDICTIONS_PAGE = "predictions_page"
PREDICTIONS_VIDEO_ITEM = "predictions_video_item"
PREDICTIONS_DOWNLOAD = "predictions_download"

# -- Export ----------------------------------------------------------------------------------
EXPORT_RUN = "export_run"
EXPORT_MODE = "export_mode"
EXPORT_VALUE = "export_value"
EXPORT_DEST = "export_dest"
EXPORT_WRITE = "export_write"
EXPORT_DOWNLOAD = "export_download"
EXPORT_PARTIAL = "export_partial"
"""The runs still scoring whose bundle this session asked for from the answers so far."""
EXPORT_BUILD_PARTIAL = "export_build_partial"

# -- Insight: error triage (pages/_insight_triage.py), and its gap checklist on Policies ------
TRIAGE_RUN = "triage_run"
TRIAGE_MIN_CONFIDENCE = "triage_min_confidence"
TRIAGE_PAGE = "triage_page"
"""The page of the disagreements table shown (1-based)."""
TRIAGE_ITEM = "triage_item"
TRIAGE_TAG = "triage_tag"
TRIAGE_NOTE = "triage_note"
TRIAGE_AUTHOR = "triage_author"
TRIAGE_SAVE = "triage_save"
TRIAGE_CLEAR = "triage_clear"
TRIAGE_SEND = "triage_send"
TRIAGE_PENDING = "triage_pending"
"""What to say on the next rerun after a tag was saved or label errors were sent (and clear the note)."""
GAP_DONE = "gap_done"
"""Prefix of the checklist's checkboxes: ``gap_done:<tag id>``."""

# -- Insight: clause ablation and change attribution (pages/_insight_ablation.py, _insight_attribution.py)
ABLATION_RUN = "ablation_run"
ABLATION_CLAUSES = "ablation_clauses"
ABLATION_ITEMS = "ablation_items"
ABLATION_LIMIT = "ablation_limit"
ABLATION_START = "ablation_start"
ABLATION_STUDY = "ablation_study"
ABLATION_RESUME = "ablation_resume"
ABLATION_CANCEL = "ablation_cancel"
ABLATION_CLAUSE = "ablation_clause"
"""The clause whose decided items are shown."""
ATTRIBUTION_RUN_B = "attribution_run_b"
ATTRIBUTION_RUN_A = "attribution_run_a"
ATTRIBUTION_ITEMS = "attribution_items"
ATTRIBUTION_LIMIT = "attribution_limit"
ATTRIBUTION_START = "attribution_start"
ATTRIBUTION_STUDY = "attribution_study"
ATTRIBUTION_RESUME = "attribution_resume"
ATTRIBUTION_CANCEL = "attribution_cancel"
ATTRIBUTION_HUNK = "attribution_hunk"
ATTRIBUTION_TOP = "attribution_top"

# -- Insight's tabs (pages/insight.py) -------------------------------------------------------
INSIGHT_TAB = "insight_tab"
"""The open tab's label; only that tab is drawn (``_tabs.draw_open``)."""

# -- Insight: steerability probes and agreement across models (pages/_insight_probes.py, _insight_agreement.py)
PROBES_RUN = "probes_run"
PROBES_ITEMS = "probes_items"
PROBES_LIMIT = "probes_limit"
PROBES_SEED = "probes_seed"
PROBES_START = "probes_start"
PROBES_STUDY = "probes_study"
PROBES_RESUME = "probes_resume"
PROBES_CANCEL = "probes_cancel"
PROBES_SHOW = "probes_show"
"""Which probed items the table lists (``probes.SHOWN_ITEMS``)."""
AGREEMENT_GROUP = "agreement_group"
"""(policy version id, golden hash) whose runs are compared."""
AGREEMENT_RUNS = "agreement_runs"

# -- Insight: suggested edits (pages/_insight_suggest.py) ------------------------------------
SUGGEST_RUN = "suggest_run"
SUGGEST_MIN_CONFIDENCE = "suggest_min_confidence"
SUGGEST_N = "suggest_n"
SUGGEST_OTHER = "suggest_other"
"""True: the chat model is another server's (``SUGGEST_URL``, ``SUGGEST_MODEL``), not the session's."""
SUGGEST_URL = "suggest_url"
SUGGEST_MODEL = "suggest_model"
SUGGEST_KEY = "suggest_key"
"""The other chat server's API key: a password field, in session memory only; never shown, never stored."""
SUGGEST_ASK = "suggest_ask"
SUGGEST_SCORE = "suggest_score"
"""Prefix of each suggestion's widgets (``suggest_score:<suggestion id>``); so are the next five."""
SUGGEST_RESUME = "suggest_resume"
SUGGEST_CANCEL = "suggest_cancel"
SUGGEST_SAVE = "suggest_save"
SUGGEST_REPLACE = "suggest_replace"
SUGGEST_PAGE = "suggest_page"

# -- Model card table (pages/suite.py, _suite_progress.py, _suite_table.py) -----------------
SUITE_AREAS = "suite_areas"
SUITE_LIMIT = "suite_limit"
SUITE_THRESHOLD_MODE = "suite_threshold_mode"
"""``own`` (each run's own threshold) or ``given`` (``SUITE_THRESHOLD`` for every run)."""
SUITE_THRESHOLD = "suite_threshold"
SUITE_TEMPLATE = "suite_template"
SUITE_ANSWER_MODE = "suite_answer_mode"
SUITE_OWN_GOLDEN = "suite_own_golden"
SUITE_USE_B = "suite_use_b"
SUITE_B_URL = "suite_b_url"
SUITE_B_MODEL = "suite_b_model"
SUITE_B_TEMPLATE = "suite_b_template"
SUITE_B_ANSWER_MODE = "suite_b_answer_mode"
SUITE_B_KEY = "suite_b_key"
"""B's API key: a password field, in session memory only; never shown, never stored."""
SUITE_START = "suite_start"
SUITE_CONTINUE = "suite_continue"
SUITE_CANCEL = "suite_cancel"
SUITE_RUNS = "suite_runs"
"""The suite this session last started: its ``insight.SuiteRun``s (side, area, run id). No widget's
key, so it outlives a page switch; a new session (reload, restart) starts without one, while the
runs themselves keep scoring and stay in the store."""
SUITE_SIDES = "suite_sides"
"""What each side of ``SUITE_RUNS`` is (model, server, template, answer mode); never a key."""
SUITE_CSV = "suite_csv"
SUITE_MARKDOWN = "suite_markdown"

# -- The current selection, carried across pages -------------------------------------------
# The policy, golden set and run last saved, loaded, finished or picked: the next page's pickers open
# on them (``prefer``), not on the first in their list. Streamlit drops a picker's own key while
# another page shows; these keys are no widget's, so they stay.
CURRENT_POLICY = POLICY_CHOICE
"""The policy slug (the Policies page sets it when a policy is picked or a version saved)."""
CURRENT_GOLDEN = "current_golden"
"""The golden set's hash."""
CURRENT_RUN = "current_run"
"""The run's id."""
HOME_NEXT = "home_next"
"""The first page's button that goes where its "Next step" says, opening on what it names."""
HOME_RESUME_ALL = "home_resume_all"
"""The first page's "Resume all" button for the interrupted runs."""
HOME_RESUMED = "home_resumed"
"""What the last "Resume all" did (``cope_eval.app.Resumed`` per run), shown until the next one."""
HOME_FOLLOW = "home_follow"
"""The first page's button that follows the runs "Resume all" resumed on Evaluate."""

_DEFAULTS = {
    SERVER_URL: None, SERVER_MODEL: None, SERVER_API_KEY: None, SERVER_ERROR: None,
    POLICY_CHOICE: None, POLICY_CREATING: False, CURRENT_GOLDEN: None, CURRENT_RUN: None,
    POLICY_LOADED: None, POLICY_SAVED: None, GOLDEN_PENDING: None, EVAL_RUN: None, EVAL_FOLLOW: None, EVAL_STARTED: [], EVAL_SNAPSHOT: None, PICK_NOTE: None,
    HOME_RESUMED: [],
    EVAL_TEMPLATE: "cope-b", EVAL_ANSWER_MODE: "logprobs", EVAL_CONCURRENCY: None,
    GOLDEN_SEARCH: "", GOLDEN_LABEL_FILTER: ALL, GOLDEN_PAGE: 1,
    COMPARE_THRESHOLD: 0.5, COMPARE_CHOICE: {"value": 0.5, "rule": None, "target": None, "run_id": None},
    COMPARE_PAIR: [],
    TARGET_PRECISION: 0.9, TARGET_RECALL: 0.9, FLIPS_PAGE: 1,
    FAIRNESS_BY: [], FAIRNESS_USE_CUT: False, FAIRNESS_CUT: 0.5, FAIRNESS_MIN_ITEMS: 30, FAIRNESS_PAGE: 1,
    TRANSFER_KEEP: "precision", TRANSFER_AT: "own", TRANSFER_ALLOW: False, TRANSFER_ASKED: None, REVEALED: [],
    SPLIT_FRACTION: 0.3, SPLIT_SEED: 0,
    EXPORT_VALUE: 0.9, EXPORT_PARTIAL: [],
    PROBES_ITEMS: "sample", PROBES_LIMIT: 100, PROBES_SEED: 0, PROBES_SHOW: "not flipped",
    TRIAGE_MIN_CONFIDENCE: 0.8, TRIAGE_PENDING: None, TRIAGE_PAGE: 1,
    SUGGEST_MIN_CONFIDENCE: 0.8, SUGGEST_N: 1, SUGGEST_OTHER: False, SUGGEST_URL: "", SUGGEST_MODEL: "",
    SUGGEST_KEY: "",
    ABLATION_ITEMS: "all", ABLATION_LIMIT: 50, ATTRIBUTION_ITEMS: "all", ATTRIBUTION_LIMIT: 50, ATTRIBUTION_TOP: 10,
    GOLDEN_IMPORT_FILE: None, GOLDEN_IMPORT_DELIMITER: "auto", GOLDEN_IMPORT_ENCODING: "auto",
    GOLDEN_IMPORT_RULE: "as is", GOLDEN_IMPORT_THRESHOLD: 0.5,
    SUITE_AREAS: None, SUITE_LIMIT: None, SUITE_THRESHOLD_MODE: "own", SUITE_THRESHOLD: 0.5,
    SUITE_TEMPLATE: "cope-b", SUITE_ANSWER_MODE: "logprobs", SUITE_OWN_GOLDEN: "", SUITE_USE_B: False,
    SUITE_B_TEMPLATE: "same as A", SUITE_B_ANSWER_MODE: "same as A", SUITE_RUNS: None, SUITE_SIDES: {},
    PREDICTIONS_VALUE: 0.5, PREDICTIONS_FOLLOWS: None, PREDICTIONS_SORT: "score_desc", PREDICTIONS_PAGE: 1,
}


def init_session_state() -> None:
    for key, value in _DEFAULTS.items():
        st.session_state.setdefault(key, value)


def keep_valid(key: str, options, default=None) -> None:
    """Before a data-driven widget is drawn: drop a remembered choice that is no longer offered."""
    options = list(options)
    if st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else (options[0] if options else None)


def carry(current_key: str, value) -> None:
    """Make ``value`` (a policy slug, golden hash or run id; None is ignored) the current selection
    that other pages open on (``CURRENT_POLICY``, ``CURRENT_GOLDEN``, ``CURRENT_RUN``)."""
    if value is not None:
        st.session_state[current_key] = value


def open_on(key: str, current_key: str) -> None:
    """Before a picker whose choice is gone (a page switch drops a widget's key) or unset: choose the
    current selection. ``keep_valid`` then drops it if the picker does not offer it."""
    if st.session_state.get(key) is None:
        st.session_state[key] = st.session_state.get(current_key)


def prefer(key: str, current_key: str, options, default=None) -> None:
    """``keep_valid`` for a picker that opens on the current selection when it has no choice of its own."""
    open_on(key, current_key)
    keep_valid(key, options, default)


def redraw_choice(key: str) -> None:
    """Before a keyed selectbox whose option labels change while the choice stays (a study's status):
    set the choice again. The browser keeps showing the label an option was chosen under until the
    script sets the value, so "pending" would stay above a finished study's report."""
    st.session_state[key] = st.session_state.get(key)


def require_app() -> None:
    """Call first on every page. Pages run through app.py's st.navigation. Because this folder is
    named ``pages/``, Streamlit runs a page file on its own when a fresh server's first request is
    a deep link (its old multipage mode, until st.navigation has run once): run the same address
    through the app (``_url_state.run_through_app``), so a tab reconnecting after a restart keeps
    its page and its runs.

    When sign-in is on, a page shows nothing but the sign-in screen until someone is signed in,
    however it was reached."""
    from pages import _auth, _url_state  # here, not at the top: both import this module for its keys

    _auth.require_sign_in()
    if SERVER_URL not in st.session_state:
        _url_state.run_through_app()
