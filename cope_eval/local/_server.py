"""Start, reuse and stop the bundled local vLLM server (the default when no server is set).

One server per port. Its PID is kept in ``<cache>/run/vllm-<port>.json``; a second start
while it is healthy reuses it, and stop only ever signals a process that is provably ours.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .._util.pids import pid_alive
from ..errors import LocalServerError, PortInUseError
from ..scoring import TransportError, fetch
from ._setup import Progress
from . import _setup as local_setup

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
SERVED_MODEL = "smollm2"
ENTRYPOINT = "vllm.entrypoints.openai.api_server"
# Measured on 2 CPU cores (docs/local-vllm.md): eager mode starts in ~1 minute instead of
# 3-5, float32 is 2.5x faster than bf16 here, block size 32 makes prefix caching hit.
SERVER_FLAGS = ("--dtype", "float32", "--max-model-len", "4096", "--enforce-eager", "--block-size", "32")
SERVER_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
    "VLLM_CPU_KVCACHE_SPACE": "1",
}


@dataclass(frozen=True)
class LocalServer:
    """A running local vLLM server."""

    base_url: str
    """OpenAI-compatible base URL, ending in /v1."""
    model: str
    """The served model name."""
    pid: int
    """Process id of the API server (also its process-group id)."""
    started_here: bool
    """True when this call started it; False when an already-running one was reused."""


def default_port() -> int:
    return int(os.environ.get("COPE_LOCAL_PORT", DEFAULT_PORT))


def ensure_running(
    port: int | None = None, *, cache: Path | None = None, progress: Progress = print,
    timeout_s: float = 600.0,
) -> LocalServer:
    """Return a healthy, warmed-up local server on ``port``, starting one if needed."""
    port = port or default_port()
    cache = cache or local_setup.cache_dir()
    with local_setup.file_lock(_run_dir(cache) / f"vllm-{port}.lock"):
        pid = _our_pid(cache, port)
        if pid is not None:
            if _wait_healthy(port, pid, timeout_s, cache):
                return LocalServer(_base_url(port), SERVED_MODEL, pid, started_here=False)
            stop(port, cache=cache)  # ours but hung: replace it
        if _port_open(port):
            raise PortInUseError(
                f"Port {port} on {HOST} is in use by another program, not a cope-eval local vLLM. "
                "Stop it, pick another port with COPE_LOCAL_PORT, or set COPE_BASE_URL to use that server."
            )
        local_setup.prepare(cache, progress)
        progress(f"Starting the local vLLM server (SmolLM2-135M stand-in) on {HOST}:{port}, about a minute...")
        pid = _spawn(cache, port)
        if not _wait_healthy(port, pid, timeout_s, cache):
            stop(port, cache=cache)
            raise LocalServerError(f"The local vLLM server did not become healthy in {timeout_s:.0f} s.\n{_log_tail(cache, port)}")
        _warm_up(port)
        progress(f"Local vLLM server ready at {_base_url(port)} (model {SERVED_MODEL!r}, pid {pid}).")
        return LocalServer(_base_url(port), SERVED_MODEL, pid, started_here=True)


def status(port: int | None = None, *, cache: Path | None = None) -> LocalServer | None:
    """The local server on ``port`` if it is ours and answering /health, else None."""
    port = port or default_port()
    cache = cache or local_setup.cache_dir()
    pid = _our_pid(cache, port)
    if pid is None or not _healthy(port):
        return None
    return LocalServer(_base_url(port), SERVED_MODEL, pid, started_here=False)


def stop(port: int | None = None, *, cache: Path | None = None, grace_s: float = 30.0) -> bool:
    """Stop our server on ``port`` by its PID; True if one was stopped."""
    port = port or default_port()
    cache = cache or local_setup.cache_dir()
    pid = _our_pid(cache, port)
    _pid_file(cache, port).unlink(missing_ok=True)
    if pid is None:
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        _signal_group(pid, signal.SIGKILL)
    return True


def log_path(port: int | None = None, *, cache: Path | None = None) -> Path:
    return _run_dir(cache or local_setup.cache_dir()) / f"vllm-{port or default_port()}.log"


def _spawn(cache: Path, port: int) -> int:
    command = [
        str(local_setup.server_python(cache)), "-m", ENTRYPOINT,
        "--model", str(local_setup.model_dir(cache)), "--served-model-name", SERVED_MODEL,
        "--host", HOST, "--port", str(port), *SERVER_FLAGS,
    ]
    with open(log_path(port, cache=cache), "w") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **SERVER_ENV}, start_new_session=True,
        )
    _pid_file(cache, port).write_text(json.dumps({"pid": process.pid, "port": port, "started": time.time()}))
    return process.pid


def _our_pid(cache: Path, port: int) -> int | None:
    """The PID recorded for ``port`` if that process is still our vLLM on that port."""
    try:
        pid = int(json.loads(_pid_file(cache, port).read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    ours = ENTRYPOINT.encode() in cmdline and str(port).encode() in cmdline
    return pid if ours else None


def _wait_healthy(port: int, pid: int, timeout_s: float, cache: Path) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _healthy(port):
            return True
        if not pid_alive(pid):
            raise LocalServerError(f"The local vLLM server exited while starting.\n{_log_tail(cache, port)}")
        time.sleep(1.0)
    return False


def _healthy(port: int) -> bool:
    try:
        return fetch("GET", f"http://{HOST}:{port}/health", deadline_s=5.0).status == 200
    except TransportError:
        return False


def _warm_up(port: int) -> None:
    """The first request after start takes 10-15 s on CPU; pay it here, not in a test."""
    body = {"model": SERVED_MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": "Say 1."}]}
    try:
        reply = fetch("POST", f"{_base_url(port)}/chat/completions", json_body=body, deadline_s=120.0)
    except TransportError as exc:
        raise LocalServerError(f"The local vLLM server did not answer its first request: {exc}") from None
    if reply.status != 200:
        raise LocalServerError(f"The local vLLM server answered its first request with HTTP {reply.status}.")


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((HOST, port)) == 0


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _log_tail(cache: Path, port: int, lines: int = 25) -> str:
    try:
        text = log_path(port, cache=cache).read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "Last lines of the server log:\n" + "\n".join(text.splitlines()[-lines:])


def _base_url(port: int) -> str:
    return f"http://{HOST}:{port}/v1"


def _run_dir(cache: Path) -> Path:
    path = cache / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid_file(cache: Path, port: int) -> Path:
    return _run_dir(cache) / f"vllm-{port}.json"
