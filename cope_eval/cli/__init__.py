"""The command line, ``cope-eval <command>`` (or ``python -m cope_eval``): one module per group of
commands, each adding its commands to the parser with ``add_commands``; shared flags in
``_options``, every ``--json`` through ``_output``; ``main`` runs one. Errors become one line, exit 2.

Starting must stay fast: see ``_main``."""

from ._main import main

__all__ = [
    "main",
]
