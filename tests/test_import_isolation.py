import pkgutil
import subprocess
import sys

import cope_eval


def test_library_never_imports_streamlit():
    modules = [f"cope_eval.{m.name}" for m in pkgutil.iter_modules(cope_eval.__path__) if not m.name.startswith("_")]
    # _convert_gguf runs inside the server venv (torch), never in the app.
    assert len(modules) > 5
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print('streamlit' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
