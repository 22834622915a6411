"""What an analyst ships: the bundle (policy, threshold, metrics, evidence), its card, and the
Zentropi formats; and a threshold carried over from another run (``transfer_runs``).

A bundle is written to disk file by file (a folder: ``export_bundle``; a zip: ``zip_bundle``, in a
child process for a large run: ``zip_bundle_apart``), so a million-item run's bundle is never whole
in memory; ``build_bundle`` keeps a small one in memory."""

from ._apart import APART_ITEMS, zip_bundle_apart
from ._archive import (
    DOWNLOAD_LIMIT_BYTES, EXPORTS_FOLDER, KEEP_ZIPS, bundle_zip, export_command, read_zipped, zip_bundle, zip_key,
)
from ._bundle import (
    FILES, Bundle, PICK_HELP, WrittenBundle, build_bundle, bundle_name, completed_probes, stage_bundle,
)
from ._card_table import MEAN_ROW, card_table_csv, card_table_markdown
from ._folder import export_bundle, extract_bundle, write_bundle
from ._transfer import TransferFrom, transfer_runs

__all__ = [
    "APART_ITEMS",
    "Bundle",
    "DOWNLOAD_LIMIT_BYTES",
    "EXPORTS_FOLDER",
    "FILES",
    "KEEP_ZIPS",
    "MEAN_ROW",
    "PICK_HELP",
    "TransferFrom",
    "WrittenBundle",
    "build_bundle",
    "bundle_name",
    "bundle_zip",
    "card_table_csv",
    "card_table_markdown",
    "completed_probes",
    "export_bundle",
    "export_command",
    "extract_bundle",
    "read_zipped",
    "stage_bundle",
    "transfer_runs",
    "write_bundle",
    "zip_bundle",
    "zip_bundle_apart",
    "zip_key",
]
