"""Text from golden sets, policies and servers made safe to print in a terminal.

That text is hostile: an ANSI escape, a carriage return or a right-to-left override could
rewrite or reorder what an analyst sees. Every CLI prints it through ``terminal_safe``.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0/C1 controls (ESC, CR, ...), line/paragraph separators and bidi controls."""


def terminal_safe(value, width: int | None = None) -> str:
    """``value`` as text with every unsafe character replaced by a space, cut to ``width``;
    None and NaN become ""."""
    if value is None or value != value:
        return ""
    return _UNSAFE.sub(" ", str(value))[:width]
