"""Write files so that readers never see half a file and nothing is replaced by accident."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def create_exclusive(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` atomically; return False (writing nothing) if it exists.

    The bytes go to a temporary file in the same folder, which is then hard-linked to ``path``:
    the link fails instead of replacing an existing file, and the file appears complete.
    """
    path = Path(path)
    tmp = _temp_name(path)
    try:
        _write_synced(tmp, data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:
            # No hard links on this filesystem: an exclusive create still never overwrites,
            # but a reader racing the writer could see the file before it is complete.
            try:
                _write_synced(path, data)
            except FileExistsError:
                return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def replace_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` (replacing it if present) via a temporary file and ``os.replace``."""
    path = Path(path)
    tmp = _temp_name(path)
    try:
        _write_synced(tmp, data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
