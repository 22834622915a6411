"""The command line (``cope-eval`` / ``python -m cope_eval``): one module per command group,
shared flags in ``_options``, every ``--json`` through ``_output``. Errors become one line, exit 2."""

from ._main import main

__all__ = [
    "main",
]
