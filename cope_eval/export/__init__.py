"""What an analyst ships: the bundle (policy, threshold, metrics, evidence), its card, and the
Zentropi formats."""

from ._bundle import (
    Bundle, PICK_HELP, build_bundle, bundle_zip, completed_probes, export_bundle, write_bundle,
)

__all__ = [
    "Bundle",
    "PICK_HELP",
    "build_bundle",
    "bundle_zip",
    "completed_probes",
    "export_bundle",
    "write_bundle",
]
