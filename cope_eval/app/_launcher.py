"""`python -m cope_eval app`: start the model server when none is configured, then the app.

The local vLLM is stopped again when the app exits, unless it was already running before.

The app listens on 127.0.0.1 only unless an address is given (``--address`` or
``COPE_ADDRESS``): without sign-in, whoever reaches it can edit policies, start runs and make
the server fetch any URL it is given, so exposing it is a choice made out loud, and exposing it
without an ``[auth]`` section prints a warning at start.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

from ..config import REPO_ROOT, checkout_root, server_from_env
from ..errors import ConfigError
from .. import local
from ._auth import sign_in_providers

DEFAULT_ADDRESS = "127.0.0.1"
"""Where the app listens unless told otherwise: this machine only."""


def launch_app(*, port: int = 8501, address: str | None = None, extra_args: list[str] | None = None) -> int:
    """Run the app until it exits; ``address`` (the ``--address`` flag) wins over ``COPE_ADDRESS``."""
    address = app_address(address, os.environ)
    command = streamlit_command(port=port, address=address, extra_args=extra_args)  # no app.py: stop here
    warning = exposure_warning(address, port, os.environ)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    setting = server_from_env()
    env = dict(os.environ)
    server = None
    if setting.is_local:
        server = local.ensure_running(progress=lambda m: print(m, file=sys.stderr, flush=True))
        env.update(COPE_BASE_URL=server.base_url, COPE_MODEL=server.model, COPE_LOCAL_SERVER="1")
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
            local.stop()


def app_address(flag: str | None, env: Mapping[str, str]) -> str:
    """The address to listen on: the ``--address`` flag, else ``COPE_ADDRESS``, else 127.0.0.1."""
    for given in (flag, env.get("COPE_ADDRESS")):
        if given is not None and given.strip():
            return given.strip()
    return DEFAULT_ADDRESS


def streamlit_command(*, port: int, address: str, extra_args: list[str] | None = None) -> list[str]:
    """The ``streamlit run`` command line, through ``pages/_warm_start.py`` (the pages' libraries are loaded
    before the server answers, so a first visit does not wait for them): the address is always explicit, never Streamlit's "every
    interface". ``app.py`` is the checkout's, whatever the working directory; a regular install has
    none (see ``config``). The toolbar is minimal: no "Deploy" button, no developer menu (analysts
    use this app; a flag, not a .streamlit/config.toml, so it holds from any working directory).

    No full garbage collection after every script run (``runner.postScriptGC``, on by default): it
    holds the interpreter lock for every session's page at once. Benchmark 14 with six analysts
    (``--clients protocol``): the app's CPU fell from 13 to 9 s a team phase and page settles' p50s
    about halved. A tour of every page over 1M-item runs ended no higher without it (1.65-1.86 GB)
    than with it (1.83-1.85 GB): Python's own collector still runs, and a run after the pages' shared
    cache built or dropped large objects collects first (``pages/_shared_cache.free_what_runs_dropped``)."""
    checkout = checkout_root()
    if checkout is None:
        raise ConfigError("The web app (app.py and pages/) comes with the cope-eval repository, not with "
                          "the installed package: run `make run` in a checkout (it runs pip install -e .).")
    return [
        sys.executable, str(checkout / "pages" / "_warm_start.py"), "run", str(checkout / "app.py"),
        "--server.address", address, "--server.port", str(port), "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal", "--runner.postScriptGC", "false", *(extra_args or []),
    ]


def exposure_warning(address: str, port: int, env: Mapping[str, str], **folders: Path) -> str | None:
    """The warning to print when the app is reachable from other machines and open to all; else None.
    ``folders``: as for ``open_to_all``."""
    if is_loopback(address) or not open_to_all(env, **folders):
        return None
    return (f"warning: the app listens on {address}:{port} without sign-in: anyone who can reach {address}:{port} "
            "can edit policies, start runs and make the server fetch URLs. Configure [auth] in the app's secrets "
            "(README: \"Shared deployments: sign-in\"), or leave out --address / COPE_ADDRESS to listen on "
            f"{DEFAULT_ADDRESS} only.")


def is_loopback(address: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1); any other name may reach the network."""
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def open_to_all(env: Mapping[str, str], *, cwd: Path | None = None, home: Path | None = None,
                app_dir: Path = REPO_ROOT) -> bool:
    """True when the secrets Streamlit will read have no ``[auth]`` section, so the app admits everyone.

    ``cwd``, ``home`` and ``app_dir`` (where app.py is) default to this process's: the app inherits them.

    The app itself decides sign-in (pages/_auth.py); this only reads the same files to warn at start.
    A secrets file that cannot be read, or an ``[auth]`` section that cannot be used, keeps the
    app closed, so neither is "open".
    """
    secrets: dict = {}
    for path in secrets_files(env, cwd=cwd or Path.cwd(), home=home or Path.home(), app_dir=app_dir):
        if path.is_dir():  # Kubernetes-style secrets: one folder per section
            if (path / "auth").is_dir():
                return False
            continue
        try:
            secrets.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue
        except (OSError, UnicodeError, tomllib.TOMLDecodeError):
            return False
    try:
        return not sign_in_providers(secrets)
    except ConfigError:
        return False


def secrets_files(env: Mapping[str, str], *, cwd: Path, home: Path, app_dir: Path) -> list[Path]:
    """Where ``streamlit run`` looks for the app's secrets, in Streamlit's order of precedence:
    ``STREAMLIT_SECRETS_FILES`` (its environment form of ``--secrets.files``), else ``[secrets] files``
    in a ``.streamlit/config.toml`` (beside app.py, in the working directory, at home), else its
    defaults: ``.streamlit/secrets.toml`` at home, in the working directory and beside app.py."""
    if env.get("STREAMLIT_SECRETS_FILES", "").strip():
        return [Path(p) for p in env["STREAMLIT_SECRETS_FILES"].split()]
    folders = [home / ".streamlit", cwd / ".streamlit", app_dir / ".streamlit"]
    for config in (folder / "config.toml" for folder in reversed(folders)):
        try:
            files = tomllib.loads(config.read_text(encoding="utf-8")).get("secrets", {}).get("files")
        except (OSError, UnicodeError, tomllib.TOMLDecodeError, AttributeError):
            continue
        if files:
            return [Path(p) for p in ([files] if isinstance(files, str) else files)]
    return [folder / "secrets.toml" for folder in folders]
