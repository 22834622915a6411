"""What importing a part of the package pulls in: never streamlit; for the CLI's ``--help``,
nothing heavy (the command line starts fast, issue 15).

Each check runs in a fresh interpreter, so what this test process already imported does not count.
"""

import pkgutil
import subprocess
import sys

import pytest

import cope_eval
from tests.conftest import REPO_ROOT

HEAVY = ("pandas", "numpy", "scipy", "sklearn", "pyarrow", "aiohttp", "PIL", "av", "plotly", "streamlit")
"""Libraries that each take a tenth of a second or more to import on a small machine."""


def _imported_after(code: str) -> set[str]:
    """The top-level packages in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_library_never_imports_streamlit():
    modules = [f"cope_eval.{m.name}" for m in pkgutil.iter_modules(cope_eval.__path__)
               if not m.name.startswith("_")]
    # _convert_gguf runs inside the server venv (torch), never in the app.
    assert len(modules) > 5
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print('streamlit' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("argv", [["--help"], ["no-such-command"], []], ids=["help", "unknown", "none"])
def test_the_command_list_imports_nothing_heavy(argv):
    """``python -m cope_eval --help`` (and a mistyped command) builds the whole parser: every
    command module's top-level imports and ``add_commands`` run. A heavy import there (pandas at the
    top of a command module, a library constant in a flag's help) makes every start slow."""
    code = ("import runpy, sys\n"
            f"sys.argv = ['cope_eval', *{argv!r}]\n"
            "try:\n"
            "    runpy.run_module('cope_eval', run_name='__main__', alter_sys=True)\n"
            "except SystemExit:\n"
            "    pass\n")
    heavy = _imported_after(code) & set(HEAVY)
    assert not heavy, f"python -m cope_eval {' '.join(argv)} imports {sorted(heavy)}; import them in handlers"


@pytest.mark.parametrize("module", ["cope_eval.records", "cope_eval.config", "cope_eval.errors",
                                    "cope_eval.cli"])
def test_the_vocabulary_and_the_cli_import_nothing_heavy(module):
    heavy = _imported_after(f"import {module}") & set(HEAVY)
    assert not heavy, f"import {module} pulls in {sorted(heavy)}"


def test_the_check_sees_a_heavy_import():
    """The probe itself works: importing what uses pandas is seen."""
    assert "pandas" in _imported_after("import cope_eval.store")


def test_the_first_page_imports_no_metrics_or_chart_library(workspace):
    """The first page (app.py, its sidebar and pages/home.py, one run as the server does it) loads no
    scikit-learn or SciPy: they load on the pages that draw curves and intervals (issue 16: the first
    page took 7.8 s). plotly and PIL are left out of the check: Streamlit itself imports them."""
    code = ("import os\n"
            f"os.environ.update(COPE_EVAL_HOME={str(workspace.root)!r}, COPE_BASE_URL='http://127.0.0.1:9/v1')\n"
            "from streamlit.testing.v1 import AppTest\n"
            f"at = AppTest.from_file({str(REPO_ROOT / 'app.py')!r}, default_timeout=60).run()\n"
            "assert not at.exception, at.exception\n"
            "assert 'Next step' in at.info[0].value, 'the first page ran'\n")
    heavy = _imported_after(code) & {"sklearn", "scipy"}
    assert not heavy, f"the first page imports {sorted(heavy)}; import them where they are used"
