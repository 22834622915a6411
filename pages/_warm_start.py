"""``streamlit run``, with the libraries the pages use imported before the server answers.

It lives with the pages (the UI layer): cope_eval never imports streamlit. Its name starts with
"_", so Streamlit never lists it as a page.

Streamlit imports an app's modules on the first visit, so a fresh ``streamlit run app.py`` makes
its first visitor wait for pandas, pyarrow, plotly, scikit-learn and the cope-eval packages (about
2 s of a 7 s first page on a 2-core machine; bench/bench_first_page.py). Run as
``python pages/_warm_start.py run app.py ...`` (what ``cope-eval app`` and ``make run``
start), this imports them first and then hands its arguments to Streamlit's own command line: the
server answers its health check only once they are loaded, and every page's first visit finds them.

Then it freezes the garbage collector's view of what the imports made (``gc.freeze``): Streamlit
runs a full collection after every script run (``runner.postScriptGC``), and a full collection
walks every tracked object, the libraries' 190,000 included: 0.11 s for those alone on this
machine, after every click of every analyst, holding the interpreter's lock the whole time.
Frozen, they are never walked again; what the pages make afterwards is collected as before.

It also turns off Streamlit's old multipage mode before the first session: because this folder is
named ``pages/``, a fresh server would run a deep-linked page file on its own until app.py's
st.navigation had run once, and the first request of a tab reconnecting after a restart is such a
link. app.py lists the pages, so every request, the first included, goes through it and keeps its
page and its address (``pages/_url_state.run_through_app`` covers a plain ``streamlit run``).
"""

from __future__ import annotations

import gc
import importlib
import sys
from pathlib import Path

PRELOAD = (
    "pandas", "pyarrow", "numpy", "PIL.Image", "plotly.graph_objects", "plotly.io", "sklearn.metrics",
    "cope_eval.store", "cope_eval.policies", "cope_eval.golden", "cope_eval.metrics", "cope_eval.scoring",
    "cope_eval.insight", "cope_eval.charts", "cope_eval.export", "cope_eval.app",
)
"""Imported before Streamlit starts: what the pages import, heaviest first."""


CHECKOUT = Path(__file__).resolve().parent.parent
"""The checkout this file is in: its ``cope_eval`` is the one its pages run with."""


def main(argv: list[str]) -> int:
    # Python put pages/ first on the path, so cope_eval would come from wherever it is installed: another
    # checkout's library under this checkout's pages. The checkout's own comes first.
    sys.path.insert(0, str(CHECKOUT))
    for name in PRELOAD:
        importlib.import_module(name)
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    gc.collect()
    gc.freeze()  # the imports' objects live as long as the process: no collection need walk them again

    PagesManager.uses_pages_directory = False  # as st.navigation sets it; see the module's docstring

    sys.argv = ["streamlit", *argv]  # as `python -m streamlit` sees it: its commands read sys.argv too
    return cli.main(prog_name="streamlit")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
