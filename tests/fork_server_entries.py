"""Entry points and preloads for tests/test_fork_server.py, imported by a fork server's process."""

import os
import sys
import threading
import time


def echo(argv: list[str]) -> int:
    """Prints its arguments, FORK_TEST and its process ids; exits with the status ``argv[0]`` names."""
    print(" ".join(argv), os.environ.get("FORK_TEST"), os.getpid(), os.getppid(), os.getsid(0))
    print("to stderr", file=sys.stderr)
    return int(argv[0])


def sleep(argv: list[str]) -> int:
    time.sleep(float(argv[0]))
    return 0


def start_a_thread() -> None:
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()


if os.environ.get("FORK_TEST_THREAD") == "1":
    start_a_thread()

if os.environ.get("FORK_TEST_PRINT") == "1":
    print("a library that prints when imported")
