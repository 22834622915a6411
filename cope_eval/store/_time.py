"""The store's timestamps."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    """Now, in UTC, to the second (ISO 8601): every time the store records."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
