"""A large run's zip built in a child process (``main``, another Python of this interpreter).

Building a million-item bundle reads the run's results and the whole golden set (about 0.75 GB,
benchmark 15) and works for half a minute. In the app's process that memory stacks on the pages'
caches (benchmark 16 peaked at 1.99 GB), and every other analyst's page waits on the interpreter
lock meanwhile. In a child, both end with it. A small run's bundle is built in the process that
asks: a child's start-up (about a second) would be most of its build.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from ..errors import CopeEvalError
from ..store import Store
from ._archive import zip_bundle, zip_path
from ._bundle import ExportError, WrittenBundle
from ._transfer import TransferFrom

APART_ITEMS = 100_000
"""Runs of at least this many items have their zip built in a child process."""
CHILD = "from cope_eval.export._apart import main; main()"
USER_ERROR = 2
"""The child's exit status for a ``CopeEvalError``, whose message is its last line on stderr."""


def zip_bundle_apart(store: Store, run_id: str, folder: Path, *, workspace_root: Path, threshold: float | None = None,
                     pick: str | None = None, transfer_from: TransferFrom | None = None, who: str = "",
                     apart_items: int = APART_ITEMS) -> WrittenBundle:
    """``zip_bundle``, its build in a child process for a run of ``apart_items`` items or more (the
    zip found again in this one). A child's ``CopeEvalError`` is raised here as an ``ExportError``
    with its message."""
    choice = {"threshold": threshold, "pick": pick, "transfer_from": transfer_from, "who": who}
    if store.run(run_id).n_items >= apart_items and not zip_path(store, run_id, folder, **choice).is_file():
        request = {"private_dir": str(store.private_dir), "run_id": run_id, "folder": str(folder),
                   "workspace_root": str(workspace_root), **choice,
                   "transfer_from": None if transfer_from is None else dataclasses.asdict(transfer_from)}
        done = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(request), capture_output=True,
                              text=True)
        if done.returncode != 0:
            said = done.stderr.strip().splitlines()
            last = said[-1] if said else "it said nothing"
            raise ExportError(last if done.returncode == USER_ERROR else
                              f"Building the bundle's zip stopped (exit status {done.returncode}): {last}")
    return zip_bundle(store, run_id, folder, workspace_root=workspace_root, **choice)


def main() -> None:
    """The child: one ``zip_bundle`` from the request on stdin (``zip_bundle_apart``'s)."""
    request = json.load(sys.stdin)
    given = request["transfer_from"]
    try:
        with Store(Path(request["private_dir"])) as store:
            zip_bundle(store, request["run_id"], Path(request["folder"]), workspace_root=Path(request["workspace_root"]),
                       threshold=request["threshold"], pick=request["pick"], who=request["who"],
                       transfer_from=None if given is None else TransferFrom(**given))
    except CopeEvalError as error:
        print(error, file=sys.stderr)
        sys.exit(USER_ERROR)

