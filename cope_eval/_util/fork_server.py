"""Processes forked from an interpreter that has imported their libraries once: a fork server.

A fresh ``python -m cope_eval resume`` spends about 0.8 CPU-s importing pandas, pyarrow, aiohttp
and the store before it sends anything. Six analysts pressing Start within a second asked a 2-core
machine for about 5 CPU-s at once (benchmark 14). ``ForkServer`` starts this module once, as a child
process that imports ``preload`` and then forks one process per ``start``. Each one is what
``subprocess.Popen(..., start_new_session=True)`` gave: a session of its own (the app's restart or
Ctrl-C leaves it running), its output appended to its log, the environment given, the entry
function called with its arguments, and its exit status (``Forked.returncode``, as Popen's).

The server forks only while it has one thread (forking a threaded process can copy a lock some
other thread holds): it starts with the BLAS and Arrow allocator threads off (``SERVER_ENV``),
and refuses a start if a library started a thread anyway; ``ForkServer.start`` then returns None
and the caller starts a plain process. It exits when its parent closes the pipe (the app is gone);
what it forked keeps running.

The pipe speaks one JSON object per line. The parent sends {"argv", "env", "log"}; the server
answers {"pid"} or {"refused"}, and later {"exited": pid, "status": returncode}.
"""

from __future__ import annotations

import importlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .pids import pid_alive

SERVER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "JE_ARROW_MALLOC_CONF": "background_thread:false"}
"""Set for the server before its imports: libraries that would start threads at import do not."""
REAP_EVERY_S = 0.1
"""How often the server looks for exited children between requests (their exit reaches the parent
this late at most)."""
UNKNOWN_STATUS = -1
"""The returncode of a process whose server died before it: it has exited, and nobody saw how."""


class Forked:
    """A process the server forked, with Popen's ``pid``, ``poll``, ``wait``, ``send_signal`` and
    ``returncode``."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self._exited = threading.Event()
        self._orphaned = False

    def _exit(self, status: int) -> None:
        self.returncode = status
        self._exited.set()

    def poll(self) -> int | None:
        if self._orphaned and not self._exited.is_set() and not pid_alive(self.pid):
            self._exit(UNKNOWN_STATUS)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:  # in slices: the server may die meanwhile, and then no exit message comes
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            self._exited.wait(REAP_EVERY_S)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass  # it exited meanwhile


class ForkServer:
    """The parent's side: starts the server at its first ``start``, and again if it died."""

    def __init__(self, preload: tuple[str, ...], entry: str):
        """``preload``: modules the server imports; ``entry``: ``"module:function"``, called in each
        forked process with its ``argv`` (a list), its return value the exit status."""
        self.preload, self.entry = preload, entry
        self._server: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._lock = threading.Lock()

    def start(self, argv: list[str], *, env: dict[str, str], log: Path, timeout_s: float = 60.0) -> Forked | None:
        """Fork ``entry(argv)`` with ``env``, its output appended to ``log``; None when the server
        cannot fork (it has a thread, or it cannot start): start a plain process instead."""
        with self._lock:
            if self._server is None or self._server.poll() is not None:
                self._open()
            try:
                self._server.stdin.write(json.dumps({"argv": argv, "env": env, "log": str(log)}) + "\n")
                self._server.stdin.flush()
                return self._replies.get(timeout=timeout_s)
            except OSError:
                return None
            except queue.Empty:  # a late answer would go to the next start: a new server for that one
                self._server.kill()
                return None

    def close(self) -> None:
        """Stop the server (what it forked keeps running)."""
        with self._lock:
            if self._server is not None and self._server.poll() is None:
                self._server.stdin.close()
                self._server.wait()

    def _open(self) -> None:
        self._replies = queue.Queue()
        self._server = subprocess.Popen(
            [sys.executable, "-m", __name__, self.entry, *self.preload], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, env={**os.environ, **SERVER_ENV})
        threading.Thread(target=self._read, args=(self._server, self._replies), daemon=True,
                         name="fork-server-replies").start()

    @staticmethod
    def _read(server: subprocess.Popen, replies: queue.Queue) -> None:
        forked: dict[int, Forked] = {}
        for line in server.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "pid" in message:
                forked[message["pid"]] = process = Forked(message["pid"])
                replies.put(process)
            elif "refused" in message:
                replies.put(None)
            elif "exited" in message and message["exited"] in forked:
                forked.pop(message["exited"])._exit(message["status"])
        for process in forked.values():  # the server is gone: each one's own exit is watched instead
            process._orphaned = True
        replies.put(None)  # a start waiting for an answer gets none


# -- the server's side ---------------------------------------------------------------------------

def serve(entry: str, preload: list[str]) -> None:
    """Import ``preload``, then fork ``entry`` for each request read from stdin until it closes."""
    replies = os.fdopen(os.dup(1), "w")  # the answers' own descriptor: a preload's print goes to stderr
    os.dup2(2, 1)
    for name in preload:
        importlib.import_module(name)
    module, function = entry.split(":")
    target = getattr(importlib.import_module(module), function)
    requests, pending = sys.stdin.fileno(), b""
    while True:
        readable, _, _ = select.select([requests], [], [], REAP_EVERY_S)
        _reap(replies)
        if not readable:
            continue
        chunk = os.read(requests, 1 << 16)
        if not chunk:
            return  # the parent is gone
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if _threads() > 1:
                _say(replies, {"refused": "the server has more than one thread"})
                continue
            pid = os.fork()
            if pid == 0:
                replies.close()  # the parent sees the server's end only when the server is gone
                _child(target, json.loads(line))
            _say(replies, {"pid": pid})


def _child(target, request: dict) -> None:
    """In the forked process: become what ``Popen(start_new_session=True)`` started, run, exit."""
    status = 1
    try:
        os.setsid()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [sys.argv[0], *request["argv"]]
        status = target(request["argv"])
        status = 0 if status is None else int(status)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - a child never returns into the server's loop
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(status)


def _reap(replies) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _say(replies, {"exited": pid, "status": os.waitstatus_to_exitcode(status)})


def _say(replies, message: dict) -> None:
    replies.write(json.dumps(message) + "\n")
    replies.flush()


def _threads() -> int:
    """The process's threads, native ones included (1 where /proc does not say)."""
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1


if __name__ == "__main__":
    try:
        serve(sys.argv[1], sys.argv[2:])
    except KeyboardInterrupt:  # Ctrl-C in the app's terminal reaches its whole process group
        pass
