"""Golden sets: load any supported file through one column spec, validate every row (naming file,
row and problem), read images and videos safely, snapshot each version in the store, split a set
into dev and test."""

from ._images import encode_data_url, image_kind, image_reference, load_image_bytes, to_data_url
from ._load import (
    ColumnSpec, FilePreview, LabelChange, LoadResult, golden_set_hash, load_golden_set, preview_file, relabel,
    write_golden_set
)
from ._mapping import (
    DELIMITERS, ENCODINGS, ImportRule, LabelRule, check_delimiter, check_encoding, parse_label_map,
    parse_label_threshold, sniff_delimiter
)
from ._named import find_golden_set
from ._metadata import METADATA_RESERVED, metadata_columns, metadata_json, metadata_name, typed_metadata
from ._registry import add_golden_set, correct_label, import_note
from ._split import (
    DEFAULT_SEED, DEFAULT_TEST_FRACTION, SPLIT_SOURCE, SplitResult, assign_split, check_test_fraction, make_split,
    split_counts, split_golden_set
)
from ..store import check_split, has_split, split_results  # the split as reports see it: the store's results
from ._thumbnails import uploaded_image_data_url, video_thumbnail, with_thumbnails
from ._videos import (
    MAX_VIDEO_BYTES, MAX_VIDEO_SECONDS, VideoLimits, check_video, first_frame, load_video_bytes, video_data_url,
    video_digest, video_reference
)

__all__ = [
    "DELIMITERS",
    "ENCODINGS",
    "ColumnSpec",
    "DEFAULT_SEED",
    "DEFAULT_TEST_FRACTION",
    "SPLIT_SOURCE",
    "FilePreview",
    "ImportRule",
    "LabelRule",
    "LabelChange",
    "LoadResult",
    "MAX_VIDEO_BYTES",
    "MAX_VIDEO_SECONDS",
    "METADATA_RESERVED",
    "SplitResult",
    "VideoLimits",
    "add_golden_set",
    "assign_split",
    "check_delimiter",
    "check_encoding",
    "check_split",
    "check_test_fraction",
    "check_video",
    "correct_label",
    "encode_data_url",
    "find_golden_set",
    "first_frame",
    "golden_set_hash",
    "has_split",
    "image_kind",
    "image_reference",
    "import_note",
    "load_golden_set",
    "load_image_bytes",
    "load_video_bytes",
    "make_split",
    "metadata_columns",
    "metadata_json",
    "metadata_name",
    "parse_label_map",
    "preview_file",
    "parse_label_threshold",
    "relabel",
    "sniff_delimiter",
    "split_counts",
    "split_golden_set",
    "split_results",
    "to_data_url",
    "typed_metadata",
    "uploaded_image_data_url",
    "video_data_url",
    "video_digest",
    "video_reference",
    "video_thumbnail",
    "with_thumbnails",
    "write_golden_set",
]
