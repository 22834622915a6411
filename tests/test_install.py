"""The installed package: the `cope-eval` command and `python -m cope_eval` work from any directory,
and a regular (non-editable) install, which has no checkout beside it, says what it lacks.

The command tests need cope-eval installed in this venv (`make install` runs `pip install --no-deps -e .`);
without it they are skipped, saying so.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cope_eval
from cope_eval import config, local
from cope_eval.app import launch_app
from cope_eval.app._launcher import streamlit_command
from cope_eval.errors import ConfigError

CHECKOUT = Path(cope_eval.__file__).resolve().parent.parent
COMMAND = Path(sys.executable).parent / "cope-eval"
INSTALL = "pip install --no-deps -e ."


def _outside_env(**extra) -> dict:
    """This environment without PYTHONPATH: only the install can make cope_eval importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COPE_EVAL_HOME")}
    return {**env, **extra}


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """An empty working directory outside the checkout, after checking the install serves this checkout."""
    found = _run([sys.executable, "-c", "import cope_eval; print(cope_eval.__file__)"], tmp_path)
    if found.returncode != 0:
        pytest.skip(f"cope_eval is not installed in this venv: run `make install` ({INSTALL})")
    installed = Path(found.stdout.strip()).resolve().parent.parent
    if installed != CHECKOUT:
        pytest.skip(f"this venv's cope_eval is installed from {installed}, not from this checkout {CHECKOUT}")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return cwd


def _run(command: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=_outside_env(**env), capture_output=True, text=True,
                          timeout=120)


def _works_from(command: list[str], cwd: Path) -> None:
    helped = _run([*command, "--help"], cwd)
    assert helped.returncode == 0 and "usage:" in helped.stdout and "triage" in helped.stdout, helped.stderr
    workspace = cwd.parent / "ws"
    listed = _run([*command, "triage", "gaps", "violence", "--json"], cwd, COPE_EVAL_HOME=str(workspace))
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert (workspace / ".cope_eval" / "store.sqlite3").is_file(), "the store is COPE_EVAL_HOME's"
    assert list(cwd.iterdir()) == [], "nothing is written in the working directory"


def test_the_cope_eval_command_works_from_any_directory(elsewhere):
    if not COMMAND.is_file():
        pytest.skip(f"no console script {COMMAND}: run `make install` ({INSTALL})")
    _works_from([str(COMMAND)], elsewhere)


def test_python_m_cope_eval_works_from_any_directory(elsewhere):
    _works_from([sys.executable, "-m", "cope_eval"], elsewhere)


def test_in_a_checkout_the_workspace_and_the_app_are_the_checkouts(monkeypatch):
    monkeypatch.delenv("COPE_EVAL_HOME", raising=False)
    monkeypatch.chdir(Path.home())
    assert config.checkout_root() == CHECKOUT
    assert config.workspace_from_env().root == CHECKOUT
    assert str(CHECKOUT / "app.py") in streamlit_command(port=8501, address="127.0.0.1")


@pytest.fixture
def installed_without_checkout(tmp_path, monkeypatch) -> Path:
    """As after `pip install .`: the package's parent folder is site-packages, with no app.py."""
    site_packages = tmp_path / "site-packages"
    (site_packages / "cope_eval").mkdir(parents=True)
    monkeypatch.setattr(config, "REPO_ROOT", site_packages)
    monkeypatch.delenv("COPE_EVAL_HOME", raising=False)
    return site_packages


def test_a_regular_install_has_no_default_workspace(installed_without_checkout, tmp_path, monkeypatch):
    assert config.checkout_root() is None
    with pytest.raises(ConfigError, match="Set COPE_EVAL_HOME"):
        config.workspace_from_env()
    assert list(installed_without_checkout.iterdir()) == [installed_without_checkout / "cope_eval"]
    monkeypatch.setenv("COPE_EVAL_HOME", str(tmp_path / "ws"))
    assert config.workspace_from_env().root == tmp_path / "ws"


def test_a_regular_install_refuses_the_app_before_starting_anything(installed_without_checkout, monkeypatch):
    def no_server(*args, **kwargs):
        raise AssertionError("the local vLLM was started for an app that is not there")

    monkeypatch.delenv("COPE_BASE_URL", raising=False)
    monkeypatch.setattr(local, "ensure_running", no_server)
    with pytest.raises(ConfigError, match="comes with the cope-eval repository"):
        launch_app(port=8501)
