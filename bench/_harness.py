"""What every benchmark shares: the result record, the instant and capacity server processes, core pinning,
wall + CPU timing, and a description of the machine.

Timing on a shared machine: other work only ever adds wall time, so each benchmark reports the
client's own CPU time next to its wall time. CPU seconds of the client process (the server runs
in another process) are what one dedicated core would spend; they are the basis of the scoring
verdicts, and the load average at the time is recorded beside every figure.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

CLIENT_CORE = 0
SERVER_CORE = 1
PACKAGES = ("openai", "numpy", "pandas", "scikit-learn", "pyarrow", "streamlit")


@dataclass
class BenchResult:
    """One benchmark's outcome, as a row of the summary and a table of its own."""

    name: str
    """Short title, e.g. "1. Client ceiling"."""
    figures: list[tuple[str, str]] = field(default_factory=list)
    """(what, value) rows, in the order they are shown."""
    ratio: str = ""
    """The headline ratio(s), measured in the same run."""
    target: str = ""
    """The target as the issue states it."""
    met: bool | None = None
    """True / False; None when the benchmark was skipped."""
    note: str = ""
    """Why a target is not met, how it was measured, or why it was skipped."""
    load: str = ""
    """1-minute load average before -> after (filled in by run_all)."""
    seconds: float = 0.0
    """Wall time the benchmark took (filled in by run_all)."""

    @property
    def verdict(self) -> str:
        return "skipped" if self.met is None else ("met" if self.met else "NOT met")

    def report(self) -> str:
        """The result as a benchmark run on its own prints it: figures, ratio, verdict, note."""
        width = max((len(what) for what, _ in self.figures), default=0) + 1
        lines = [f"{what:<{width}} {value}" for what, value in self.figures]
        lines.append(f"{self.ratio}; target {self.target}: {self.verdict}")
        return "\n".join(lines + ([self.note] if self.note else []))


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float
    """CPU seconds of THIS process (all its threads), user + system."""

    def rate(self, n: int) -> tuple[float, float]:
        """(n per wall second, n per CPU second)."""
        return n / self.wall_s, n / max(self.cpu_s, 1e-9)


class Clock:
    """``with Clock() as c: ...`` then ``c.timing``."""

    def __enter__(self) -> "Clock":
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.timing = Timing(time.perf_counter() - self._wall, time.process_time() - self._cpu)


def load_average() -> float:
    return os.getloadavg()[0]


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1


@contextmanager
def pinned(core: int = CLIENT_CORE):
    """Run this process on one core, then give back the cores it had."""
    if not can_pin():
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


# -- the instant server, in its own process on its own core ------------------------------------

def _serve(port_queue, counts, core: int) -> None:
    if can_pin():
        os.sched_setaffinity(0, {core})
    from tests.stub_server import StubServer, instant

    def counting(path: str, body: bytes):
        counts[0 if path.endswith("/completions") else 1] += 1  # one writer: no lock needed
        return instant(path, body)

    with StubServer(counting, record=False) as server:
        port_queue.put(server.port)
        while True:
            time.sleep(3600)


class InstantServer:
    """tests/stub_server.py's instant reply (a fixed chat completion with logprobs) in another
    process, so its CPU and memory are never the client's. ``completions`` / ``other`` count the
    requests it has answered."""

    def __init__(self, core: int = SERVER_CORE):
        self._ports = multiprocessing.Queue()
        self._counts = multiprocessing.RawArray("q", 2)
        self._process = multiprocessing.Process(target=_serve, args=(self._ports, self._counts, core), daemon=True)

    def __enter__(self) -> "InstantServer":
        self._process.start()
        self.base_url = f"http://127.0.0.1:{self._ports.get(timeout=60)}/v1"
        return self

    def __exit__(self, *exc) -> None:
        self._process.kill()
        self._process.join(10)

    @property
    def completions(self) -> int:
        return int(self._counts[0])

    @property
    def other(self) -> int:
        return int(self._counts[1])


# -- a server with a capacity (a GPU server's shape), in its own process on its own core ---------

def _serve_capacity(port_queue, slots: int, service_s: float, metrics: bool, core: int) -> None:
    if can_pin():
        os.sched_setaffinity(0, {core})
    from tests.capacity_server import CapacityServer

    with CapacityServer(slots=slots, service_s=service_s, metrics=metrics) as server:
        port_queue.put(server.port)
        while True:
            time.sleep(3600)


class HiddenServer:
    """A CapacityServer in another process; ``base_url``, ``origin``, ``stats()``."""

    def __init__(self, slots: int, service_s: float, *, metrics: bool, core: int = SERVER_CORE):
        self._ports = multiprocessing.Queue()
        self._process = multiprocessing.Process(
            target=_serve_capacity, args=(self._ports, slots, service_s, metrics, core), daemon=True)

    def __enter__(self) -> "HiddenServer":
        self._process.start()
        self.origin = f"http://127.0.0.1:{self._ports.get(timeout=60)}"
        self.base_url = f"{self.origin}/v1"
        return self

    def __exit__(self, *exc) -> None:
        self._process.kill()
        self._process.join(10)

    def stats(self):
        """The server's counters (tests/capacity_server.Stats)."""
        from tests.capacity_server import read_stats

        return read_stats(self.origin)


@contextmanager
def environment(**values: str | None):
    """These environment variables set (None: unset) inside, then as they were."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        _set_environment(values)
        yield
    finally:
        _set_environment(saved)


def _set_environment(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


# -- the machine -------------------------------------------------------------------------------

def machine() -> list[tuple[str, str]]:
    """(what, value) rows describing where the figures were measured."""
    cpu, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    if flags:
        cpu += f" ({'AVX2' if 'avx2' in flags else 'no AVX2'}, {'AVX-512' if 'avx512f' in flags else 'no AVX-512'})"
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 ** 2:.1f} GiB"
    except OSError:
        pass
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    versions = []
    for package in PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return [
        ("date (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("CPU", cpu),
        ("cores", f"{cores} ({usable} usable by this process)"),
        ("RAM", ram),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("packages", ", ".join(versions)),
    ]


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}/s"
