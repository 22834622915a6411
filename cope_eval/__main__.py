"""``python -m cope_eval``: the command line (``cope_eval.cli``)."""

import sys

from .cli import main

sys.exit(main())
