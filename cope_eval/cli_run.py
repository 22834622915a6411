"""``python -m cope_eval run`` (a CI gate for policy changes) and ``resume``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .cli_keys import key_for_run
from .config import normalise_base_url, workspace_from_env
from .csv_safe import write_csv
from .errors import ConfigError, CopeEvalError
from .golden import ColumnSpec, load_golden_set
from .metrics import metrics_at_threshold
from .policies import slugify, version_id
from .records import Endpoint, PolicyVersion
from .results import run_results, with_predicted_labels
from .runner import RunProgress, create_run, execute_run
from .server_info import probe
from .store import Store, utc_now
from .templates import ANSWER_MODES, DEFAULT_TEMPLATE, TEMPLATES

EXIT_BELOW_F1 = 1


def add_commands(commands) -> None:
    run = commands.add_parser("run", help="score a policy file over a golden-set file",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    run.add_argument("--golden", required=True, type=Path, help="golden set: CSV, JSONL, JSON, Parquet")
    run.add_argument("--policy", required=True, type=Path, help="policy text (Markdown or plain text)")
    run.add_argument("--base-url", default=os.environ.get("COPE_BASE_URL"), help="server URL (default $COPE_BASE_URL)")
    run.add_argument("--model", default=os.environ.get("COPE_MODEL"), help="model name (default $COPE_MODEL, else the server's first)")
    run.add_argument("--template", choices=list(TEMPLATES), default=DEFAULT_TEMPLATE)
    run.add_argument("--answer-mode", choices=ANSWER_MODES, default="logprobs")
    for role in ("text", "label", "image", "id", "category"):
        run.add_argument(f"--{role}-column", metavar="C", help=f"column holding the {role} (default: auto-detect)")
    run.add_argument("--concurrency", type=int, default=16)
    run.add_argument("--replica", action="append", default=[], metavar="URL",
                     help="another server of the same model to share the work (repeatable; same key and concurrency)")
    run.add_argument("--threshold", type=float, default=0.5)
    run.add_argument("--api-key-env", metavar="VAR", default="COPE_API_KEY", help="environment variable holding the API key")
    run.add_argument("--out", type=Path, metavar="DIR", help="write metrics.json and predictions.csv here")
    run.add_argument("--no-cache", action="store_true", help="send every item even when a cached answer exists")
    run.add_argument("--fail-under-f1", type=float, metavar="X", help=f"exit {EXIT_BELOW_F1} when F1 is below X")
    run.set_defaults(handler=run_command)

    resume = commands.add_parser("resume", help="continue an interrupted or cancelled run")
    resume.add_argument("run_id")
    resume.add_argument("--retry-errors", action="store_true", help="also send again the items that failed")
    resume.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the run's server key "
                        "(default: COPE_API_KEY unless COPE_BASE_URL is another server)")
    resume.add_argument("--out", type=Path, metavar="DIR")
    resume.set_defaults(handler=resume_command)


ZENTROPI_BASE_URL = "https://api.zentropi.ai/v1"


def run_command(args) -> int:
    if args.template == "zentropi":
        args.base_url = args.base_url or ZENTROPI_BASE_URL
        if args.api_key_env == "COPE_API_KEY":
            args.api_key_env = "ZENTROPI_API_KEY"
    if not args.base_url:
        raise ConfigError("No server: pass --base-url or set COPE_BASE_URL (`make serve-local` starts one here).")
    endpoint = _endpoint(normalise_base_url(args.base_url), args.model, _api_key(args.api_key_env))
    workspace = workspace_from_env().ensure()
    spec = ColumnSpec(text=args.text_column, label=args.label_column, image=args.image_column,
                      id=args.id_column, category=args.category_column)
    loaded = load_golden_set(args.golden, workspace.root, spec=spec)
    for warning in loaded.warnings[:5]:
        _say(f"warning: {warning}")
    policy = _read_policy(args.policy)
    with Store(workspace.private_dir) as store:
        run = create_run(store, policy=policy, golden=loaded.golden_set, endpoint=endpoint, template=args.template,
                         answer_mode=args.answer_mode, threshold=args.threshold, concurrency=args.concurrency)
        _say(f"{run.id}: {len(loaded.golden_set):,} items, {args.template} on {endpoint.model} at {endpoint.base_url}")
        replicas = [(Endpoint(normalise_base_url(url), endpoint.model, endpoint.api_key), args.concurrency)
                    for url in args.replica]
        return _execute_and_report(store, run.id, endpoint, workspace.root, args, use_cache=not args.no_cache,
                                   replicas=replicas)


def resume_command(args) -> int:
    workspace = workspace_from_env()
    with Store(workspace.private_dir) as store:
        run = store.run(args.run_id)
        endpoint = Endpoint(run.base_url, run.model, key_for_run(run, args.api_key_env))
        args.threshold, args.fail_under_f1 = run.threshold, None
        return _execute_and_report(store, run.id, endpoint, workspace.root, args, retry_errors=args.retry_errors)


def _execute_and_report(store, run_id, endpoint, root, args, **options) -> int:
    bar = _ProgressBar() if sys.stderr.isatty() else None
    try:
        result = execute_run(store, run_id, endpoint, workspace_root=root, progress=bar, **options)
    except KeyboardInterrupt:
        _say(f"\ninterrupted; continue with: python -m cope_eval resume {run_id}")
        return 130
    finally:
        if bar:
            bar.close()
    for warning in result.budget_warnings:
        _say(f"warning: {warning}")
    results = run_results(store, run_id)
    metrics = metrics_at_threshold(results, threshold=args.threshold)
    run = result.run
    print(_summary(run, metrics, result))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        card = {**metrics.to_dict(), "run_id": run.id, "status": run.status, "model": run.model,
                "template": run.template, "answer_mode": run.answer_mode, "policy_version_id": run.policy_version_id,
                "golden_hash": run.golden_hash, "items": run.n_items}
        (args.out / "metrics.json").write_text(json.dumps(card, indent=2) + "\n")
        columns = ["item_id", "label", "score", "pred", "error"] + (["category"] if "category" in results else [])
        table = with_predicted_labels(results, args.threshold)[columns].rename(columns={"item_id": "id"})
        write_csv(table, args.out / "predictions.csv")
    if run.status != "completed":
        raise CopeEvalError(f"run {run.id} is {run.status}: {run.error or 'not every item was scored'}; "
                            f"continue with: python -m cope_eval resume {run.id}")
    if args.fail_under_f1 is not None and metrics.f1 < args.fail_under_f1:
        _say(f"F1 {metrics.f1:.4f} is below --fail-under-f1 {args.fail_under_f1}")
        return EXIT_BELOW_F1
    return 0


def _summary(run, m, result) -> str:
    rows = [("run", run.id), ("status", run.status), ("items", f"{run.n_items:,}"), ("scored", f"{m.n:,}"),
            ("errors", f"{m.errors:,}"), ("from cache", f"{result.progress.cached:,}"),
            ("sent", f"{result.progress.sent:,}"), ("threshold", f"{m.threshold:g}"),
            ("tp / fp / fn / tn", f"{m.tp} / {m.fp} / {m.fn} / {m.tn}"), ("precision", f"{m.precision:.4f}"),
            ("recall", f"{m.recall:.4f}"), ("f1", f"{m.f1:.4f}"), ("accuracy", f"{m.accuracy:.4f}")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def _endpoint(base_url: str, model: str | None, api_key: str | None) -> Endpoint:
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
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read policy file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"Policy file {path} is not UTF-8 (byte {exc.start}).") from None
    if not text.strip():
        raise ConfigError(f"Policy file {path} is empty.")
    return PolicyVersion(version_id(text), slugify(path.stem) if path.stem.strip("-_. ") else "policy", text,
                         note=f"from {path.name}", created=utc_now())


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


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
