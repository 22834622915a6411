"""``python -m cope_eval run`` (a CI gate for policy changes) and ``resume``."""

from __future__ import annotations

import argparse
import io
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .._util.atomic_files import replace_atomic
from ..config import current_user, normalise_base_url, workspace_from_env
from ..errors import ConfigError, CopeEvalError
from ..records import SPLITS, Endpoint, PolicyVersion
from ._options import (
    DefaultsHelpFormatter, add_api_key_env, add_threshold, key_for_run, positive_flag, threshold_flag
)
from ._stop import EXIT_STOPPED, stop_on_sigterm

if TYPE_CHECKING:
    from ..scoring import RunProgress

EXIT_GATE = 1
"""Exit status when the run completed but a gate asked for (``--fail-under-f1``, ``--max-error-rate``) failed."""
DEFAULT_MAX_ERROR_RATE = 0.05
"""The share of errored items a gate allows when ``--max-error-rate`` is not given."""


def add_commands(commands) -> None:
    run = commands.add_parser("run", help="score a policy file over a golden-set file", arguments=_run_arguments,
                              formatter_class=DefaultsHelpFormatter)
    run.set_defaults(handler=run_command)

    resume = commands.add_parser("resume", help="continue an interrupted or cancelled run, or study")
    resume.add_argument("run_id", metavar="ID", help="a run's id (run-...) or a study's (study-...)")
    resume.add_argument("--retry-errors", action="store_true", help="also send again the items that failed")
    add_api_key_env(resume)
    resume.add_argument("--out", type=Path, metavar="DIR")
    resume.set_defaults(handler=resume_command)


def _run_arguments(run: argparse.ArgumentParser) -> None:
    from ..golden import MAX_VIDEO_BYTES, MAX_VIDEO_SECONDS  # defaults and choices: only when ``run`` is used
    from ..scoring import ANSWER_MODES, DEFAULT_TEMPLATE, TEMPLATES

    run.add_argument("--golden", required=True, type=Path, help="golden set: CSV, JSONL, JSON, Parquet")
    run.add_argument("--policy", required=True, type=Path, help="policy text (Markdown or plain text)")
    run.add_argument("--base-url", default=os.environ.get("COPE_BASE_URL"), help="server URL (default $COPE_BASE_URL)")
    run.add_argument("--model", default=os.environ.get("COPE_MODEL"), help="model name (default $COPE_MODEL, else the server's first)")
    run.add_argument("--template", choices=list(TEMPLATES), default=DEFAULT_TEMPLATE)
    run.add_argument("--answer-mode", choices=ANSWER_MODES, default="logprobs")
    for role in ("text", "label", "image", "video", "id", "category"):
        run.add_argument(f"--{role}-column", metavar="C", help=f"column holding the {role} (default: auto-detect)")
    run.add_argument("--delimiter", type=_golden_flag("check_delimiter", "--delimiter"), metavar="D",
                     help="the golden set's delimiter: ',' ';' tab '|' (default: sniffed)")
    run.add_argument("--encoding", type=_golden_flag("check_encoding", "--encoding"), metavar="E",
                     help="the golden set's encoding: utf-8, utf-8-sig, latin-1, cp1252 (default: detected)")
    label_rule = run.add_mutually_exclusive_group()
    label_rule.add_argument("--label-threshold", type=_golden_flag("parse_label_threshold", "--label-threshold"),
                            metavar="T", help="label 1 when the label column's value is >= T, else 0 (fractions, scores)")
    label_rule.add_argument("--label-map", type=_golden_flag("parse_label_map", "--label-map"), metavar="MAP",
                            help="label values as 0/1, e.g. 'yes=1,no=0' (case-insensitive; others are bad rows)")
    run.add_argument("--max-video-mb", type=positive_flag("--max-video-mb"), default=MAX_VIDEO_BYTES / 2**20,
                     metavar="MB",
                     help="largest video accepted in the golden set, in MiB (a larger one is a bad row)")
    run.add_argument("--max-video-seconds", type=positive_flag("--max-video-seconds"), default=MAX_VIDEO_SECONDS,
                     metavar="S",
                     help="longest video accepted in the golden set, in seconds (a longer one is a bad row)")
    run.add_argument("--concurrency", type=_concurrency_flag, default="auto",
                     help="requests in flight at once, per server: 'auto' follows what the server can take "
                          "(from 16, up while throughput rises, down on 429/503/timeouts), a number fixes it")
    run.add_argument("--replica", action="append", default=[], metavar="URL",
                     help="another server of the same model to share the work (repeatable; same key and concurrency)")
    add_threshold(run, "score >= T is \"1\", from 0 to 1", default=0.5)
    add_api_key_env(run, "environment variable holding the API key", default="COPE_API_KEY")
    run.add_argument("--split", choices=SPLITS, default="dev",
                     help="report and gate on the golden set's dev items (the default), its test items, or all; "
                          "every item is scored either way, and a set without a split is all dev. test and all "
                          "show the test split's figures: they need --reveal-test")
    run.add_argument("--reveal-test", action="store_true",
                     help="look at the test split's figures on purpose (with --split dev: after the dev ones); "
                          "each look is recorded for the policy, and the export card counts them")
    run.add_argument("--out", type=Path, metavar="DIR", help="write metrics.json and predictions.csv here")
    run.add_argument("--no-cache", action="store_true", help="send every item even when a cached answer exists")
    run.add_argument("--fail-under-f1", type=threshold_flag("--fail-under-f1"), metavar="X",
                     help=f"gate: exit {EXIT_GATE} when F1 is below X (from 0 to 1)")
    run.add_argument("--max-error-rate", type=threshold_flag("--max-error-rate"), metavar="R",
                     help=f"gate: exit {EXIT_GATE} when more than a share R (from 0 to 1) of the items errored, since "
                          f"F1 leaves errored items out; any gate applies it, at {DEFAULT_MAX_ERROR_RATE:g} unless given")


def _golden_flag(check: str, flag: str):
    """An argparse ``type`` calling ``cope_eval.golden.<check>`` (imported once a value is given),
    whose ConfigError names ``flag``."""
    def parse(value: str):
        from .. import golden

        return getattr(golden, check)(value, source=flag)

    return parse


def run_command(args) -> int:
    from ..golden import ColumnSpec, LabelRule, VideoLimits, add_golden_set, load_golden_set
    from ..scoring import TEMPLATES, create_run
    from ..store import Store

    _check_out(args.out)
    template = TEMPLATES[args.template]  # a hosted service brings its own server and key
    if args.base_url is None:  # neither --base-url nor COPE_BASE_URL: the template's service, if any
        args.base_url = template.default_base_url
    if template.key_env_var is not None and args.api_key_env == "COPE_API_KEY":
        args.api_key_env = template.key_env_var
    if not args.base_url:
        raise ConfigError("No server: pass --base-url or set COPE_BASE_URL (`make serve-local` starts one here).")
    endpoint = _endpoint(normalise_base_url(args.base_url), args.model, _api_key(args.api_key_env))
    workspace = workspace_from_env().ensure()
    spec = ColumnSpec(text=args.text_column, label=args.label_column, image=args.image_column,
                      id=args.id_column, category=args.category_column, video=args.video_column)
    rule = LabelRule(threshold=args.label_threshold, mapping=args.label_map or ())
    limits = VideoLimits(max_bytes=int(args.max_video_mb * 2**20), max_seconds=args.max_video_seconds)
    loaded = load_golden_set(args.golden, workspace.root, spec=spec, delimiter=args.delimiter,
                             encoding=args.encoding, label_rule=rule, video_limits=limits)
    for warning in loaded.warnings[:5]:
        _say(f"warning: {warning}")
    _check_reveal(loaded.golden_set.items, args)  # before anything is sent
    policy = _read_policy(args.policy)
    with Store(workspace.private_dir) as store:
        add_golden_set(store, loaded, origin=f"file {args.golden}")  # with its import rule, before the run
        run = create_run(store, policy=policy, golden=loaded.golden_set, endpoint=endpoint, template=args.template,
                         answer_mode=args.answer_mode, threshold=args.threshold, concurrency=args.concurrency)
        _say(f"{run.id}: {len(loaded.golden_set):,} items, {args.template} on {endpoint.model} at {endpoint.base_url}")
        replicas = [(Endpoint(normalise_base_url(url), endpoint.model, endpoint.api_key), args.concurrency)
                    for url in args.replica]
        return _execute_and_report(store, run.id, endpoint, workspace.root, args, use_cache=not args.no_cache,
                                   replicas=replicas)


def resume_command(args) -> int:
    from ..store import Store

    _check_out(args.out)
    workspace = workspace_from_env()
    with Store(workspace.private_dir) as store:
        from ..insight import STUDY_ID_PREFIX

        if args.run_id.startswith(STUDY_ID_PREFIX):
            return _resume_study(store, args, workspace.root)
        run = store.run(args.run_id)
        endpoint = Endpoint(run.base_url, run.model, key_for_run(run, args.api_key_env))
        args.threshold, args.fail_under_f1, args.max_error_rate = run.threshold, None, None
        args.split, args.reveal_test = "dev", False
        return _execute_and_report(store, run.id, endpoint, workspace.root, args, retry_errors=args.retry_errors)


def _resume_study(store, args, root: Path) -> int:
    """``resume study-...``: score the study's variants that are not complete yet."""
    from ._studies import execute_study_command

    study = store.study(args.run_id)
    base = store.run(study.base_run_id)
    endpoint = Endpoint(base.base_url, base.model, key_for_run(base, args.api_key_env))
    requests = execute_study_command(store, study, endpoint, root)
    if requests is None:
        _say(f"stopped; continue with: python -m cope_eval resume {study.id}")
        return EXIT_STOPPED
    _say(f"study {study.id} completed ({requests:,} requests)")
    return 0


def _check_reveal(items, args) -> None:
    """Refuse, before anything is sent, a split the set lacks, and test figures not asked for."""
    from ..store import check_split

    check_split(items, args.split)
    if args.split != "dev" and not args.reveal_test:
        raise ConfigError(f"--split {args.split} shows the test split's figures: they are shown only on purpose.",
                          options=("reveal_test",))
    if args.reveal_test:
        check_split(items, "test")


def _execute_and_report(store, run_id, endpoint, root, args, **options) -> int:
    from ..metrics import metrics_at_threshold
    from ..scoring import execute_run
    from ..store import has_split, reveal_test, run_results

    bar = _ProgressBar() if sys.stderr.isatty() else None
    try:
        with stop_on_sigterm() as stop:
            result = execute_run(store, run_id, endpoint, workspace_root=root, progress=bar, cancel=stop, **options)
    except KeyboardInterrupt:
        _say(f"\ninterrupted; continue with: python -m cope_eval resume {run_id}")
        return EXIT_STOPPED
    except sqlite3.Error as exc:  # the store keeps what it committed: resume sends only the rest
        raise CopeEvalError(f"The workspace store {store.path} could not be written ({exc}); is the disk full? "
                            f"Predictions stored before this are kept; once there is room, continue with: "
                            f"python -m cope_eval resume {run_id}") from None
    finally:
        if bar:
            bar.close()
    if stop.is_set() and result.run.status == "cancelled":
        _say(f"stopped; continue with: python -m cope_eval resume {run_id}")
        return EXIT_STOPPED
    for warning in result.budget_warnings:
        _say(f"warning: {warning}")
    results = run_results(store, run_id, split=args.split)
    if args.split != "dev" and has_split(results):
        store.record_test_reveal(run_id, who=current_user(), place="cli")
    metrics = metrics_at_threshold(results, threshold=args.threshold)
    run = result.run
    print(_summary(run, metrics, result, _scope(args.split, results, run.n_items)))
    if args.reveal_test and args.split == "dev":
        test = reveal_test(store, run_id, who=current_user(), place="cli")
        print(f"\n{_summary(run, metrics_at_threshold(test, threshold=args.threshold), result, _scope('test', test, run.n_items))}")
    reasons = _error_reasons(store, run_id) if metrics.errors else None
    if reasons:
        print(reasons)
    if args.out:
        _write_out(args.out, run, metrics, results, args.threshold, args.split)
    if run.status != "completed":
        raise CopeEvalError(f"run {run.id} is {run.status}: {run.error or 'not every item was scored'}; "
                            f"continue with: python -m cope_eval resume {run.id}")
    failures = _gate_failures(metrics, len(results), args.fail_under_f1, args.max_error_rate)
    for failure in failures:
        _say(failure)
    return EXIT_GATE if failures else 0


def _scope(split: str, results, n_items: int) -> str | None:
    """What the ``split`` row of the summary says: None for every item."""
    from ..store import has_split

    if split == "all":
        return None
    if not has_split(results):
        return "dev: the golden set has no split, so every item"
    return f"{split}: {len(results):,} of {n_items:,} items (the figures below)"


def _gate_failures(metrics, n_items: int, fail_under_f1: float | None, max_error_rate: float | None) -> list[str]:
    """Why the gate fails, one line each; [] when it passes or none was asked for.

    F1 is computed over the items that scored, so a run whose items mostly errored could pass an
    F1 gate on the few left: any gate therefore also bounds the share of errored items."""
    if fail_under_f1 is None and max_error_rate is None:
        return []
    max_error_rate = DEFAULT_MAX_ERROR_RATE if max_error_rate is None else max_error_rate
    failures = []
    error_rate = metrics.errors / n_items if n_items else 0.0
    if error_rate > max_error_rate:
        failures.append(f"error rate {error_rate:.1%} ({metrics.errors:,} of {n_items:,} items) is above "
                        f"--max-error-rate {max_error_rate * 100:g}%")
    if fail_under_f1 is not None and metrics.f1 < fail_under_f1:
        failures.append(f"F1 {metrics.f1:.4f} is below --fail-under-f1 {fail_under_f1:g}")
    return failures


def _check_out(out: Path | None) -> None:
    """Refuse, before anything is sent, an ``--out`` that cannot be a folder."""
    if out is not None and out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder (metrics.json and predictions.csv go in it).")


def _write_out(out: Path, run, metrics, results, threshold: float, split: str) -> None:
    """``metrics.json`` and ``predictions.csv`` in ``out`` (the items of ``split``), each written whole
    or not at all."""
    from .._util.csv_safe import write_csv
    from ..store import with_predicted_labels

    card = {**metrics.to_dict(), "run_id": run.id, "status": run.status, "model": run.model,
            "base_url": run.base_url, "checkpoint": run.checkpoint, "template": run.template,
            "answer_mode": run.answer_mode, "policy_version_id": run.policy_version_id, "golden_hash": run.golden_hash,
            "items": run.n_items, "concurrency": "auto" if run.adaptive else run.concurrency,
            "settled_concurrency": run.settled_concurrency, "split": split, "split_items": len(results)}
    columns = ["item_id", "label", "score", "pred", "error"] + (["category"] if "category" in results else [])
    columns += ["split"] if "split" in results and results["split"].notna().any() else []
    table = with_predicted_labels(results, threshold)[columns].rename(columns={"item_id": "id"})
    predictions = io.StringIO()
    write_csv(table, predictions)
    try:
        out.mkdir(parents=True, exist_ok=True)
        replace_atomic(out / "predictions.csv", predictions.getvalue().encode("utf-8"))
        replace_atomic(out / "metrics.json", (json.dumps(card, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot write --out {exc.filename or out}: {exc.strerror or exc}. The run itself is "
                          f"stored: python -m cope_eval export --run {run.id} writes its results elsewhere.") from None


def _summary(run, m, result, scope: str | None = None) -> str:
    """The run's table; ``scope`` says which items the figures cover when not all of them."""
    rows = [("run", run.id), ("status", run.status), ("items", f"{run.n_items:,}")]
    if scope is not None:
        rows.append(("split", scope))
    rows += [("scored", f"{m.n:,}"),
             ("errors", f"{m.errors:,}"), ("from cache", f"{result.progress.cached:,}"),
             ("sent", f"{result.progress.sent:,}"), ("concurrency", _concurrency_shown(run)),
             ("threshold", f"{m.threshold:g}"),
             ("tp / fp / fn / tn", f"{m.tp} / {m.fp} / {m.fn} / {m.tn}")]
    if m.n:
        rows += [("precision", f"{m.precision:.4f}"), ("recall", f"{m.recall:.4f}"), ("f1", f"{m.f1:.4f}"),
                 ("accuracy", f"{m.accuracy:.4f}")]
    else:  # a 0.0000 here would read as a measured result
        rows.append(("metrics", "none: no item was scored"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


MAX_REASONS_SHOWN = 5


def _error_reasons(store, run_id: str) -> str | None:
    """The run's errors by reason, most items first, as the Evaluate page lists them; None when
    no item failed (items not scored yet are not errors)."""
    from ..app import run_errors

    table = run_errors(store, run_id).table
    if table.empty:
        return None
    shown = table.head(MAX_REASONS_SHOWN)
    width = len(f"{int(shown['items'].max()):,}")
    lines = ["errors by reason:"] + [f"  {n:>{width},}  {reason}" for reason, n in zip(shown["reason"], shown["items"])]
    if len(table) > MAX_REASONS_SHOWN:
        lines.append(f"  ... and {len(table) - MAX_REASONS_SHOWN} more reasons (each item's message is in "
                     "predictions.csv with --out)")
    return "\n".join(lines)


def _endpoint(base_url: str, model: str | None, api_key: str | None) -> Endpoint:
    from ..scoring import probe

    if model:
        return Endpoint(base_url, model, api_key)
    status = probe(base_url, api_key)
    if not status.healthy:
        raise ConfigError(f"Cannot list models at {base_url}: {status.error}")
    _say(f"no --model given; using {status.models[0].id!r}, the server's first")
    return Endpoint(base_url, status.models[0].id, api_key)


def _api_key(variable: str) -> str | None:
    if variable != "COPE_API_KEY" and variable not in os.environ:
        raise ConfigError(f"--api-key-env {variable}: that environment variable is not set.")
    return os.environ.get(variable) or None


def _read_policy(path: Path) -> PolicyVersion:
    """The policy file as a version, checked as the Policies page checks a save (size, UTF-8);
    its policy name comes from the file name, made safe (``con.md`` is "con-policy")."""
    from ..policies import read_policy_file, slugify, version_id
    from ..store import utc_now

    text = read_policy_file(path)
    slug = slugify(path.stem) if any(ch.isalnum() for ch in path.stem) else "policy"
    if slug != path.stem:
        _say(f"policy {path.name!r} is recorded under the name {slug!r}")
    return PolicyVersion(version_id(text), slug, text, note=f"from {path.name}", created=utc_now())


class _ProgressBar:
    def __call__(self, p: RunProgress) -> None:
        width = 30
        filled = int(width * p.done / p.total) if p.total else width
        eta = f"{p.eta_s:,.0f}s" if p.eta_s is not None else "?"
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {p.done:,}/{p.total:,} "
                         f"errors {p.errors:,} cached {p.cached:,} {p.rate:,.1f}/s ETA {eta}   ")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def _concurrency_shown(run) -> str:
    if not run.adaptive:
        return f"{run.concurrency:,} (fixed)"
    settled = "not settled" if run.settled_concurrency is None else f"settled at {run.settled_concurrency:,}"
    return f"auto, {settled} (at most {run.concurrency:,} per server)"


def _concurrency_flag(value: str) -> int | str:
    """``--concurrency``: ``auto``, or a whole number the process can hold open
    (http_client.check_concurrency)."""
    from ..scoring import AUTO, check_concurrency

    if value.strip().lower() == AUTO:
        return AUTO
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"--concurrency must be 'auto' or a whole number, not {value!r}.") from None
    try:
        check_concurrency(number)
    except ConfigError as exc:
        raise ConfigError(f"--concurrency: {exc}") from None
    return number


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
