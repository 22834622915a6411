"""What the Streamlit pages call: runs in the background of the app process, run and study
pickers, the tables and labels pages show, sign-in. Never imports streamlit."""

from ._adhoc import CHECK_UPLOAD_TYPES, check_item, policy_tokens
from ._auth import DEFAULT_PROVIDER, author_of, is_signed_in, sign_in_providers
from ._background import RunManager
from ._compare_view import (
    FLIP_FILTERS, CompareBasis, at_threshold, compare_basis, compare_curves, deltas_note, deltas_table, flip_labels,
    flips_page, pick_threshold, transfer_table
)
from ._fairness_view import FairnessView, fairness_view, group_columns, group_table
from ._golden_browse import GOLDEN_PAGE_SIZE, GoldenPage, golden_page
from ._golden_import import (
    AUTO, BY_NAME, FIX_LABELS, IMPORT_REMEDIES, IMPORT_ROLES, LABEL_RULES, PREVIEW_ROWS, chosen, delimiter_label,
    encoding_label, label_rule_from, label_values, left_out, save_label, suggested_fix
)
from ._launcher import launch_app
from ._links import LinkedRuns, link_value, linked_runs
from ._media import Playable, playable_video, video_items
from ._news import GoldenNews, golden_news, golden_notices, policy_news, sibling_note
from ._policy_editor import (
    NewerVersion, draft_base, draft_notice, draft_shown, editor_text, newer_version, opening_policy, save_edit,
    saved_message, token_caption
)
from ._predictions_view import (
    PREDICTION_OUTCOMES, SORTS, filter_predictions, outcome_counts, predictions_csv, predictions_page,
    matching_rows, prediction_rows, predictions_table, with_outcomes
)
from ._run_errors import RunErrors, run_errors
from ._run_picker import (
    EVERYONES_RUNS, MY_RUNS, RunInfo, agreement_groups, completed_runs, default_pair, group_labels, own_runs,
    run_to_follow, scored_runs
)
from ._run_setup import (
    RESUME_ALL, InterruptedRun, Resumed, interrupted_frame, interrupted_runs, resume_all, resume_run,
    run_statuses, run_view, runs_overview, start_runs
)
from ._selection import pair_ending_with
from ._study_progress import study_view
from ._suggest_view import (
    REPLACE_DRAFT, ChatChoice, changed_page, chat_endpoint, score_table, start_scoring, status_line,
    suggestion_diff, who_answers
)
from ._suite_view import (
    SAME_AS_A, SideB, area_size, continue_suite, cost_note, figures_frame, no_set_areas, own_golden, runs_frame,
    sample_areas, start_suite, suite_plan, suite_progress, suite_sides, suite_table
)
from ._study_start import start_study
from ._study_views import clause_table, hunk_table, signed_colours, study_choices, with_text
from ._views import (
    categories, escape_markdown, files_table, filter_items, golden_preview, golden_set_labels,
    label_balance, page_note, page_of, problems_table, split_sizes, upload_note, version_history
)
from ._workspace_summary import NextStep, RecentRun, ago, f1_at_half, next_step, recent_runs, recent_runs_frame, summarise

__all__ = [
    "LinkedRuns",
    "link_value",
    "linked_runs",
    "EVERYONES_RUNS",
    "MY_RUNS",
    "REPLACE_DRAFT",
    "ChatChoice",
    "changed_page",
    "chat_endpoint",
    "score_table",
    "start_scoring",
    "status_line",
    "suggestion_diff",
    "who_answers",
    "area_size",
    "AUTO",
    "CHECK_UPLOAD_TYPES",
    "BY_NAME",
    "continue_suite",
    "cost_note",
    "DEFAULT_PROVIDER",
    "figures_frame",
    "FIX_LABELS",
    "FairnessView",
    "FLIP_FILTERS",
    "IMPORT_REMEDIES",
    "IMPORT_ROLES",
    "GOLDEN_PAGE_SIZE",
    "GoldenPage",
    "golden_page",
    "PREVIEW_ROWS",
    "LABEL_RULES",
    "NewerVersion",
    "GoldenNews",
    "golden_news",
    "golden_notices",
    "policy_news",
    "sibling_note",
    "no_set_areas",
    "own_golden",
    "Playable",
    "NextStep",
    "PREDICTION_OUTCOMES",
    "RecentRun",
    "RunErrors",
    "RunInfo",
    "RunManager",
    "runs_frame",
    "SAME_AS_A",
    "sample_areas",
    "SideB",
    "SORTS",
    "ago",
    "agreement_groups",
    "at_threshold",
    "CompareBasis",
    "compare_basis",
    "compare_curves",
    "author_of",
    "categories",
    "check_item",
    "chosen",
    "clause_table",
    "completed_runs",
    "default_pair",
    "delimiter_label",
    "deltas_note",
    "deltas_table",
    "draft_base",
    "draft_notice",
    "draft_shown",
    "editor_text",
    "encoding_label",
    "escape_markdown",
    "files_table",
    "filter_items",
    "filter_predictions",
    "flip_labels",
    "flips_page",
    "fairness_view",
    "golden_preview",
    "golden_set_labels",
    "group_labels",
    "group_columns",
    "group_table",
    "hunk_table",
    "is_signed_in",
    "label_balance",
    "label_rule_from",
    "label_values",
    "launch_app",
    "left_out",
    "newer_version",
    "next_step",
    "opening_policy",
    "outcome_counts",
    "own_runs",
    "page_note",
    "page_of",
    "pair_ending_with",
    "pick_threshold",
    "start_suite",
    "suite_plan",
    "suite_progress",
    "suite_sides",
    "suite_table",
    "transfer_table",
    "playable_video",
    "policy_tokens",
    "predictions_csv",
    "predictions_page",
    "matching_rows",
    "prediction_rows",
    "predictions_table",
    "with_outcomes",
    "problems_table",
    "split_sizes",
    "f1_at_half",
    "recent_runs",
    "recent_runs_frame",
    "resume_run",
    "RESUME_ALL",
    "InterruptedRun",
    "Resumed",
    "interrupted_frame",
    "interrupted_runs",
    "resume_all",
    "run_errors",
    "run_statuses",
    "run_to_follow",
    "run_view",
    "runs_overview",
    "save_edit",
    "save_label",
    "saved_message",
    "scored_runs",
    "sign_in_providers",
    "signed_colours",
    "start_runs",
    "start_study",
    "study_choices",
    "study_view",
    "suggested_fix",
    "summarise",
    "token_caption",
    "upload_note",
    "version_history",
    "video_items",
    "with_text",
]
