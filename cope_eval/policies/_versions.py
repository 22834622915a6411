"""The policy store: immutable policy versions kept as plain files a team can commit to git.

On disk, each policy is a folder ``policies/<slug>/`` in the workspace; each version is two files
named after the first 16 hex digits of its id::

    policies/hate-speech/3f2a9b0c1d2e4f56.md     the text, byte for byte as saved (UTF-8)
    policies/hate-speech/3f2a9b0c1d2e4f56.json   {"format", "id", "policy", "parent", "note",
                                                  "author", "created", "text_file"}

A version's id is ``sha256:<hex>`` of its *canonical* text: the text with every CRLF and lone CR
turned into LF, nothing else changed (no trimming, no Unicode normalisation, a BOM stays). So a
file saved on Windows and the same file saved on Linux are one version; the ``.md`` keeps the
bytes of whichever was saved first.

Nothing is ever overwritten. Both files are written to a temporary name and hard-linked into
place (``atomic_files.create_exclusive``), which fails instead of replacing an existing file;
the ``.json`` is written last and is what makes a version visible. Two processes saving different texts at once write different files
and both versions survive; two saving the same text race for the same names and both get the
one version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

from .._util.atomic_files import create_exclusive, replace_atomic
from ..errors import ConfigError, CopeEvalError, NotFoundError, RowProblem, ValidationError
from ..records import PolicyVersion

POLICIES_DIR = "policies"
"""Folder of the workspace that holds one sub-folder per policy."""

VERSION_FORMAT = "cope-eval/policy-version@1"
"""Value of the ``format`` key in every version's metadata file."""

MAX_SLUG_LENGTH = 64
MAX_POLICY_BYTES = 2 * 1024 * 1024
"""Largest policy text accepted (2 MiB of UTF-8): far beyond any model's context."""

_STEM_HEX = 16
_VERSION_FILE = re.compile(rf"[0-9a-f]{{{_STEM_HEX}}}\.(md|json)")
_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
_SLUG_RULE = (
    f"use 1-{MAX_SLUG_LENGTH} lowercase letters, digits, '-', '_' or '.', "
    "starting with a letter or digit (e.g. 'hate-speech')"
)


def canonical_text(text: str) -> str:
    """The text a version id is computed from: CRLF and lone CR become LF, nothing else."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def version_id(text: str) -> str:
    """``sha256:<hex>`` of the UTF-8 bytes of ``canonical_text(text)``."""
    return "sha256:" + hashlib.sha256(canonical_text(text).encode("utf-8")).hexdigest()


def validate_slug(slug: str, *, what: str = "policy name") -> str:
    """Return ``slug`` unchanged when it is a safe folder name, else raise ``ValidationError``.

    Rejected: empty names, control characters, absolute paths, path separators and ``..``,
    names starting with ``.``, Windows device names (``con``, ``nul``, ``com1``...), upper-case
    or other characters outside ``[a-z0-9._-]``, a trailing ``.``, and names over 64 characters.
    """
    reason = _slug_problem(slug)
    if reason is None:
        return slug
    shown = slug if isinstance(slug, str) else repr(slug)
    problem = RowProblem(file=what, row=None, column=None, value=shown, problem=reason)
    raise ValidationError([problem], headline=f"Invalid {what} {shown!r}: {reason}; {_SLUG_RULE}.")


def _slug_problem(slug) -> str | None:
    if not isinstance(slug, str) or not slug.strip():
        return "it is empty"
    if any(unicodedata.category(ch) == "Cc" for ch in slug):
        return "it contains a control character"
    if slug.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", slug):
        return "it is an absolute path"
    if "/" in slug or "\\" in slug:
        return "it contains a path separator"
    if ".." in slug:
        return "it contains '..'"
    if slug.startswith("."):
        return "it starts with '.' (hidden and reserved names are not allowed)"
    if slug.split(".")[0].lower() in _WINDOWS_RESERVED:
        return "it is a reserved device name on Windows"
    if slug[0] in "-_":
        return "it must start with a lowercase letter or digit"
    if len(slug) > MAX_SLUG_LENGTH:
        return f"it is longer than {MAX_SLUG_LENGTH} characters"
    if not _SLUG_RE.fullmatch(slug):
        return "it contains characters that are not allowed"
    if slug.endswith("."):
        return "it ends with '.'"
    return None


def slugify(name: str) -> str:
    """A valid slug for a display name: "Hate Speech v2" -> "hate-speech-v2".

    Accents are dropped ("Café" -> "cafe"); a Windows device name gets a suffix ("con" ->
    "con-policy"); letters or digits with no ASCII form ("日本語") become the first 8 hex digits
    of the name's sha256 ("policy-" + them when nothing else is left), so two such names never
    share a slug. Only a name without any letter or digit is refused (``ValidationError``).
    """
    decomposed = unicodedata.normalize("NFKD", name)
    lost = any(ch.isalnum() and not ch.isascii() for ch in decomposed)
    ascii_name = decomposed.encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if lost:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        slug = f"{slug[:MAX_SLUG_LENGTH - 9].strip('-') or 'policy'}-{digest}"
    slug = slug[:MAX_SLUG_LENGTH].strip("-")
    if slug in _WINDOWS_RESERVED:
        slug += "-policy"
    return validate_slug(slug)


def save_version(
    workspace: Path,
    slug: str,
    text: str,
    *,
    parent: str | None = None,
    note: str = "",
    author: str = "",
    created: str | None = None,
) -> PolicyVersion:
    """Save ``text`` as a new version of policy ``slug`` and return it.

    When a version with the same canonical text already exists in this policy, that version is
    returned unchanged (its note, author and parent are kept). ``parent`` is the id (or a unique
    prefix) of the version the text was edited from; ``created`` (ISO 8601) defaults to now, UTC.
    """
    folder = _policy_dir(workspace, slug)
    data = check_policy_text(text, source=slug)
    vid = version_id(text)
    stem = vid.split(":", 1)[1][:_STEM_HEX]
    existing = _existing(folder, stem, vid)
    if existing is not None:
        return existing
    parent_id = get_version(workspace, slug, parent).id if parent else None
    for field_name, value in (("note", note), ("author", author)):
        if not isinstance(value, str) or _utf8_problem(value):
            raise ValidationError([RowProblem(file=slug, row=None, column=field_name, value=None,
                                              problem=f"{field_name} must be text that UTF-8 can store")])
    meta = {
        "format": VERSION_FORMAT,
        "id": vid,
        "policy": slug,
        "parent": parent_id,
        "note": note,
        "author": author,
        "created": _iso_utc(created),
        "text_file": f"{stem}.md",
    }
    folder.mkdir(parents=True, exist_ok=True)
    if not create_exclusive(folder / f"{stem}.md", data):
        _check_md(folder / f"{stem}.md", vid)
    meta_bytes = (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if not create_exclusive(folder / f"{stem}.json", meta_bytes):
        # Another save of the same text won the race: theirs is the version.
        return _read_version(folder, folder / f"{stem}.json")
    return _version_from_meta(slug, meta, text)


def import_policy(
    workspace: Path,
    slug: str,
    source: Path | bytes,
    *,
    filename: str | None = None,
    parent: str | None = None,
    note: str | None = None,
    author: str = "",
    created: str | None = None,
) -> PolicyVersion:
    """Save the UTF-8 text of a Markdown/text file (a path, or uploaded bytes) as a version.

    The bytes are kept exactly (BOM and line endings included), so ``export_policy`` gives the
    same bytes back.
    """
    name = filename or (Path(source).name if not isinstance(source, bytes) else "upload")
    text = _decode(source, name) if isinstance(source, bytes) else read_policy_file(source)
    return save_version(
        workspace,
        slug,
        text,
        parent=parent,
        note=f"imported from {name}" if note is None else note,
        author=author,
        created=created,
    )


def policy_bytes(version: PolicyVersion) -> bytes:
    """The version's text as the exact bytes it was saved with (for a download button)."""
    return version.text.encode("utf-8")


def export_policy(version: PolicyVersion, dest: Path, *, overwrite: bool = False) -> Path:
    """Write the version's text to ``dest`` byte for byte; refuses to replace a file unless asked."""
    dest = Path(dest)
    data = policy_bytes(version)
    if overwrite:
        replace_atomic(dest, data)
    elif not create_exclusive(dest, data):
        raise ConfigError(f"{dest} already exists; choose another name", options=("overwrite",))
    return dest


def list_policies(workspace: Path) -> list[str]:
    """Slugs of the policies in the workspace that have at least one version, sorted."""
    root = Path(workspace) / POLICIES_DIR
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and _slug_problem(p.name) is None and any(_meta_files(p))
    )


def list_versions(workspace: Path, slug: str) -> list[PolicyVersion]:
    """All versions of a policy, oldest first (by created time, then id); [] when none."""
    folder = _policy_dir(workspace, slug)
    if not folder.is_dir():
        return []
    versions = [_read_version(folder, path) for path in _meta_files(folder)]
    return sorted(versions, key=lambda v: (v.created, v.id))


def latest_version(workspace: Path, slug: str) -> PolicyVersion:
    """The most recently created version; ``NotFoundError`` when the policy has none."""
    versions = list_versions(workspace, slug)
    if not versions:
        raise NotFoundError(f"No policy named {slug!r} in {Path(workspace) / POLICIES_DIR}")
    return versions[-1]


def get_version(workspace: Path, slug: str, version: str) -> PolicyVersion:
    """Look a version up by its id, or by a unique prefix of its hex (at least 6 digits)."""
    folder = _policy_dir(workspace, slug)
    hexpart = version.split(":", 1)[1] if version.startswith("sha256:") else version
    if len(hexpart) >= 6 and re.fullmatch(r"[0-9a-f]+", hexpart) and folder.is_dir():
        matches = [p for p in _meta_files(folder) if _prefix_match(p.stem, hexpart)]
        found = [v for v in (_read_version(folder, p) for p in matches) if v.id[7:].startswith(hexpart)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise NotFoundError(f"Version prefix {version!r} of policy {slug!r} is ambiguous; give more digits")
    raise NotFoundError(f"Policy {slug!r} has no version {version!r}")


def _prefix_match(stem: str, hexpart: str) -> bool:
    n = min(len(stem), len(hexpart))
    return stem[:n] == hexpart[:n]


def _policy_dir(workspace: Path, slug: str) -> Path:
    return Path(workspace) / POLICIES_DIR / validate_slug(slug)


def _meta_files(folder: Path):
    """The metadata files of a policy folder: ``<16 hex>.json`` files; anything else is not ours."""
    return (p for p in folder.glob("*.json") if _VERSION_FILE.fullmatch(p.name) and p.is_file())


def scan_policy(workspace: Path, slug: str) -> tuple[list[PolicyVersion], list[str]]:
    """The versions of a policy that read back intact (oldest first), and one sentence for each
    entry of its folder that is not: a damaged version, or a file or folder that is not a version
    (a stray ``notes.txt``). Hidden entries (a save in progress) are skipped. For an overview that
    must show what it can; ``list_versions`` raises on a damaged version instead."""
    folder = _policy_dir(workspace, slug)
    if not folder.is_dir():
        return [], []
    versions, problems = [], []
    for path in _meta_files(folder):
        try:
            versions.append(_read_version(folder, path))
        except CopeEvalError as ex:
            problems.append(str(ex))
    for path in sorted(folder.iterdir()):
        if not path.name.startswith(".") and not (_VERSION_FILE.fullmatch(path.name) and path.is_file()):
            shown = os.fsencode(path.name).decode("utf-8", "backslashreplace")
            problems.append(f"{POLICIES_DIR}/{slug}/{shown} is not a policy version file; it is ignored")
    return sorted(versions, key=lambda v: (v.created, v.id)), problems


def check_policy_text(text: str, *, source: str) -> bytes:
    """The UTF-8 bytes of a policy text, after the one check every policy passes, whether it is
    saved (page, library) or read for a run (CLI): a non-empty string, at most MAX_POLICY_BYTES.
    ``source`` (a policy name, a file name) is what an error names."""
    def reject(problem: str):
        raise ValidationError([RowProblem(file=source, row=None, column="text", value=None, problem=problem)],
                              headline=f"{source}: {problem}.")

    if not isinstance(text, str):
        reject(f"policy text must be a string, not {type(text).__name__}")
    if not text.strip():
        reject("policy text is empty")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as ex:
        reject(f"policy text has a character that cannot be stored as UTF-8 at position {ex.start}")
    if len(data) > MAX_POLICY_BYTES:
        reject(_too_big(len(data)))
    return data


def _too_big(size: int) -> str:
    return f"policy text is {size:,} bytes, over the limit of {MAX_POLICY_BYTES:,} bytes"


def read_policy_file(path: Path) -> str:
    """The text of a policy file, decoded as UTF-8 and checked (``check_policy_text``).

    A file over the size limit is refused after reading just past the limit, not loaded whole.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_POLICY_BYTES + 1)
            size = os.fstat(fh.fileno()).st_size
    except OSError as ex:
        raise NotFoundError(f"Cannot read policy file {str(path)!r}: {ex.strerror or ex}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise ValidationError([RowProblem(file=str(path), row=None, column="text", value=None,
                                          problem=_too_big(size))], headline=f"{path}: {_too_big(size)}.")
    text = _decode(data, path.name)
    check_policy_text(text, source=str(path))
    return text


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as ex:
        problem = RowProblem(
            file=name,
            row=None,
            column=None,
            value=repr(data[ex.start : ex.start + 8]),
            problem=f"not valid UTF-8 at byte {ex.start}; save the policy as UTF-8 and import it again",
        )
        raise ValidationError([problem]) from None


def _utf8_problem(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _iso_utc(created: str | None) -> str:
    if created is None:
        when = datetime.now(timezone.utc)
    else:
        try:
            when = datetime.fromisoformat(created)
        except (TypeError, ValueError):
            raise ValidationError(
                [RowProblem(file="created", row=None, column=None, value=str(created),
                            problem="not an ISO 8601 time (e.g. 2025-01-31T12:00:00Z)")]
            ) from None
        when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    return when.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _existing(folder: Path, stem: str, vid: str) -> PolicyVersion | None:
    meta_path = folder / f"{stem}.json"
    if not meta_path.exists():
        return None
    version = _read_version(folder, meta_path)
    if version.id != vid:
        raise CopeEvalError(
            f"{meta_path} belongs to {version.id}, which shares its file name with {vid}; "
            "this should never happen, please report it"
        )
    return version


def _check_md(path: Path, vid: str) -> None:
    if version_id(_read_text(path)) != vid:
        raise ConfigError(
            f"{path} does not hold the text of {vid} (edited by hand, or a crashed save on a "
            "filesystem without hard links); move it away and save again"
        )


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise ConfigError(f"Cannot read policy text {path}: {ex}") from None


def _read_version(folder: Path, meta_path: Path) -> PolicyVersion:
    try:
        meta = json.loads(meta_path.read_bytes().decode("utf-8"))
        if meta.get("format") != VERSION_FORMAT or not isinstance(meta.get("id"), str):
            raise ValueError(f"format is not {VERSION_FORMAT}")
    except (OSError, ValueError, AttributeError) as ex:
        raise ConfigError(f"{meta_path} is not valid policy version metadata ({ex})") from None
    text = _read_text(folder / f"{meta_path.stem}.md")
    if version_id(text) != meta["id"]:
        raise ConfigError(
            f"{folder / (meta_path.stem + '.md')} was changed after it was saved: its text no "
            f"longer matches {meta['id']}. Restore it, and save the edited text as a new version."
        )
    return _version_from_meta(folder.name, meta, text)


def _version_from_meta(slug: str, meta: dict, text: str) -> PolicyVersion:
    return PolicyVersion(
        id=meta["id"],
        policy=slug,
        text=text,
        parent=meta.get("parent"),
        note=meta.get("note") or "",
        author=meta.get("author") or "",
        created=meta.get("created") or "",
    )
