"""A bundle put into a folder: all its files or none of them.

The files are first written into a hidden staging folder inside the destination, then linked
into place one by one (``os.link`` refuses to replace a file; with ``overwrite``,
``os.replace``): a reader never sees half a file, a file that is already there is never
replaced by accident, and when anything fails the files and folders this call created are removed
again. The bytes come from a ``Bundle`` in memory (``write_bundle``), from the store file by file
(``export_bundle``, the CLI) or from a zip on disk (``extract_bundle``, the Export page).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..store import Store
from ._bundle import FILES, Bundle, ExportError, StagedBundle, WrittenBundle, stage_bundle
from ._files import UnwritableFile, new_file, write_new

STAGING_PREFIX = ".cope-eval-staging-"
"""Name start of the hidden folder a bundle is written into before it is put in place."""


def write_bundle(bundle: Bundle, dest: Path, *, overwrite: bool = False) -> list[Path]:
    """Write the bundle's files under ``dest`` (created if needed). Refuses, writing nothing,
    when any of them exists, unless ``overwrite``. When a write fails (a full disk, a read-only
    folder) the files this call created are removed again: no half bundle is left behind."""

    def fill(staging: Path) -> None:
        for name, data in bundle.files.items():
            write_new(staging, name, data)

    _place(Path(dest), bundle.files, fill, overwrite=overwrite)
    return [Path(dest) / name for name in bundle.files]


def export_bundle(store: Store, run_id: str, dest: Path, *, workspace_root: Path, overwrite: bool = False,
                  **options) -> WrittenBundle:
    """``stage_bundle`` straight into ``dest``, as ``write_bundle`` would put it there (checked
    for files in the way before anything is built); ``options`` go to ``stage_bundle``. The
    bundle is never whole in memory."""
    dest = Path(dest)
    staged: list[StagedBundle] = []
    _place(dest, FILES, lambda staging: staged.append(
        stage_bundle(store, run_id, staging, workspace_root=workspace_root, **options)), overwrite=overwrite)
    card, threshold, warnings = staged[0].card, staged[0].threshold, staged[0].warnings
    return WrittenBundle(dest, card, threshold, warnings, {name: (dest / name).stat().st_size for name in FILES})


def extract_bundle(zipped: WrittenBundle, dest: Path, *, overwrite: bool = False) -> list[Path]:
    """The files of a zipped bundle (``zip_bundle``) under ``dest``, as ``write_bundle`` writes
    them, read from the zip a piece at a time."""

    def fill(staging: Path) -> None:
        with zipfile.ZipFile(zipped.path) as archive:
            for name in zipped.files:
                member = f"{zipped.name}/{name}"
                try:
                    source = archive.open(member)
                except KeyError:
                    raise ExportError(f"{zipped.path} has no {member}: it is not a bundle cope-eval zipped; "
                                      "export the run again.") from None
                with source, new_file(staging, name) as out:
                    shutil.copyfileobj(source, out, 1 << 20)

    _place(Path(dest), zipped.files, fill, overwrite=overwrite)
    return [Path(dest) / name for name in zipped.files]


def _place(dest: Path, names: Iterable[str], fill: Callable[[Path], None], *, overwrite: bool) -> None:
    """Check ``dest`` for files in the way, have ``fill`` write the files ``names`` into a staging
    folder inside it, then link them into place (see the module doc)."""
    if dest.exists() and not dest.is_dir():
        raise ExportError(f"{dest} is a file; a bundle is written into a folder: choose a folder.")
    targets = {name: dest / name for name in names}
    existing = [name for name, path in targets.items() if path.exists()]
    if existing and not overwrite:
        raise ExportError(f"{dest} already holds {', '.join(existing)}; choose an empty folder.",
                          options=("overwrite",))
    folders = sorted({p.parent for p in targets.values()} | {dest})
    created = [folder for folder in folders if not folder.exists()]  # parents first
    path, staging = dest, None
    try:
        dest.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=dest))
        fill(staging)
        for name, path in targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not path.exists()
            if overwrite:
                os.replace(staging / name, path)
            else:
                try:
                    os.link(staging / name, path)
                except FileExistsError:
                    raise ExportError(f"{path} appeared while the bundle was being written; nothing was "
                                      "replaced.") from None
            if fresh:
                created.append(path)
    except BaseException as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
            staging = None
        for made in reversed(created):  # files, then the folders they were in
            with contextlib.suppress(OSError):
                made.unlink() if made.is_file() else made.rmdir()
        if isinstance(exc, UnwritableFile):
            path, exc = dest / exc.name, exc.error
        if isinstance(exc, OSError):
            where = getattr(exc, "filename2", None) or exc.filename or path  # a link's target, else the file
            raise ExportError(f"Cannot write {where}: {exc.strerror or exc}; the bundle was not "
                              "written (what it had written is removed again).") from None
        raise
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
