"""Stopping a command from outside: SIGTERM asks it to stop between answers.

The app's Cancel sends SIGTERM to the worker process scoring a run (``python -m cope_eval
resume``); a terminal's ``kill`` does the same to any ``run`` or ``resume``. The signal sets an
event the runner checks between answers, so the run ends ``cancelled`` with everything answered so
far stored, as Ctrl-C in a terminal leaves it ``interrupted``; both exit ``EXIT_STOPPED``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_STOPPED = 130
"""Exit status of a command stopped by Ctrl-C or SIGTERM (the shell's code for an interrupt)."""


@contextmanager
def stop_on_sigterm() -> Iterator[threading.Event]:
    """An event set when SIGTERM arrives while inside; the previous handler comes back after.
    Only the main thread can take signals: elsewhere the event is never set."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)
