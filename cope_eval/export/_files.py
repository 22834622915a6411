"""Writing one new file of a bundle: created (never over an existing one), synced to disk, and
an ``OSError`` (a full disk, a read-only folder) turned into ``UnwritableFile`` naming the file
inside the bundle, so the caller can say which and undo what it made."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


class UnwritableFile(Exception):
    """A bundle file could not be written (``name``: its path inside the bundle; ``error``: why)."""

    def __init__(self, name: str, error: OSError):
        super().__init__(name, error)
        self.name, self.error = name, error


@contextlib.contextmanager
def new_file(folder: Path, name: str):
    """A new binary file ``name`` under ``folder``, synced to disk when the block ends; an
    ``OSError`` (full disk, read-only folder) becomes ``UnwritableFile`` naming it."""
    path = folder / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise UnwritableFile(name, exc) from None


def write_new(folder: Path, name: str, data: bytes) -> None:
    """Write ``data`` as the new file ``name`` under ``folder`` (see ``new_file``)."""
    with new_file(folder, name) as out:
        out.write(data)
