"""Batch files for offline scoring: a run's requests as an OpenAI / vLLM ``run-batch`` JSONL
file, and the results file read back into the run.

Export. One line per item still without a prediction (every item with ``include_scored``)::

    {"custom_id":<item id>,"method":"POST","url":"/v1/chat/completions","body":<body>}

``<body>`` is ``JobBuilder.body()``'s bytes pasted in as they are, so the server receives JSON
byte-identical to what the live client sends. Lines of the cope-a template go to
``/v1/completions``: the OpenAI batch API takes that endpoint, but vLLM's ``run-batch`` (0.32)
rejects such a line when it reads it (checked against vLLM's own ``BatchRequestInput``), which
stops the whole batch, and the export says so.
Items whose request cannot be built (an unreadable image or video, an image for cope-a, a video for
cope-a or safeguard) are left out and reported. Videos are read one at a time as their lines are
written. Exporting never changes the store.

Import. A results line is ``{"id", "custom_id", "response": {"status_code", "request_id",
"body"}, "error"}``:

- status 200 and no error: ``body`` is read with ``scoring.read_answer``, as a live reply is; an
  unusable reply is stored as that item's error;
- ``error`` set, or another status: stored as an error for the item (status and message);
- not JSON, no ``custom_id``, an id that is not an item of the run, an id already used by an
  earlier line, or neither response nor error: reported with the line number, nothing stored;
- an item that already had a prediction is skipped and reported: no item is stored twice.

Items still without a prediction afterwards are reported as missing. Predictions are stored
through ``Store.add_predictions`` in chunks, with cache entries (as live results add) for the
answers whose request depends on nothing outside the store: text, a data-URL image, or a video
(keyed by its digest, as a live run keys it). The run
is then marked completed when every item has a prediction, else interrupted, so that
``resume`` scores the rest live.

Which server answered a batch file is not in it, so imported answers are attributed to the run
they are imported into, no further: the cache entries carry the run's identity as recorded
(``jobs.AnswerSource``: its endpoint, model and checkpoint). When the run has no checkpoint
recorded, neither do its entries: they serve only later runs at that endpoint whose server
does not report a checkpoint either, never a server that reports one, just as live answers
from such a server do. Importing is refused while a live process scores the run.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from ..errors import ConfigError, CopeEvalError, NotFoundError, RowProblem, ValidationError
from ..golden import image_kind
from ..store import Store, refuse_if_being_scored, scoring_here
from ._answers import Answer, AnswerError, read_answer
from ._jobs import AnswerSource, JobBuilder
from ._templates import get_template

CHUNK = 5000
"""Predictions committed per transaction while importing."""
MAX_LISTED = 1000
"""At most this many problems, skipped lines and missing ids are listed (all are counted)."""
VLLM_RUN_BATCH_URLS = ("/v1/chat/completions",)
"""Scoring endpoints vLLM's ``run-batch`` accepts (0.32)."""


@dataclass(frozen=True)
class BatchExport:
    """What ``write_batch`` / ``export_batch`` wrote."""

    run_id: str
    """The run whose requests were written."""
    url: str
    """The endpoint every line targets, e.g. ``/v1/chat/completions``."""
    lines: int
    """Requests written, one per line."""
    already_scored: int
    """Items left out because they already have a prediction."""
    refused: tuple[RowProblem, ...]
    """Items left out because their request could not be built (row = golden-set row)."""
    warnings: tuple[str, ...]
    """What to know before running the file."""


@dataclass(frozen=True)
class BatchImport:
    """What ``import_batch`` stored, skipped and could not use."""

    run_id: str
    """The run the results went into."""
    lines: int
    """Non-blank lines read."""
    scored: int
    """Predictions stored with a score."""
    errors: int
    """Predictions stored as errors (error lines, non-200 statuses, unusable replies)."""
    skipped: int
    """Lines for items that already had a prediction: nothing stored for them."""
    skipped_lines: tuple[tuple[int, str], ...]
    """(line number, item id) of the first ``MAX_LISTED`` skipped lines."""
    problem_count: int
    """Lines that could not be used at all."""
    problems: tuple[RowProblem, ...]
    """The first ``MAX_LISTED`` of them (row = line number, 1-based)."""
    missing: int
    """Items of the run still without a prediction after the import."""
    missing_ids: tuple[str, ...]
    """The first ``MAX_LISTED`` of them, in golden-set order."""
    status: str
    """The run's status afterwards."""

    @property
    def stored(self) -> int:
        """Predictions stored by this import."""
        return self.scored + self.errors

    @property
    def clean(self) -> bool:
        """True when every line was usable and every item now has a prediction."""
        return self.problem_count == 0 and self.missing == 0


def write_batch(store: Store, run_id: str, out: BinaryIO, *, workspace_root: Path, include_scored: bool = False,
                allow_urls: bool = False) -> BatchExport:
    """Write the run's requests as batch JSONL lines to the binary stream ``out``."""
    run = store.run(run_id)
    template = get_template(run.template)
    golden = store.golden_set(run.golden_hash)
    builder = JobBuilder(template, model=run.model, policy=store.policy_version(run.policy_version_id).text,
                         answer_mode=run.answer_mode, workspace_root=workspace_root, allow_urls=allow_urls)
    done = set() if include_scored else store.scored_item_ids(run_id)
    url = "/v1" + template.endpoint
    middle = b',"method":"POST","url":' + json.dumps(url).encode() + b',"body":'
    lines, refused = 0, []
    items = golden.items
    rows = zip(items["id"], items["text"], items["image"], items["video"], items["video_digest"])
    for row, (item_id, text, image, video, digest) in enumerate(rows, start=1):
        if item_id in done:
            continue
        try:  # the same arguments JobBuilder.jobs() gives the live client; a video is read here, one at a time
            body = builder.body("" if pd.isna(text) else text, None if pd.isna(image) else image,
                                None if pd.isna(video) else video, None if pd.isna(digest) else digest)
        except (ValidationError, ConfigError) as exc:
            refused.append(RowProblem(golden.name, row, "image" if pd.isna(video) else "video", str(item_id),
                                      str(exc)))
            continue
        out.write(b'{"custom_id":' + json.dumps(item_id, ensure_ascii=False).encode() + middle + body + b"}\n")
        lines += 1
    warnings = []
    if url not in VLLM_RUN_BATCH_URLS:
        warnings.append(f"the {template.name} template uses {url}: OpenAI-compatible batch services take it, but "
                        "vLLM's run-batch (0.32) rejects such lines and stops on the first one")
    if refused:
        warnings.append(f"{len(refused)} item(s) left out: their request could not be built")
    return BatchExport(run_id, url, lines, len(done), tuple(refused), tuple(warnings))


def export_batch(store: Store, run_id: str, dest: Path, *, workspace_root: Path, include_scored: bool = False,
                 allow_urls: bool = False, overwrite: bool = False) -> BatchExport:
    """Write the batch file ``dest`` (complete or not at all); refuses to replace a file unless
    ``overwrite``."""
    dest = Path(dest)
    if dest.exists() and not overwrite:
        raise ConfigError(f"{dest} already exists; choose another name or overwrite it.")
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            result = write_batch(store, run_id, fh, workspace_root=workspace_root, include_scored=include_scored,
                                 allow_urls=allow_urls)
        if overwrite:
            os.replace(tmp, dest)
        else:
            _link_new(tmp, dest)
    except OSError as exc:
        raise ConfigError(f"Cannot write {dest}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return result


def import_batch(store: Store, run_id: str, results: Path | str | bytes, *, filename: str | None = None) -> BatchImport:
    """Store the answers of a batch results file (a path, or uploaded bytes) in the run."""
    run = store.run(run_id)
    refuse_if_being_scored(run)
    with scoring_here(run_id):
        return _import(store, run, results, filename)


def _import(store: Store, run, results, filename: str | None) -> BatchImport:
    run_id = run.id
    name = filename or ("upload" if isinstance(results, bytes) else Path(results).name)
    template = get_template(run.template)
    items = store.golden_set(run.golden_hash).items
    ids = items["id"].tolist()
    position = {item_id: i for i, item_id in enumerate(ids)}
    builder = JobBuilder(template, model=run.model, policy=store.policy_version(run.policy_version_id).text,
                         answer_mode=run.answer_mode, workspace_root=Path("."),  # keys only file-free requests
                         source=AnswerSource(run.base_url, run.model, run.checkpoint))
    already = store.scored_item_ids(run_id)
    writer = _Writer(store, run_id)
    used: dict[str, int] = {}
    problems, skipped = _Listed(), _Listed()
    lines = 0
    try:
        for number, record, problem in _records(results, name):
            lines += 1
            if problem is None:
                problem = _check_id(record["custom_id"], position, used, run_id)
            if problem is not None:
                shown = None if record is None else record["custom_id"]
                problems.add(RowProblem(name, number, None if record is None else "custom_id", shown, problem))
                continue
            item_id = record["custom_id"]
            if item_id in already:
                used[item_id] = number
                skipped.add((number, item_id))
                continue
            try:
                answer, error = _outcome(template, record)
            except _Malformed as exc:
                problems.add(RowProblem(name, number, None, item_id, str(exc)))
                continue
            used[item_id] = number
            i = position[item_id]
            writer.add(item_id, answer, error, _cache_key(builder, *(items[c].iat[i] for c in KEYED_COLUMNS)))
        writer.flush()
    except BaseException as exc:
        writer.flush()
        if writer.stored:
            store.mark_run(run_id, "interrupted", error=f"batch import stopped: {type(exc).__name__}: {exc}")
        raise
    scored_now = store.scored_item_ids(run_id)
    missing = [item_id for item_id in ids if item_id not in scored_now]
    status = run.status
    if writer.stored:
        status = "interrupted" if missing else "completed"
        store.mark_run(run_id, status, error=f"batch import left {len(missing)} item(s) without a prediction; "
                                             "resume the run to score them live" if missing else None)
    return BatchImport(run_id, lines, writer.scored, writer.errors, skipped.count, tuple(skipped.items),
                       problems.count, tuple(problems.items), len(missing), tuple(missing[:MAX_LISTED]), status)


class _Malformed(Exception):
    """The line has a usable custom_id but no usable response or error."""


class _Listed:
    """Counts everything, keeps the first MAX_LISTED."""

    def __init__(self):
        self.count, self.items = 0, []

    def add(self, item) -> None:
        self.count += 1
        if len(self.items) < MAX_LISTED:
            self.items.append(item)


class _Writer:
    """Buffers prediction rows (as the live recorder does) and commits them in chunks."""

    def __init__(self, store: Store, run_id: str):
        self.store, self.run_id = store, run_id
        self.rows, self.cache_rows = [], []
        self.scored = self.errors = 0
        self.marked = False

    @property
    def stored(self) -> int:
        return self.scored + self.errors

    def add(self, item_id: str, answer: Answer | None, error: str | None, cache_key: str | None) -> None:
        if answer is None:
            self.rows.append((item_id, None, None, None, error, None, 0))
            self.errors += 1
        else:
            self.rows.append((item_id, answer.score, answer.hard_label, answer.raw, None, None, 0))
            self.scored += 1
            if cache_key is not None:
                self.cache_rows.append((cache_key, answer.score, answer.hard_label, answer.raw))
        if len(self.rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if not self.marked:  # stamps the start time, as a live execution does
            self.store.mark_run(self.run_id, "running", pid=os.getpid())
            self.marked = True
        rows, self.rows = self.rows, []
        cache_rows, self.cache_rows = self.cache_rows, []
        self.store.add_predictions(self.run_id, rows, cache_rows)


def _records(results, name: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, record or None, problem or None) for every non-blank line."""
    if isinstance(results, bytes):
        fh = io.BytesIO(results)
    else:
        try:
            fh = open(results, "rb")
        except OSError as exc:
            raise NotFoundError(f"Cannot read batch results {name}: {exc.strerror or exc}") from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, f"line is not UTF-8 (byte {exc.start})"
                continue
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON ({exc.msg}, column {exc.colno})"
                continue
            if not isinstance(record, dict):
                yield number, None, "not a JSON object"
            elif not isinstance(record.get("custom_id"), str) or not record["custom_id"]:
                yield number, None, "no custom_id"
            else:
                yield number, record, None


def _check_id(item_id: str, position: dict, used: dict, run_id: str) -> str | None:
    if item_id not in position:
        return f"custom_id {item_id!r} is not an item of run {run_id}"
    if item_id in used:
        return f"custom_id {item_id!r} was already given on line {used[item_id]}; this line is ignored"
    return None


def _outcome(template, record: dict) -> tuple[Answer | None, str | None]:
    """(answer, None) for a usable reply, (None, error) for an error to store; raises _Malformed."""
    error, response = record.get("error"), record.get("response")
    if response is not None and not isinstance(response, dict):
        raise _Malformed("response is not a JSON object")
    status = 200 if response is None else response.get("status_code", 200)
    if not isinstance(status, int) or isinstance(status, bool):
        raise _Malformed(f"status_code is not a number: {status!r}")
    body = None if response is None else response.get("body")
    if error is not None or status != 200:
        shown = f"HTTP {status}" if response is not None else "error"
        return None, f"batch: {shown}: {_message(error) or _message(body) or 'no message'}"[:500]
    if response is None:
        raise _Malformed("neither a response nor an error")
    if not isinstance(body, dict):
        raise _Malformed("the response has no body")
    try:
        return read_answer(template, body), None
    except AnswerError as exc:
        return None, str(exc)


def _message(value) -> str:
    """The human part of an error: a string, or the message of an OpenAI/vLLM error object."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("error", "message", "detail"):
            inner = value.get(key)
            if isinstance(inner, (str, dict)) and _message(inner):
                return _message(inner)
    return json.dumps(value, ensure_ascii=False)[:300]


KEYED_COLUMNS = ("text", "image", "video", "video_digest")


def _cache_key(builder: JobBuilder, text, image, video, digest) -> str | None:
    """The live cache key, for requests that depend on nothing outside the store: text, a
    data-URL image, or a video (its key holds the digest its bytes must match when sent)."""
    text = "" if pd.isna(text) else text
    try:
        if not pd.isna(video):
            return builder.cache_key(builder.key_body(text, video, None if pd.isna(digest) else digest))
        if not pd.isna(image) and image_kind(image) != "data":
            return None  # a file or URL may have changed since the batch was made
        return builder.cache_key(builder.body(text, None if pd.isna(image) else image))
    except CopeEvalError:
        return None


def _link_new(tmp: Path, dest: Path) -> None:
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise ConfigError(f"{dest} appeared while the batch file was being written; it was not replaced.") from None
    except OSError:  # no hard links on this filesystem
        if dest.exists():
            raise ConfigError(f"{dest} already exists; choose another name or overwrite it.") from None
        os.replace(tmp, dest)
