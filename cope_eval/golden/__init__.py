"""Golden sets: load any supported file through one column spec, validate every row (naming file,
row and problem), read images safely, snapshot each version in the store."""

from ._images import encode_data_url, image_kind, load_image_bytes, to_data_url
from ._load import (
    ColumnSpec, LabelChange, LoadResult, golden_set_hash, load_golden_set, relabel, write_golden_set
)
from ._registry import correct_label
from ._thumbnails import uploaded_image_data_url, with_thumbnails

__all__ = [
    "ColumnSpec",
    "LabelChange",
    "LoadResult",
    "correct_label",
    "encode_data_url",
    "golden_set_hash",
    "image_kind",
    "load_golden_set",
    "load_image_bytes",
    "relabel",
    "to_data_url",
    "uploaded_image_data_url",
    "with_thumbnails",
    "write_golden_set",
]
