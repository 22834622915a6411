"""A bundle as one zip file: in memory for a small one (``bundle_zip``), on disk for the Export
page (``zip_bundle``).

The page's zip is written in a folder of the workspace's private folder (``EXPORTS_FOLDER``),
file by file from a staging folder (``stage_bundle``), to a temporary name then renamed: a
million-item bundle (hundreds of megabytes of predictions and Zentropi samples) is never whole in
the app's memory, and a reader never sees half a zip. Its name carries a key of everything that
decides its content (``zip_key``: the run and how many predictions it has stored, the threshold
or the rule, the run a threshold is carried over from, the run's completed probes, who exports,
cope-eval's version), so the page re-rendered, reopened or after a restart finds it again instead
of building it again, and records no second look at the test split. The newest ``KEEP_ZIPS``
zips are kept; older ones, and what an interrupted build left behind, are removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import shlex
import shutil
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

from ..store import Store
from ._bundle import (
    CARD_FORMAT, FILES, Bundle, ChosenThreshold, ExportError, WrittenBundle, bundle_name, completed_probes,
    stage_bundle,
)
from ._files import UnwritableFile
from ._folder import STAGING_PREFIX
from ._transfer import TransferFrom

EXPORTS_FOLDER = "exports"
"""The page's zips are in this folder of the workspace's private folder (``Workspace.private_dir``)."""
KEEP_ZIPS = 4
"""Zips kept in that folder, newest (built or reused) first."""
STALE_SECONDS = 3600
"""What an interrupted build left (staging folders, half-written zips) is removed after this long."""
DOWNLOAD_LIMIT_BYTES = 200 * 1024 * 1024
"""Largest zip the page offers as a download: a download is held whole in the app's memory while
it is served, so a larger one is named by its path on disk (and ``export_command`` writes it)."""
COMPRESS_LEVEL = 1
"""zlib's fastest level. The page builds a zip on each new choice while an analyst waits, and most of a
small bundle is the card's inlined plotly.js: a 1,000-item run's zip took 0.15 s instead of 0.21 s at
zlib's default (6), for 1.7 MB instead of 1.5 MB (100,000 items: 1.78 s / 3.5 MB against 1.98 s / 3.3 MB)."""


def bundle_zip(bundle: Bundle, *, folder: str = "") -> bytes:
    """The bundle as a zip archive (for a download button), files under ``folder`` if given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for name, data in bundle.files.items():
            archive.writestr(f"{folder.strip('/')}/{name}" if folder else name, data)
    return buffer.getvalue()


def zip_bundle(store: Store, run_id: str, folder: Path, *, workspace_root: Path, threshold: float | None = None,
               pick: str | None = None, transfer_from: TransferFrom | None = None, who: str = "",
               keep: int = KEEP_ZIPS, **options) -> WrittenBundle:
    """The run's bundle as a zip in ``folder``, its files under ``bundle_name``/: the one already
    there for the same ``zip_key``, else built now (``stage_bundle``; ``options`` go to it). Each
    build is one recorded look at the test split by ``who``; finding the zip again records none."""
    folder = Path(folder)
    path = zip_path(store, run_id, folder, threshold=threshold, pick=pick, transfer_from=transfer_from, who=who,
                    **options)
    found = _read_existing(path)
    if found is not None:
        return found
    staging = partial = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
        staged = stage_bundle(store, run_id, staging, workspace_root=workspace_root, threshold=threshold, pick=pick,
                              transfer_from=transfer_from, who=who, **options)
        partial = folder / f".{path.name}.{uuid.uuid4().hex}.tmp"
        name = bundle_name(staged.card)
        with zipfile.ZipFile(partial, "x", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
            for file in FILES:
                archive.write(staging / file, f"{name}/{file}")
        with open(partial, "rb+") as synced:
            os.fsync(synced.fileno())
        os.replace(partial, path)
    except (OSError, UnwritableFile) as exc:
        error = exc.error if isinstance(exc, UnwritableFile) else exc
        raise ExportError(f"Cannot write the bundle's zip in {folder}: {error.strerror or error}.") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if partial is not None:
            partial.unlink(missing_ok=True)
    _prune(folder, keep=keep, keeping=path)
    return read_zipped(path)


def zip_path(store: Store, run_id: str, folder: Path, **choice) -> Path:
    """Where ``zip_bundle`` keeps the zip of this choice (``choice``: its keyword arguments)."""
    return Path(folder) / f"{run_id}-{zip_key(store, run_id, **choice)[:16]}.zip"


def zip_key(store: Store, run_id: str, *, threshold: float | None = None, pick: str | None = None,
            transfer_from: TransferFrom | None = None, who: str = "", **options) -> str:
    """A SHA-256 (hex) of what decides a zipped bundle's content, read from the store now: a run
    still scoring or whose errors were sent again, a probe completed or a threshold carried over
    from a run whose predictions changed gets a new key (and so a new zip). What the card says of
    looks at the test split by others since is not in it, as it was not in the page's cache before."""
    from .. import __version__

    runs = [run_id] + ([transfer_from.run] if transfer_from is not None else [])
    choice = {
        "format": CARD_FORMAT, "cope_eval_version": __version__, "run": run_id,
        # The predictions' versions, not their counts: a resend of errors stores as many as it forgot.
        "predictions": [store.predictions_version(run) for run in runs],
        "probes": list(completed_probes(store, run_id)),
        "threshold": threshold, "pick": pick, "who": who, "options": options,
        "transfer_from": None if transfer_from is None else dataclasses.asdict(transfer_from),
    }
    return hashlib.sha256(json.dumps(choice, sort_keys=True).encode("utf-8")).hexdigest()


def read_zipped(path: Path) -> WrittenBundle:
    """A zip ``zip_bundle`` wrote, as its card, threshold, warnings and file sizes (the card is
    the only file read). Raises ``ExportError`` for a file that is not such a zip."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            cards = [info.filename for info in infos if info.filename.count("/") == 1
                     and info.filename.endswith("/card.json")]
            if len(cards) != 1:
                raise ExportError(f"{path} is not a bundle cope-eval zipped (no card.json): export the run again.")
            card = json.loads(archive.read(cards[0]))
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise ExportError(f"Cannot read the zipped bundle {path}: {exc}; export the run again.") from None
    folder = cards[0].split("/")[0] + "/"
    chosen = card["threshold"]
    threshold = ChosenThreshold(chosen["value"], chosen["method"], chosen["target"], chosen["description"],
                                chosen["note"])
    files = {info.filename.removeprefix(folder): info.file_size for info in infos}
    return WrittenBundle(path, card, threshold, tuple(card["warnings"]), files)


def export_command(run_id: str, out: Path, *, workspace_root: Path, threshold: float | None = None,
                   pick: str | None = None, transfer_from: TransferFrom | None = None) -> str:
    """The shell command that writes the same bundle into the folder ``out``: ``python -m cope_eval
    export`` with the threshold's flags, in the workspace ``workspace_root`` (``COPE_EVAL_HOME``)."""
    words = ["python", "-m", "cope_eval", "export", "--run", run_id, "--out", str(out)]
    if transfer_from is not None:
        words += ["--transfer-from", transfer_from.run, "--keep", transfer_from.keep]
        if transfer_from.threshold is not None:
            words += ["--threshold-a", repr(transfer_from.threshold)]
        if transfer_from.allow_different:
            words.append("--allow-different")
    elif pick is not None:
        words += ["--pick", pick]
    elif threshold is not None:
        words += ["--threshold", repr(threshold)]
    return f"COPE_EVAL_HOME={shlex.quote(str(workspace_root))} {shlex.join(words)}"


def _read_existing(path: Path) -> WrittenBundle | None:
    """The zip at ``path`` if there is a readable one (marked as just used), else None."""
    if not path.is_file():
        return None
    try:
        found = read_zipped(path)
    except ExportError:  # damaged (a disk filled up mid-copy, an edit): build it again
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    with contextlib.suppress(OSError):
        os.utime(path)
    return found


def _prune(folder: Path, *, keep: int, keeping: Path) -> None:
    """Remove all but the newest ``keep`` zips in ``folder`` (never ``keeping``), and what
    interrupted builds left there more than ``STALE_SECONDS`` ago."""
    zips = sorted((p for p in folder.glob("*.zip") if p != keeping), key=_mtime, reverse=True)
    for old in zips[max(keep - 1, 0):]:
        with contextlib.suppress(OSError):
            old.unlink()
    stale = time.time() - STALE_SECONDS
    for left in [*folder.glob(f"{STAGING_PREFIX}*"), *folder.glob(".*.tmp")]:
        if _mtime(left) < stale:
            shutil.rmtree(left, ignore_errors=True) if left.is_dir() else left.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")  # gone meanwhile: never pruned again
