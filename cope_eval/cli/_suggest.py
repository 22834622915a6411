"""``python -m cope_eval suggest RUN``: ask a chat model for minimal policy edits fixing the run's dev misses.

Each suggestion is printed as a unified diff against the run's policy version, with its rationale
lines; ``--score`` scores it on the run's dev items (a study: ``resume`` continues it) and prints
Δprecision, Δrecall and ΔF1 with paired intervals and the items it fixes and breaks;
``--save-draft`` keeps the first changed suggestion as the policy's draft (never a version; an
existing draft with another text is kept unless ``--replace-draft``).

The chat server is by default the run's own scoring server and model (``--model`` picks another
model there). ``--base-url`` asks another server: its key is ``--api-key-env VAR``, else
``COPE_API_KEY`` when ``COPE_BASE_URL`` is that server, else none; scoring still goes to the
run's server with its own key (``_options.key_for_run``). Exit 0 when at least one reply could be
read, 1 when none could (each reply's problem is printed), 2 for an error.
"""

from __future__ import annotations

import argparse
import os

from ..config import normalise_base_url, server_from_env, workspace_from_env
from ..errors import ConfigError, CopeEvalError
from ..records import Endpoint, short_id
from ._options import DefaultsHelpFormatter, add_json, count_flag, key_for_run, threshold_flag
from ._output import print_json
from ._terminal import terminal_safe

EXIT_NO_SUGGESTION = 1
"""Exit status when no reply held a revised policy."""


def add_commands(commands) -> None:
    suggest = commands.add_parser("suggest", help="ask a chat model for minimal policy edits fixing a run's dev misses",
                                  arguments=_arguments, formatter_class=DefaultsHelpFormatter)
    suggest.set_defaults(handler=suggest_command)


def _arguments(parser: argparse.ArgumentParser) -> None:
    from ..insight import DEFAULT_MAX_ITEMS, DEFAULT_MIN_CONFIDENCE

    parser.add_argument("run_id", metavar="RUN")
    parser.add_argument("--n", type=count_flag("--n"), default=1, metavar="N", help="suggestions to ask for")
    parser.add_argument("--base-url", help="chat server (default: the run's scoring server)")
    parser.add_argument("--model", help="chat model (default: the run's model, or the server's first with --base-url)")
    parser.add_argument("--api-key-env", metavar="VAR",
                        help="environment variable holding the chat server's key (default: the run's key for its "
                             "own server; with --base-url, COPE_API_KEY only when COPE_BASE_URL is that server)")
    parser.add_argument("--max-items", type=count_flag("--max-items"), default=DEFAULT_MAX_ITEMS, metavar="K",
                        help="dev misses quoted in the prompt")
    parser.add_argument("--min-confidence", type=threshold_flag("--min-confidence"), default=DEFAULT_MIN_CONFIDENCE,
                        metavar="X", help="only misses at least this confident (P(\"1\") for FP, 1 - P(\"1\") for FN)")
    parser.add_argument("--score", action="store_true", help="score each suggestion on the run's dev items")
    parser.add_argument("--save-draft", action="store_true",
                        help="keep the first changed suggestion as the policy's draft (never a version)")
    parser.add_argument("--replace-draft", action="store_true",
                        help="with --save-draft, replace the policy's existing draft")
    parser.add_argument("--show-prompt", action="store_true", help="print the chat messages sent")
    add_json(parser, "print the suggestions (and scores) as JSON")


def suggest_command(args) -> int:
    from ..insight import score_suggestion, suggest_edits
    from ..store import Store

    workspace = workspace_from_env()
    with Store(workspace.private_dir) as store:
        run = store.run(args.run_id)
        chat = _chat_endpoint(run, args)
        suggestions = suggest_edits(store, run.id, chat, n=args.n, max_items=args.max_items,
                                    min_confidence=args.min_confidence)
        reports = [{"suggestion": s} for s in suggestions]
        if args.score:
            scoring = Endpoint(run.base_url, run.model, key_for_run(run, None if args.base_url else args.api_key_env))
            for report in reports:
                s = report["suggestion"]
                if s.status != "suggested":
                    continue
                try:
                    report["score"] = score_suggestion(store, s, scoring, workspace.root)
                except CopeEvalError as error:
                    report["score_error"] = str(error)
        draft_error = _save_draft(workspace.root, reports, args) if args.save_draft else None
    if args.json:
        print_json(_as_json(run, chat, suggestions, reports))
    else:
        _print(run, chat, suggestions, reports, args)
    if draft_error:
        raise ConfigError(draft_error)
    return 0 if any(s.ok for s in suggestions) else EXIT_NO_SUGGESTION


def _chat_endpoint(run, args) -> Endpoint:
    """The chat server: the run's own (its key), or ``--base-url`` with the key the module docstring says."""
    if not args.base_url:
        return Endpoint(run.base_url, run.model if args.model is None else args.model, key_for_run(run, args.api_key_env))
    base_url = normalise_base_url(args.base_url)
    if args.api_key_env:
        if args.api_key_env not in os.environ:
            raise ConfigError(f"--api-key-env {args.api_key_env}: that environment variable is not set.")
        key = os.environ[args.api_key_env] or None
    else:
        setting = server_from_env()
        key = setting.api_key if setting.base_url == base_url else None
    if args.model:
        return Endpoint(base_url, args.model, key)
    from ._run import _endpoint  # the server's first model, said on stderr

    return _endpoint(base_url, None, key)


def _save_draft(root, reports, args) -> str | None:
    from ..insight import save_suggestion_as_draft

    changed = [r for r in reports if r["suggestion"].status == "suggested"]
    if not changed:
        return "--save-draft: no suggestion changes the policy, so no draft was kept."
    try:
        changed[0]["draft"] = save_suggestion_as_draft(root, changed[0]["suggestion"], replace=args.replace_draft)
    except CopeEvalError as error:
        return f"--save-draft: {error}"
    return None


def _diff(run_policy: str, s) -> str:
    from ..policies import diff_texts

    return diff_texts(s.base_text, s.text, old_label=f"{run_policy}@{short_id(s.base_version_id)}",
                      new_label=s.id).unified if s.ok else ""


def _print(run, chat, suggestions, reports, args) -> None:
    first = suggestions[0]
    print(f"{run.id}  ({terminal_safe(first.policy)}@{short_id(run.policy_version_id, 8)}, threshold {run.threshold:g})")
    print(f"asked {terminal_safe(chat.model)} at {terminal_safe(chat.base_url)} about {len(first.item_ids)} "
          f"confident miss(es) on dev")
    if args.show_prompt:
        for message in first.messages:
            print(f"\n--- {message['role']} ---")
            for line in message["content"].split("\n"):
                print(terminal_safe(line))
    for number, report in enumerate(reports, 1):
        s = report["suggestion"]
        print(f"\nsuggestion {number} of {len(reports)}: {s.id}  ({s.status}; answered by "
              f"{terminal_safe(s.answered_by) or 'no one'})")
        for problem in s.problems:
            print(f"  problem: {terminal_safe(problem)}")
        if s.status == "failed":
            print("  no revised policy could be read from the reply" + ("" if s.raw_reply else " (no reply)"))
            if s.raw_reply:
                print(f"  reply begins: {terminal_safe(s.raw_reply, 200)}")
            continue
        if s.status == "unchanged":
            print("  the suggested text is the current policy, unchanged")
            continue
        for line in _diff(s.policy, s).splitlines():
            print(f"  {terminal_safe(line)}")
        for r in s.rationales:
            print(f"  RATIONALE: {terminal_safe(r.clause)} — {terminal_safe(r.why)}")
        if "score" in report:
            print(_score_lines(report["score"]))
        elif "score_error" in report:
            print(f"  not scored: {terminal_safe(report['score_error'])}")
        if "draft" in report:
            print(f"  kept as the draft of policy {terminal_safe(s.policy)} (not a version: save it on the Policies page)")
    failed = sum(not s.ok for s in suggestions)
    unchanged = sum(s.unchanged for s in suggestions)
    print(f"\n{len(suggestions)} suggestion(s): {len(suggestions) - failed - unchanged} changed, {unchanged} unchanged, "
          f"{failed} failed (no revised policy could be read)")


def _score_lines(score) -> str:
    c = score.comparison
    lines = [f"  on {score.note} ({c.n:,} scored by both; {c.confidence:.0%} paired intervals):"]
    for metric, interval in c.deltas.items():
        before, after = getattr(c.metrics_a, metric), getattr(c.metrics_b, metric)
        lines.append(f"    Δ{metric:<10}{interval.estimate:+.3f}  [{interval.low:+.3f}, {interval.high:+.3f}]  "
                     f"({before:.3f} -> {after:.3f})")
    lines.append(f"    fixes {c.fixed:,} item(s), breaks {c.broken:,}"
                 + (f"; {c.errors_b:,} errored under the suggestion" if c.errors_b else ""))
    for row in score.changed.head(10).itertuples(index=False):
        lines.append(f"    {row.outcome:<7}{terminal_safe(row.item_id)}  gold {row.label}  "
                     f"{row.score_a:.3f} -> {row.score_b:.3f}")
    return "\n".join(lines)


def _as_json(run, chat, suggestions, reports) -> dict:
    out = []
    for report in reports:
        s = report["suggestion"]
        entry = {**s.to_dict(), "diff": _diff(s.policy, s)}
        entry.pop("base_text")
        entry["score"] = report["score"].to_dict() if "score" in report else None
        entry["score_error"] = report.get("score_error")
        entry["draft"] = "draft" in report
        out.append(entry)
    return {"run": run.id, "policy_version": run.policy_version_id, "chat": {"base_url": chat.base_url,
            "model": chat.model}, "split": "dev", "counts": {
            "suggestions": len(suggestions), "failed": sum(not s.ok for s in suggestions),
            "unchanged": sum(s.unchanged for s in suggestions)}, "suggestions": out}

