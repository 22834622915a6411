"""`python -m cope_eval app`: start the model server when none is configured, then the app.

The local vLLM is stopped again when the app exits, unless it was already running before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from . import local_server
from .config import REPO_ROOT, server_from_env


def launch_app(*, port: int = 8501, extra_args: list[str] | None = None) -> int:
    setting = server_from_env()
    env = dict(os.environ)
    server = None
    if setting.is_local:
        server = local_server.ensure_running(progress=lambda m: print(m, file=sys.stderr, flush=True))
        env.update(COPE_BASE_URL=server.base_url, COPE_MODEL=server.model, COPE_LOCAL_SERVER="1")
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "app.py"),
        "--server.port", str(port), "--browser.gatherUsageStats", "false", *(extra_args or []),
    ]
    # SIGTERM (e.g. from a process manager) must still run the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    app = subprocess.Popen(command, env=env)
    try:
        return app.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        if app.poll() is None:
            app.terminate()
            app.wait(timeout=30)
        if server is not None and server.started_here:
            print("Stopping the local vLLM server...", file=sys.stderr)
            local_server.stop()
