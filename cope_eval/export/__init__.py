"""What an analyst ships: the bundle (policy, threshold, metrics, evidence), its card, and the
Zentropi formats; and a threshold carried over from another run (``transfer_runs``)."""

from ._bundle import (
    Bundle, PICK_HELP, build_bundle, bundle_zip, completed_probes, export_bundle, write_bundle,
)
from ._card_table import MEAN_ROW, card_table_csv, card_table_markdown
from ._transfer import TransferFrom, transfer_runs

__all__ = [
    "Bundle",
    "MEAN_ROW",
    "PICK_HELP",
    "TransferFrom",
    "build_bundle",
    "bundle_zip",
    "card_table_csv",
    "card_table_markdown",
    "completed_probes",
    "export_bundle",
    "transfer_runs",
    "write_bundle",
]
