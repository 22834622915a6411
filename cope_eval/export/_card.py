"""The reviewer's half of a bundle: the Markdown card and the self-contained curves page.

Both are rendered from the JSON card (``export._card``), so they can never disagree with it.
Text that came from users (categories, model names, notes, warnings) is escaped for Markdown
and HTML; the diff goes in a code fence longer than any backtick run inside it.
"""

from __future__ import annotations

import html
import re

from ..charts import confusion_matrix_figure, pr_figure, roc_figure, threshold_sweep_figure
from ..metrics import ThresholdChoice, metrics_at_threshold, pr_curve, roc_curve, threshold_sweep

METRIC_ROWS = ("precision", "recall", "f1", "accuracy", "specificity", "positive_rate")
SLICE_COLUMNS = ("n", "errors", "precision", "recall", "f1")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def curve_summary(scored, hard_label: bool) -> dict:
    """Areas under the curves, for the card: ``average_precision``, ``roc_auc`` (None when
    undefined), ``hard_label`` and the curves' ``note``."""
    pr = pr_curve(scored, hard_label=hard_label)
    roc = roc_curve(scored, hard_label=hard_label)
    notes = [n for n in dict.fromkeys((pr.note, roc.note)) if n]
    return {"average_precision": pr.average_precision, "roc_auc": roc.auc, "hard_label": hard_label,
            "note": "; ".join(notes)}


def curves_html(scored, chosen, card: dict) -> str:
    """One HTML page: PR, ROC, metrics by threshold and the confusion matrix at ``chosen``.

    Plotly's JavaScript is inlined once (``include_plotlyjs=True``): the page loads nothing.
    """
    hard = card["curves"]["hard_label"]
    metrics = metrics_at_threshold(scored, threshold=chosen.value)
    marker = ThresholdChoice(chosen.method, chosen.target, True, chosen.value, metrics, chosen.description)
    figures = [
        pr_figure(pr_curve(scored, hard_label=hard), chosen=marker),
        roc_figure(roc_curve(scored, hard_label=hard)),
        threshold_sweep_figure(threshold_sweep(scored, hard_label=hard), chosen=marker),
        confusion_matrix_figure(metrics),
    ]
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0), default_height="480px")
             for i, fig in enumerate(figures)]
    policy = card["policy"]
    title = f"Curves: {policy['name']} {_labelled(policy['label'], policy['version_id'][:19])}"
    intro = (f"Run {card['run']['id']} of model {card['model']} ({card['template']}, {card['answer_mode']}) on "
             f"golden set {card['golden_set']['name']} ({card['golden_set']['n_items']} items). Threshold "
             f"{chosen.value:g}: {chosen.description}.")
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        "<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px}</style>\n"
        f"</head>\n<body>\n<h1>{html.escape(title)}</h1>\n<p>{html.escape(intro)}</p>\n"
        + "\n".join(parts) + "\n</body>\n</html>\n"
    )


def card_markdown(card: dict, diff: str | None) -> str:
    """The card as Markdown: identity (author and version note included), threshold, metrics with
    intervals, categories, diff."""
    policy, run, golden, threshold = card["policy"], card["run"], card["golden_set"], card["threshold"]
    m, ci = card["metrics"], card["confidence_intervals"]
    out = [f"# Policy card: {_md(policy['name'])}", ""]
    out += _table(("field", "value"), [
        ("Policy", policy["name"]),
        ("Version", _labelled(policy["label"], policy["version_id"])),
        ("Parent version", _labelled(policy["parent_label"], policy["parent"]) if policy["parent"]
         else "none (first version)"),
        ("Author", policy["author"] or "not given"),
        ("Version note", policy["note"] or "none"),
        ("Model", card["model"]),
        ("Server", f"{card['server']['base_url']}, checkpoint {card['server']['checkpoint'] or 'not reported'}"),
        ("Template / answer mode", f"{card['template']} / {card['answer_mode']}"),
        ("Golden set", f"{golden['name']}: {golden['n_items']} items, {golden['hash']}"),
        ("Run", f"{run['id']}, created {run['created']}, {run['status']}"),
        ("Exported", f"{card['exported']} by cope-eval {card['cope_eval_version']}"),
    ])
    out += ["", "## Threshold", "",
            f"**{threshold['value']:g}**: {_md(threshold['description'])}."
            + (f" ({_md(threshold['note'])})" if threshold["note"] else ""),
            "An item is labelled 1 when its score (P(\"1\")) is at or above the threshold.", ""]
    out += _transfer(card.get("transfer"), threshold)
    out += ["## Metrics at this threshold", ""]
    level = f"{ci['confidence']:.0%} interval"
    rows = []
    for name in METRIC_ROWS:
        interval = ci["intervals"].get(name)
        shown = f"{_num(interval['low'])} to {_num(interval['high'])}" if interval else ""
        rows.append((name, _num(m[name]), shown))
    out += _table(("metric", "value", level), rows)
    out += ["", f"Counts: {m['tp']} TP, {m['fp']} FP, {m['fn']} FN, {m['tn']} TN over {m['n']} scored items; "
            f"{m['errors']} without a score (errors and unscored items are left out, never counted as 0). "
            f"Intervals: {ci['method']}, {ci['n_resamples']} resamples.", ""]
    out += _held_out(card.get("test_split"), ci["confidence"])
    out += _categories(card)
    curves = card["curves"]
    out += ["## Curves", "", "Open [curves.html](curves.html): precision-recall, ROC, metrics by threshold "
            "and the confusion matrix, in one page that works offline.",
            f"Average precision {_num(curves['average_precision'])}, ROC AUC {_num(curves['roc_auc'])}."
            + (f" {_md(curves['note'])}." if curves["note"] else ""), ""]
    out += _steerability(card["steerability"])
    out += ["## Changes from the parent version", "", _md(policy["diff_from_parent"]["note"]) + ".", ""]
    if diff:
        out += [_fenced(diff, "diff")]
    out += ["## Files", ""] + [f"- [{name}]({name})" for name in card["files"]] + [""]
    if card["warnings"]:
        out += ["## Warnings", ""] + [f"- {_md(w)}" for w in card["warnings"]] + [""]
    return "\n".join(out)


KEPT = {"precision": "the lowest threshold of this run whose precision is at least the source run's (the most "
                     "recall at it)",
        "recall": "the highest threshold of this run whose recall is at least the source run's (the fewest items "
                  "flagged at it)",
        "flag-rate": "the threshold of this run whose flag rate (share of items flagged) is closest to the source "
                     "run's; ties go to the higher threshold"}
CHANGE_NAMES = {"precision": "precision", "recall": "recall", "f1": "f1", "flag_rate": "flag rate",
                "fpr": "false positive rate"}


def _held_out(section: dict | None, confidence: float) -> list[str]:
    """The test split's figures at this threshold, and the looks at it before this export."""
    if not section:
        return []
    if not section["has_split"]:
        return ["The golden set has no test split: every figure here is on the items the policy was iterated "
                "on, so it flatters the policy. Split it (`cope-eval split`) to keep a held-out test.", ""]
    m, looks = section["metrics"], section["looks_before_export"]
    out = ["## Test split (held out)", "",
           f"The figures above are on the dev split. On the {section['items']} test items, at the same threshold:", ""]
    rows = [(name, _num(m[name]), f"{_num(i['low'])} to {_num(i['high'])}")
            for name, i in section["intervals"].items()]
    out += _table(("metric", "value", f"{confidence:.0%} interval"), rows)
    out += ["", f"Looked at **{looks}** time{'s' if looks != 1 else ''} before this export "
            "(each look at the test split is recorded; this export is one more)."
            + (" Looks:" if looks else ""), ""]
    if looks:
        out += _table(("who", "where", "when", "run"),
                      [(look["who"] or "not given", look["place"], look["created"], look["run_id"])
                       for look in section["looks"]])
        if looks > len(section["looks"]):
            out += ["", f"(the last {len(section['looks'])} of {looks} are listed)"]
        out.append("")
    return out


def _transfer(transfer: dict | None, threshold: dict) -> list[str]:
    """The source run's operating point, the rule that carried it over and what else changes."""
    if transfer is None:
        return []
    a = transfer["metrics_a"]
    out = [f"### Carried over from {_md(transfer['from_run'])}", ""]  # the rationale is the description above
    out += _table(("field", "value"), [
        ("Rule", f"keep the {transfer['keep'].replace('-', ' ')}: {KEPT[transfer['keep']]}"),
        ("Source run", f"{transfer['from_run']}: model {transfer['model']}, {transfer['template']} / "
                       f"{transfer['answer_mode']}"),
        ("Source operating point", f"threshold {transfer['threshold_a']:g}: precision {_num(a['precision'])}, recall "
                                   f"{_num(a['recall'])}, flag rate {_num(a['positive_rate'])} "
                                   f"({a['tp']} TP, {a['fp']} FP, {a['fn']} FN, {a['tn']} TN)"),
        ("This run", f"threshold {threshold['value']:g}"),
        ("Items compared", transfer["items"]),
    ])
    level = f"{transfer['confidence']:.0%} interval"
    rows = [(CHANGE_NAMES.get(name, name), _num(c["a"]["estimate"]), _num(c["b"]["estimate"]),
             _signed(c["change"]["estimate"]), f"{_signed(c['change']['low'])} to {_signed(c['change']['high'])}")
            for name, c in transfer["changes"].items()]
    out += ["", "What else changes at this threshold (this run minus the source run, on the same items):", ""]
    out += _table(("metric", "source run", "this run", "change", level), rows)
    return out + ["", "Intervals hold both thresholds fixed: choosing this run's threshold on the same items adds "
                      "uncertainty they do not show.", ""]


def _signed(value) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def _labelled(label: str | None, version_id: str) -> str:
    """A version id with its label in front ("v3 · sha256:…"); alone when the label is unknown."""
    return f"{label} · {version_id}" if label else version_id


def _steerability(probe: dict) -> list[str]:
    out = ["## Steerability probe", ""]
    if not probe["probed"]:
        return out + [_md(probe["note"]).capitalize() + ".", ""]
    flips, off_topic = probe["flip_rate"], probe["off_topic_flag_rate"]
    out += [f"Study {_md(probe['study_id'])}, {probe['items']} items at threshold {probe['threshold']:g}: inverting "
            f"the policy flipped {_share(flips)} of decisions (a model that follows the policy flips nearly all); "
            f"a policy about an unrelated subject flagged {_share(off_topic)} of items (it should flag almost none).", ""]
    return out + [f"- {_md(w)}" for w in probe["warnings"]] + ([""] if probe["warnings"] else [])


def _share(p: dict) -> str:
    return f"{p['estimate']:.0%} ({p['count']} of {p['n']}; {p['confidence']:.0%} interval {p['low']:.0%} to {p['high']:.0%})"


def _categories(card: dict) -> list[str]:
    if not card["per_category"]:
        return ["## Per category", "", "The golden set has no categories.", ""]
    rows = [(row["category"], *(_num(row[c]) if isinstance(row[c], float) else row[c] for c in SLICE_COLUMNS))
            for row in card["per_category"]]
    mean = card["per_category_mean"]
    rows.append(("unweighted mean", "", "", *(_num(mean[c]) for c in SLICE_COLUMNS[2:])))
    return ["## Per category", ""] + _table(("category", *SLICE_COLUMNS), rows) + [""]


def _table(header, rows) -> list[str]:
    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
    return lines


def _md(value) -> str:
    """Text safe inside Markdown (and a table cell): HTML escaped, specials backslashed, one line."""
    text = html.escape(str(value), quote=False)
    return " ".join(_MD_SPECIAL.sub(r"\\\1", text).split())


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _fenced(text: str, lang: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}\n"
