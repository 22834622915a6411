"""Prove that the tests guarding cope-eval's protections can fail: take each protection out, one
at a time, in a copy of the repository, and check that its tests then fail.

Each protection names a file, an exact snippet of it, a replacement that removes the protection,
and the pytest node ids that must fail without it. The working tree is never touched: its tracked
and untracked (not ignored) files are copied to a temporary folder; the tests run there first
unchanged (a test that fails anyway proves nothing), then once per protection removed. A snippet
that is no longer in its file is reported as such (the protection moved: update this list).

    python scripts/check_protections.py                  # all; writes docs/protections.md
    python scripts/check_protections.py --only redact    # names containing "redact"; prints only
    python scripts/check_protections.py --no-browser     # leave out the real-browser tests
    make protections

Some tests need the local vLLM (started by the test session when it is not running).
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "protections.md"


@dataclass(frozen=True)
class Protection:
    """One protection and the tests that must catch its removal."""

    name: str
    file: str
    snippet: str
    """Exact text, found once in ``file``."""
    replacement: str
    """What the snippet becomes with the protection taken out."""
    tests: tuple[str, ...]
    """Pytest node ids (a function name covers all its parameters)."""
    also: tuple[tuple[str, str, str], ...] = ()
    """More (file, snippet, replacement) taken out at the same time, for a protection held in two
    layers: removing one layer alone leaves the other holding, which proves nothing."""

    def mutations(self) -> tuple[tuple[str, str, str], ...]:
        return ((self.file, self.snippet, self.replacement), *self.also)


T_FAULTS = "tests/test_faults.py::"
T_HOSTILE = "tests/test_hostile_inputs.py::"
T_IMAGES = "tests/test_images.py::"
T_POLICIES = "tests/test_policies.py::"
T_RUNNER = "tests/test_runner.py::"
T_SECRETS = "tests/test_secrets.py::"
T_AUTH = "tests/test_auth_pages.py::"
T_STATUS = "tests/test_run_status.py::"
T_HTTP = "tests/test_http_protocol.py::"
T_CLIENT = "tests/test_http_client.py::"
T_IDENTITY = "tests/test_cache_identity.py::"
T_ERRORS = "tests/test_cli_errors.py::"
T_LAUNCHER = "tests/test_launcher.py::"
T_FORMATS = "tests/test_golden_formats.py::"
BROWSER_KILL = "tests/test_browser_kill.py::test_app_killed_mid_run_restarts_interrupted_and_resume_sends_only_the_rest"
BROWSER_KEYS = "tests/test_browser_secrets.py::test_typed_keys_reach_their_own_server_and_nothing_else"

PROTECTIONS = (
    # -- faults: retries, error counting, never a silent zero -----------------------------------
    Protection("retry 408, 429 and 5xx", "cope_eval/transport.py",
               "return status == 408 or status == 429 or status >= 500", "return False",
               ("tests/test_transport.py::test_transient_faults_are_retried_until_success",
                "tests/test_transport.py::test_which_statuses_are_retried")),
    Protection("count every failed item as an error", "cope_eval/runner.py",
               "            self.errors += 1\n", "            pass\n",
               (T_FAULTS + "test_every_bad_reply_is_a_counted_error_never_a_zero",)),
    Protection("store a failed item without a score (never 0)", "cope_eval/runner.py",
               "self.rows.append((outcome.item_id, None, None, None, outcome.error,",
               "self.rows.append((outcome.item_id, 0.0, 0, None, outcome.error,",
               (T_FAULTS + "test_every_bad_reply_is_a_counted_error_never_a_zero",)),
    Protection("neither 0 nor 1 in the top tokens is an error, not a score", "cope_eval/scoring.py",
               'if not logs["0"] and not logs["1"]:', "if False:",
               ("tests/test_scoring.py::test_neither_answer_listed_is_an_error_not_a_zero",
                T_FAULTS + "test_every_bad_reply_is_a_counted_error_never_a_zero")),
    Protection("a dead server leaves items unscored, not a wall of errors", "cope_eval/runner.py",
               "        if outcome.unreachable:\n", "        if False:\n",
               (T_RUNNER + "test_server_down_interrupts_the_run_and_resume_finishes_it",)),
    Protection("concurrency cap: one worker per request allowed in flight (and a pool that size)",
               "cope_eval/transport.py",
               "for _ in range(max(1, state.lane.concurrency))", "for _ in range(max(1, state.lane.concurrency) * 2)",
               (T_SECRETS + "test_burst_of_image_items_respects_concurrency",
                T_RUNNER + "test_concurrency_bounds_requests_in_flight"),
               also=(("cope_eval/http_client.py", "aiohttp.TCPConnector(limit=connections, limit_per_host=connections)",
                      "aiohttp.TCPConnector(limit=0, limit_per_host=0)"),)),
    # -- the store: WAL, atomic batches, interrupted runs, resume ------------------------------
    Protection("store in WAL mode", "cope_eval/store.py",
               'self._db.execute("PRAGMA journal_mode=WAL")', "pass",
               ("tests/test_store.py::test_migrations_are_recorded_once_and_wal_is_on",)),
    Protection("prediction batches commit all or nothing", "cope_eval/store.py",
               "        with self._lock, self._transaction():\n            self._db.executemany(\n"
               '                "INSERT INTO predictions',
               "        with self._lock:\n            self._db.executemany(\n"
               '                "INSERT INTO predictions',
               ("tests/test_store.py::test_a_second_prediction_for_an_item_is_refused_and_nothing_of_the_batch_is_kept",
                T_FAULTS + "test_store_survives_a_kill_during_writes")),
    Protection("a run whose process died shows as interrupted", "cope_eval/run_status.py",
               'return RunState("running", run.runner_pid, age) if alive and fresh else RunState("interrupted", None, age)',
               'return RunState("running", run.runner_pid, age)',
               (T_RUNNER + "test_a_running_run_whose_process_died_shows_as_interrupted",
                T_FAULTS + "test_runner_process_killed_mid_run_shows_interrupted_and_resumes", BROWSER_KILL,
                T_STATUS + "test_cli_resume_of_a_run_whose_runner_died_finishes_it",
                T_STATUS + "test_a_live_runner_with_a_stale_heartbeat_is_interrupted_and_resumes")),
    # Not BROWSER_KILL here: in the app the cache answers items that are sent again, so the
    # model-call count cannot tell this mutation apart (checked: it passes without it).
    Protection("resume sends only the items not yet scored", "cope_eval/runner.py",
               "    todo = _without(items, stored)\n", "    todo = items\n",
               (T_RUNNER + "test_cancel_then_resume_sends_only_the_missing_items",
                T_FAULTS + "test_runner_process_killed_mid_run_shows_interrupted_and_resumes")),
    # -- hostile input ----------------------------------------------------------------------------
    Protection("image paths stay inside the workspace (symlinks resolved)", "cope_eval/images.py",
               "if not full.is_relative_to(root):", "if False:",
               (T_IMAGES + "test_bad_references", T_IMAGES + "test_symlink_escaping_the_workspace_is_rejected",
                T_HOSTILE + "test_golden_set_file")),
    Protection("absolute image paths refused", "cope_eval/images.py",
               'if rel.is_absolute() or PurePosixPath(ref.replace("\\\\", "/")).is_absolute():', "if False:",
               (T_IMAGES + "test_bad_references", T_HOSTILE + "test_golden_set_file")),
    Protection("image URLs fetched only when allowed", "cope_eval/images.py",
               "        if not allow_urls:\n            raise _Rejected(", "        if False:\n            raise _Rejected(",
               (T_IMAGES + "test_urls_are_fetched_only_when_allowed",)),
    Protection("image URLs on non-public addresses refused", "cope_eval/images.py",
               "return address.is_global and not address.is_multicast", "return True",
               (T_HOSTILE + "test_private_image_urls_are_refused_without_a_request",
                T_HOSTILE + "test_private_urls_in_a_golden_set_are_kept_unfetched_or_refused_row_by_row")),
    Protection("the address check on every connection (redirects, DNS changes)", "cope_eval/images.py",
               "class _PublicHTTPConnection(http.client.HTTPConnection):\n    def __init__(self, *args, **kwargs):\n"
               "        super().__init__(*args, **kwargs)\n        self._create_connection = _public_connection\n",
               "class _PublicHTTPConnection(http.client.HTTPConnection):\n    def __init__(self, *args, **kwargs):\n"
               "        super().__init__(*args, **kwargs)\n",
               (T_HOSTILE + "test_a_redirect_to_a_private_address_is_refused_at_connect_time",)),
    Protection("decompression-bomb cap (pixels)", "cope_eval/images.py",
               "if width * height > max_pixels:", "if False:",
               (T_IMAGES + "test_pixel_cap_and_decompression_bomb", "tests/test_golden.py::test_decompression_bomb_image")),
    Protection("item text length cap (a 20 MB cell)", "cope_eval/golden_validate.py",
               "add(lengths > MAX_TEXT_CHARS,", "add(lengths < 0,",
               (T_HOSTILE + "test_golden_set_file",)),
    Protection("formula-like CSV cells neutralised", "cope_eval/csv_safe.py",
               "if isinstance(value, str) and value.startswith(FORMULA_STARTS):", "if False:",
               (T_HOSTILE + "test_formula_like_cells_are_neutralised_in_every_csv_export",
                "tests/test_export.py::test_predictions_csv_has_scores_labels_outcomes_and_neutralised_formulas",
                "tests/test_zentropi_formats.py::test_formula_like_texts_are_neutralised_in_csv_and_exact_in_json")),
    Protection("policy names: no path separators", "cope_eval/policies.py",
               '    if "/" in slug or "\\\\" in slug:\n        return "it contains a path separator"\n', "",
               (T_POLICIES + "test_slug_attacks_are_rejected", T_POLICIES + "test_slug_check_applies_to_every_entry_point")),
    Protection("policy names: only a-z, 0-9, '.', '_', '-'", "cope_eval/policies.py",
               "if not _SLUG_RE.fullmatch(slug):", "if False:",
               (T_POLICIES + "test_slug_attacks_are_rejected",
                T_HOSTILE + "test_policy_name_tricks_are_rejected_and_write_nothing")),
    Protection("policy text size cap", "cope_eval/policies.py",
               "    if len(data) > MAX_POLICY_BYTES:\n        reject(_too_big(len(data)))", "    if False:\n        pass",
               (T_HOSTILE + "test_policy_text",)),
    Protection("user content shown as text, not Markdown", "cope_eval/views.py",
               'return _MARKDOWN_SPECIAL.sub(r"\\\\\\1", str(text))', "return str(text)",
               ("tests/test_views.py::test_escape_markdown_leaves_no_markdown_syntax",)),
    Protection("policy text HTML-escaped in the diff view", "cope_eval/policy_diff.py",
               "    return html.escape(text, quote=True)", "    return text",
               ("tests/test_policy_diff.py::test_everything_is_html_escaped",)),
    # -- secrets ----------------------------------------------------------------------------------
    # Two layers: the key is taken out of the reply's bytes (http_client), and out of every
    # message again (errors.redact); only both removed let an echoed key through.
    Protection("a key echoed back by a server is redacted", "cope_eval/errors.py",
               "return message.replace(secret, REDACTED) if secret else message", "return message",
               (T_SECRETS + "test_a_key_the_server_echoes_back_is_redacted_from_errors", BROWSER_KEYS),
               also=(("cope_eval/http_client.py",
                      "return Reply(status, redact_bytes(content, self._secret), reply_headers, self._secret)",
                      "return Reply(status, content, reply_headers, self._secret)"),
                     ("cope_eval/http_client.py", 'if self._secret and b"\\\\" in self.body:', "if False:"))),
    Protection("the key is left out of an endpoint's repr", "cope_eval/records.py",
               "api_key: str | None = field(default=None, repr=False)", "api_key: str | None = None",
               (T_SECRETS + "test_key_is_nowhere_in_the_workspace_after_good_and_failed_items",)),
    Protection("resuming on another server leaves the session key behind", "cope_eval/run_setup.py",
               "same_server = endpoint is not None and endpoint.base_url == run.base_url",
               "same_server = endpoint is not None",
               ("tests/test_run_setup.py::test_a_dead_runner_is_interrupted_and_resumes_on_its_own_server_without_the_session_key",)),
    Protection("choosing a server in the app replaces the old key", "pages/_sidebar.py",
               "key = st.session_state[_state.SERVER_KEY_INPUT] or None",
               "key = st.session_state[_state.SERVER_KEY_INPUT] or st.session_state[_state.SERVER_API_KEY]",
               (BROWSER_KEYS,)),
    Protection("the environment's key stays with the configured server", "pages/_sidebar.py",
               "return chosen, st.session_state[_state.SERVER_MODEL], st.session_state[_state.SERVER_API_KEY], is_local",
               "return chosen, st.session_state[_state.SERVER_MODEL], "
               "st.session_state[_state.SERVER_API_KEY] or setting.api_key, is_local",
               # Not tests/test_app.py::test_the_session_key_goes_only_to_the_server_it_was_given_for:
               # it checks session state, not the header sent (checked: it passes without this).
               (BROWSER_KEYS,)),
    # -- access: sign-in and who is recorded (issue 8, shared deployments) -----------------------
    Protection("sign-in gate on every address of the app", "app.py",
               "if not _auth.admitted():", "if False:",
               (T_AUTH + "test_a_page_shows_only_the_sign_in_screen_to_a_visitor",)),
    Protection("every page checks sign-in itself", "pages/_state.py",
               "    _auth.require_sign_in()\n", "    pass\n",
               (T_AUTH + "test_a_page_file_run_on_its_own_shows_only_the_sign_in_screen",)),
    Protection("a saved version records the signed-in user", "pages/policies.py",
               "author = _auth.current_author()  # signed in", "author = None  # signed in",
               (T_AUTH + "test_saving_a_version_records_the_signed_in_user_not_the_author_field",)),
    Protection("a label correction records the signed-in user", "pages/golden_sets.py",
               "author = _auth.current_author()  # signed in", "author = None  # signed in",
               (T_AUTH + "test_a_label_correction_records_the_signed_in_user_by_name_when_there_is_no_email",)),
    Protection("a study started from Insight records the signed-in user", "pages/_insight_probes.py",
               'seed=int(seed), author=_auth.current_author() or "")', "seed=int(seed))",
               (T_AUTH + "test_a_study_started_from_insight_records_the_signed_in_user",)),
    # -- the store and the terminal ----------------------------------------------------------------
    Protection("a failed store write keeps its rows and stops the run", "cope_eval/runner.py",
               "            self.store.add_predictions(self.run.id, self.rows, self.cache_rows)  # if it raises, the rows stay\n"
               "            self.rows, self.cache_rows = [], []\n",
               "            rows, cache_rows, self.rows, self.cache_rows = self.rows, self.cache_rows, [], []\n"
               "            self.store.add_predictions(self.run.id, rows, cache_rows)\n",
               ("tests/test_runner.py::test_a_failed_store_write_stops_the_run_without_losing_an_answer",)),
    Protection("bidi and separator characters never reach the terminal", "cope_eval/terminal.py",
               '_UNSAFE = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]")',
               '_UNSAFE = re.compile("[\\x00-\\x1f\\x7f-\\x9f]")',
               ("tests/test_terminal.py::test_unsafe_characters_become_spaces",)),
    Protection("the CLI sends COPE_API_KEY only to COPE_BASE_URL's server", "cope_eval/cli_keys.py",
               "    if setting.base_url is not None and setting.base_url != run.base_url:\n        return None\n", "",
               ("tests/test_cli_keys.py::test_resume_sends_the_configured_key_only_to_its_own_server",
                "tests/test_cli_insight.py::test_the_configured_key_goes_only_to_its_own_server")),

    # -- issue 14: one HTTP client (aiohttp), every hostile reply contained ----------------------
    Protection("redirects are never followed (the key stays with its server)", "cope_eval/http_client.py",
               "allow_redirects=False", "allow_redirects=True",
               (T_HTTP + "test_scoring_never_follows_a_redirect_and_says_where_it_pointed",
                T_HTTP + "test_model_listing_and_token_count_never_follow_a_redirect_with_the_key",
                T_CLIENT + "test_fetch_never_follows_a_redirect")),
    Protection("a redirect on a scoring request is a final error naming it", "cope_eval/transport.py",
               "            if reply.is_redirect:\n", "            if False:\n",
               (T_HTTP + "test_scoring_never_follows_a_redirect_and_says_where_it_pointed",)),
    Protection("the key is taken out of the reply bytes before anything reads them", "cope_eval/http_client.py",
               "return Reply(status, redact_bytes(content, self._secret), reply_headers, self._secret)",
               "return Reply(status, content, reply_headers, self._secret)",
               (T_HTTP + "test_a_key_the_server_echoes_is_in_nothing_stored",
                T_CLIENT + "test_the_key_is_out_of_the_bytes_before_anything_reads_them")),
    Protection("a JSON-escaped key is redacted too", "cope_eval/http_client.py",
               'if self._secret and b"\\\\" in self.body:', "if False:",
               (T_HTTP + "test_a_key_the_server_echoes_is_in_nothing_stored",
                T_CLIENT + "test_the_key_is_out_of_the_bytes_before_anything_reads_them")),
    Protection("a total deadline per request (a dripping server cannot hang a run)", "cope_eval/http_client.py",
               "timeout=aiohttp.ClientTimeout(total=deadline_s)", "timeout=aiohttp.ClientTimeout(sock_read=deadline_s)",
               (T_HTTP + "test_a_model_list_that_drips_gives_up_at_the_deadline",
                T_HTTP + "test_a_single_check_that_drips_gives_up_at_the_deadline",
                T_HTTP + "test_a_scoring_reply_that_drips_times_out_and_is_a_counted_error")),
    Protection("the proxy from the environment carries server traffic", "cope_eval/http_client.py",
               "self._proxy, self._proxy_auth = _env_proxy(URL(self.base_url))", "self._proxy, self._proxy_auth = None, None",
               (T_HTTP + "test_http_proxy_from_the_environment_carries_the_whole_run",
                T_CLIENT + "test_https_targets_go_through_https_proxy_with_connect")),
    Protection("concurrency capped by what the process can hold open", "cope_eval/http_client.py",
               "        if concurrency > limit:\n", "        if False:\n",
               (T_HTTP + "test_concurrency_beyond_what_the_process_can_open_is_refused_with_the_limit",
                T_HTTP + "test_the_limit_follows_the_open_files_limit",
                T_ERRORS + "test_a_concurrency_the_process_cannot_hold_is_one_line_naming_the_flag")),
    Protection("replicas count towards the concurrency cap", "cope_eval/http_client.py",
               "    if total > limit:\n", "    if False:\n",
               (T_HTTP + "test_replicas_count_towards_the_limit",)),
    Protection("JSON nested too deeply is one counted error", "cope_eval/http_client.py",
               '    except RecursionError:\n        raise BadReply("is JSON nested too deeply to read") from None\n', "",
               (T_FAULTS + "test_every_bad_reply_is_a_counted_error_never_a_zero",
                T_CLIENT + "test_every_undecodable_body_is_one_explained_error")),
    Protection("a reply without Content-Length is read to its end", "cope_eval/http_client.py",
               "    async for chunk in response.content.iter_any():\n", "    for chunk in ():\n",
               (T_HTTP + "test_a_close_delimited_reply_is_read_to_the_end",)),
    Protection("reply bodies capped in size", "cope_eval/http_client.py",
               "        if total > MAX_BODY_BYTES:\n", "        if False:\n",
               (T_CLIENT + "test_a_body_over_the_limit_is_refused_before_it_is_read",)),
    # -- issue 14: every number attributed to the server that answered it ------------------------
    Protection("the cache is keyed on the answering server (endpoint, model, checkpoint)", "cope_eval/jobs.py",
               'digest = hashlib.sha256(identity + b"\\0" + body).hexdigest()',
               'digest = hashlib.sha256(self.template.name.encode() + b"\\0" + body).hexdigest()',
               (T_IDENTITY + "test_a_second_server_with_other_weights_under_the_same_name_answers_every_item",
                T_IDENTITY + "test_the_same_url_redeployed_with_other_weights_misses_the_cache",
                T_IDENTITY + "test_a_server_that_does_not_say_its_checkpoint_is_known_by_endpoint_and_model",
                T_IDENTITY + "test_batch_answers_are_cached_under_the_run_identity_only")),
    Protection("a run never mixes checkpoints", "cope_eval/runner.py",
               "if run.checkpoint is not None and now != run.checkpoint:", "if False:",
               (T_IDENTITY + "test_resuming_after_a_redeploy_with_other_weights_is_refused_naming_both",)),
    Protection("a recorded checkpoint must be confirmed before a resume", "cope_eval/runner.py",
               "        if run.checkpoint is not None:\n            raise ConfigError(",
               "        if False:\n            raise ConfigError(",
               (T_IDENTITY + "test_resuming_after_a_redeploy_with_other_weights_is_refused_naming_both",)),
    Protection("a replica serving other weights is refused", "cope_eval/runner.py",
               "if root != now:", "if False:",
               (T_IDENTITY + "test_a_replica_serving_other_weights_is_refused_before_anything_is_sent",)),
    Protection("batch answers are cached under the run's identity only", "cope_eval/batch.py",
               "source=AnswerSource(run.base_url, run.model, run.checkpoint))",
               "source=AnswerSource(run.base_url, run.model, 'org/ckpt-a'))",
               (T_IDENTITY + "test_batch_answers_are_cached_under_the_run_identity_only",)),
    Protection("a non-finite logprob is an error, not a crash", "cope_eval/scoring.py",
               "if not math.isfinite(number):", "if False:",
               ("tests/test_scoring.py::test_a_logprob_that_is_not_one_is_an_error_with_its_reason",
                T_RUNNER + "test_hostile_logprobs_are_one_counted_error_each_and_every_good_answer_is_stored")),
    Protection("a logprob above 0 is an error", "cope_eval/scoring.py",
               "if number > LOGPROB_ROUNDING:", "if False:",
               ("tests/test_scoring.py::test_a_logprob_that_is_not_one_is_an_error_with_its_reason",
                T_RUNNER + "test_hostile_logprobs_are_one_counted_error_each_and_every_good_answer_is_stored")),
    Protection("P(\"1\") computed in log space", "cope_eval/scoring.py",
               "return _logistic(log_p1 - log_p0)",
               "return math.exp(log_p1) / (math.exp(log_p0) + math.exp(log_p1))",
               ("tests/test_scoring.py::test_legal_extremes_are_read_in_log_space_without_overflow_or_underflow",
                T_RUNNER + "test_hostile_logprobs_are_one_counted_error_each_and_every_good_answer_is_stored")),
    Protection("no score outside [0, 1] reaches the store", "cope_eval/runner.py",
               "                checked_score(answer.score)\n", "                pass\n",
               (T_RUNNER + "test_a_score_that_is_not_a_probability_never_reaches_the_store",)),
    Protection("a run a live process is scoring is refused before anything is sent", "cope_eval/runner.py",
               "    refuse_if_being_scored(run)\n    check_concurrency(", "    check_concurrency(",
               (T_STATUS + "test_cli_resume_of_a_run_another_live_process_scores_is_refused_and_sends_nothing",)),
    Protection("the runner claims the run inside one transaction", "cope_eval/runner.py",
               "        refuse_if_being_scored(store.run(run_id))\n", "",
               (T_STATUS + "test_a_runner_that_starts_while_this_one_prepares_wins_and_this_one_sends_nothing",)),
    Protection("a run executing in this process counts as running", "cope_eval/run_status.py",
               "    if _is_here(run.id):\n", "    if False:\n",
               (T_STATUS + "test_a_second_thread_of_this_process_cannot_execute_a_run_being_scored_here",)),
    Protection("our own runner gone means interrupted", "cope_eval/run_status.py",
               '    if run.runner_pid == os.getpid():\n        return RunState("interrupted", None, age)\n', "",
               (T_STATUS + "test_our_own_runner_gone_reads_the_same_on_the_run_and_the_study_views",
                "tests/test_run_setup.py::test_our_own_thread_gone_without_a_final_status_is_interrupted")),
    # -- issue 14: the CLI and the workspace never lie, never crash with a traceback --------------
    Protection("one threshold check: a number from 0 to 1", "cope_eval/metrics.py",
               "    if isinstance(value, bool) or not 0.0 <= number <= 1.0:", "    if isinstance(value, bool):",
               (T_ERRORS + "test_a_threshold_out_of_range_is_one_line_naming_the_flag",
                "tests/test_metrics.py::test_the_one_threshold_check_refuses_what_is_not_a_number_from_0_to_1")),
    Protection("compare --threshold 0 is a threshold, not 'unset'", "cope_eval/cli_compare.py",
               "(run_a.threshold, run_b.threshold) if args.threshold is None else (args.threshold, args.threshold)",
               "(args.threshold or run_a.threshold, args.threshold or run_b.threshold)",
               (T_ERRORS + "test_compare_at_threshold_0_is_not_ignored",)),
    Protection("a CI gate fails on too many errors", "cope_eval/cli_run.py",
               "    if error_rate > max_error_rate:", "    if False:",
               (T_ERRORS + "test_a_gate_fails_when_too_many_items_errored",)),
    Protection("a store that cannot be opened is one line naming it", "cope_eval/store.py",
               "            raise ConfigError(_cannot_open(self.path, exc)) from None", "            raise",
               (T_ERRORS + "test_a_garbage_store_file_is_named_with_what_to_do",
                T_ERRORS + "test_a_read_only_workspace_is_one_line")),
    Protection("a full disk mid-run is one line; resume finishes", "cope_eval/cli_run.py",
               "    except sqlite3.Error as exc:  # the store keeps what it committed: resume sends only the rest",
               "    except ZeroDivisionError as exc:",
               (T_ERRORS + "test_a_full_disk_mid_run_is_one_line_and_the_store_stays_consistent",)),
    Protection("a missing or damaged golden snapshot is one line", "cope_eval/store.py",
               "        except (OSError, ValueError) as exc:  # missing, unreadable, or not Parquet (ArrowInvalid)",
               "        except ZeroDivisionError as exc:",
               (T_ERRORS + "test_a_missing_or_damaged_golden_snapshot_is_one_line",)),
    Protection("export --out onto a file is refused", "cope_eval/export.py",
               "    if dest.exists() and not dest.is_dir():", "    if False:",
               (T_ERRORS + "test_export_onto_an_existing_file_is_refused_and_the_file_kept",)),
    Protection("a failed export leaves no half bundle", "cope_eval/export.py",
               "                made.unlink() if made.is_file() else made.rmdir()", "                pass",
               (T_ERRORS + "test_export_that_runs_out_of_space_leaves_no_half_bundle",)),
    Protection("run --out onto a file is refused before anything is sent", "cope_eval/cli_run.py",
               "    _check_out(args.out)\n    if args.template", "    if args.template",
               (T_ERRORS + "test_run_out_onto_a_file_is_refused_before_anything_is_sent",)),
    Protection("stray files in a policy folder do not hide its versions", "cope_eval/policies.py",
               '    return (p for p in folder.glob("*.json") if _VERSION_FILE.fullmatch(p.name) and p.is_file())',
               '    return (p for p in folder.glob("*.json") if not p.name.startswith("."))',
               (T_POLICIES + "test_stray_entries_do_not_hide_the_versions",
                "tests/test_page_home.py::test_a_stray_entry_in_a_policy_folder_does_not_blank_the_page")),
    Protection("the CLI reads a policy file through the one size check", "cope_eval/cli_run.py",
               "    text = read_policy_file(path)", '    text = path.read_text("utf-8")',
               (T_ERRORS + "test_a_policy_over_2_mib_is_refused_before_anything_is_sent",)),
    Protection("Windows device names get a safe policy slug", "cope_eval/policies.py",
               '    if slug in _WINDOWS_RESERVED:\n        slug += "-policy"\n', "",
               (T_POLICIES + "test_names_that_are_no_folder_name_get_a_safe_slug_not_a_refusal",
                T_ERRORS + "test_a_policy_file_name_that_is_no_folder_name_is_recorded_under_a_safe_name",
                "tests/test_page_policies.py::test_a_name_that_is_no_folder_name_is_saved_under_a_safe_one_and_the_page_says_which")),
    Protection("non-ASCII policy names get a hash-suffixed slug", "cope_eval/policies.py",
               "    if lost:\n", "    if False:\n",
               (T_POLICIES + "test_names_that_are_no_folder_name_get_a_safe_slug_not_a_refusal",
                T_ERRORS + "test_a_policy_file_name_that_is_no_folder_name_is_recorded_under_a_safe_name",
                "tests/test_page_policies.py::test_a_name_that_is_no_folder_name_is_saved_under_a_safe_one_and_the_page_says_which")),
    Protection("CLI errors name the flag, not a library parameter", "cope_eval/cli.py",
               "        return _fail(exc.with_remedies(REMEDIES))", "        return _fail(str(exc))",
               (T_ERRORS + "test_a_missing_column_names_the_flag",
                T_ERRORS + "test_different_golden_sets_name_the_intersect_flag",
                T_ERRORS + "test_an_existing_bundle_names_the_overwrite_flag")),
    # -- issue 14: exposure, credentials in URLs, file decoding ----------------------------------
    Protection("the app listens on 127.0.0.1 unless told otherwise", "cope_eval/launcher.py",
               '"--server.address", address, ', "",
               (T_LAUNCHER + "test_app_command_uses_the_configured_server_and_stops_its_child",
                T_LAUNCHER + "test_the_address_is_the_flag_else_cope_address_else_loopback")),
    Protection("exposing the app without sign-in warns", "cope_eval/launcher.py",
               "    if warning:\n", "    if False:\n",
               (T_LAUNCHER + "test_an_exposed_app_without_sign_in_warns_at_start",)),
    Protection("a server URL carrying credentials is refused in any scheme case", "cope_eval/config.py",
               'if any(mark in url for mark in "@?#"):', "if False:",
               ("tests/test_config.py::test_no_error_about_a_server_url_repeats_the_key_in_it",
                "tests/test_config.py::test_a_url_carrying_a_key_is_refused_without_repeating_it",
                T_SECRETS + "test_a_credentialed_base_url_is_refused_by_the_cli_without_repeating_the_key")),
    Protection("a malformed server URL is never repeated", "cope_eval/config.py",
               'raise ConfigError(f"The server URL must start with http:// or https://, as in {_EXAMPLE_URL}.")',
               'raise ConfigError(f"Server URL {url!r} must start with http:// or https://.")',
               ("tests/test_config.py::test_no_error_about_a_server_url_repeats_the_key_in_it",)),
    Protection("Excel's Windows-1252 read as Windows-1252", "cope_eval/golden_formats.py",
               'return "latin-1" if _CP1252_UNDEFINED.search(data) else "cp1252"', 'return "latin-1"',
               (T_FORMATS + "test_a_windows_1252_file_is_read_as_windows_1252_and_says_so",)),
    Protection("Parquet integer ids stay exact", "cope_eval/golden_formats.py",
               "frame = _integers_as_text(table.rename_columns(names)).to_pandas(",
               "frame = (table.rename_columns(names)).to_pandas(",
               (T_FORMATS + "test_parquet_integer_ids_with_a_null_stay_integers_and_the_null_gets_a_derived_id",
                T_FORMATS + "test_parquet_ids_beyond_2_to_the_53_stay_distinct[ids1]")),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="check only protections whose name contains this text")
    parser.add_argument("--no-browser", action="store_true", help="leave out the real-browser tests")
    parser.add_argument("--out", type=Path, help=f"write the report here (default {OUT.relative_to(REPO)} for a "
                                                 "full run; nothing for --only/--no-browser)")
    args = parser.parse_args(argv)
    chosen = [p for p in PROTECTIONS if not args.only or args.only.lower() in p.name.lower()]
    if args.no_browser:
        chosen = [Protection(p.name, p.file, p.snippet, p.replacement,
                             tuple(t for t in p.tests if "test_browser_" not in t)) for p in chosen]
        chosen = [p for p in chosen if p.tests]
    if not chosen:
        parser.error(f"no protection matches {args.only!r}")
    out = args.out or (OUT if not args.only and not args.no_browser else None)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cope-protections-") as tmp:
        copy = Path(tmp) / "repo"
        _copy_tree(copy)
        tests = sorted({t for p in chosen for t in p.tests})
        print(f"Baseline: {len(tests)} tests on the unchanged copy...", flush=True)
        baseline = _run_tests(copy, tests, Path(tmp) / "baseline.xml")
        rows = []
        for protection in chosen:
            print(f"Without: {protection.name}...", flush=True)
            outcome = _without(copy, protection, Path(tmp) / "mutant.xml")
            for test in protection.tests:
                rows.append((protection, test, baseline.get(test, "missing"), outcome.get(test, "missing")))
    report = _report(rows, time.monotonic() - started)
    print(report)
    if out is not None:
        out.write_text(report)
        print(f"Wrote {out}")
    return 0 if all(_proven(base, mutant) for _, _, base, mutant in rows) else 1


def _copy_tree(dest: Path) -> None:
    """The working tree as git sees it (tracked and untracked files, not ignored ones)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def _without(copy: Path, protection: Protection, xml: Path) -> dict[str, str]:
    originals: dict[Path, str] = {}
    mutated: dict[Path, str] = {}
    for file, snippet, replacement in protection.mutations():
        path = copy / file
        originals.setdefault(path, path.read_text())
        text = mutated.get(path, originals[path])
        found = text.count(snippet)
        if found != 1:
            state = "snippet not found" if found == 0 else f"snippet found {found} times"
            return {test: f"{state} in {file}" for test in protection.tests}
        mutated[path] = text.replace(snippet, replacement)
    for path, text in mutated.items():
        try:
            compile(text, str(path), "exec")  # a broken file would fail every test, proving nothing
        except SyntaxError:
            return {test: "mutation does not compile" for test in protection.tests}
    try:
        for path, text in mutated.items():
            path.write_text(text)
        return _run_tests(copy, list(protection.tests), xml)
    finally:
        for path, text in originals.items():
            path.write_text(text)


def _run_tests(copy: Path, tests: list[str], xml: Path) -> dict[str, str]:
    """Outcome per node id: passed, failed (any of its cases failed or errored), skipped, missing."""
    xml.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"--junitxml={xml}", *tests], cwd=copy, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=1800)
    cases = []
    if xml.exists():
        for case in ET.parse(xml).iter("testcase"):
            failed = case.find("failure") is not None or case.find("error") is not None
            skipped = case.find("skipped") is not None
            cases.append((case.get("classname", ""), case.get("name", ""),
                          "failed" if failed else "skipped" if skipped else "passed"))
    outcomes = {}
    for test in tests:
        module, _, name = test.partition("::")
        classname = module.removesuffix(".py").replace("/", ".")
        mine = [o for c, n, o in cases if c == classname and (n == name or ("[" not in name and n.startswith(name + "[")))]
        outcomes[test] = ("failed" if "failed" in mine else "passed" if "passed" in mine else
                          "skipped" if mine else "missing")
    return outcomes


def _proven(base: str, mutant: str) -> bool:
    return base == "passed" and mutant == "failed"


def _report(rows, seconds: float) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    proven = sum(_proven(b, m) for _, _, b, m in rows)
    protections = len({p.name for p, _, _, _ in rows})
    lines = [
        "# Protections and the tests that catch their removal",
        "",
        "Generated by `scripts/check_protections.py` (`make protections`); do not edit by hand.",
        f"Last run: {when}, {seconds / 60:.1f} min, {protections} protections, {len(rows)} protection-test pairs, "
        f"{proven} failed as expected.",
        "",
        "Each protection was taken out of a copy of the repository (the snippet replaced as listed in the",
        "script), and each test named for it was run: it must pass on the unchanged copy and fail without",
        "the protection.",
        "",
        "| protection | file | test | passes unchanged | fails without it |",
        "|---|---|---|---|---|",
    ]
    for protection, test, base, mutant in rows:
        failed = "yes" if mutant == "failed" else f"**no** ({mutant})"
        passes = "yes" if base == "passed" else f"**no** ({base})"
        files = ", ".join(f"`{f}`" for f in dict.fromkeys(f for f, _, _ in protection.mutations()))
        lines.append(f"| {protection.name} | {files} | `{test.replace('tests/', '')}` | {passes} | {failed} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
