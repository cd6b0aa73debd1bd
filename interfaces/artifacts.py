"""The artifact format's contract between the builds that write it and the providers that serve it.

Every build engine (``offline``'s embedded one, a Spark one) writes an artifact directory whose
``manifest.json`` lists each file with its md5 and size and names the whole content by
``content_hash`` (sha256 over the lines ``"<path> <md5>\\n"``, sorted by path); the layout of the files
themselves is ``offline/ARTIFACTS.md``. An *artifact root* holds one immutable directory per build::

    ROOT/versions/<YYYYMMDDTHHMMSSZ>-<first 12 hex of content_hash>/    manifest.json + the files
    ROOT/pin.json                                                        the local pin (no Nacos), optional

Version ids sort by build time, so "the newest" is the greatest id. Here: the names, reading and checking
a manifest, and listing a root. Writing is the build's (``offline.manifest``, ``offline.versions``);
judging a version before it serves is the provider's gate (``provider.rollout``). It reads files and
nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

__all__ = [
    "FORMAT",
    "LOCAL_PIN",
    "MANIFEST",
    "VERSIONS",
    "ArtifactFormatError",
    "content_hash",
    "file_digests",
    "file_md5",
    "is_version_id",
    "list_versions",
    "read_manifest",
    "verify_artifacts",
    "version_dir",
    "version_id",
]

FORMAT = 1
MANIFEST = "manifest.json"
VERSIONS = "versions"
LOCAL_PIN = "pin.json"
_ID = re.compile(r"(\d{8}T\d{6}Z)-([0-9a-f]{12})\Z")


class ArtifactFormatError(ValueError):
    """An artifact directory or root that does not match the contract (missing manifest, bad md5, bad id)."""


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_digests(root: Path) -> dict[str, dict[str, Any]]:
    """``{relative posix path: {"md5", "size"}}`` of every file under ``root`` except the manifest."""
    files: dict[str, dict[str, Any]] = {}
    for directory, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            path = Path(directory) / name
            rel = path.relative_to(root).as_posix()
            if rel != MANIFEST:
                files[rel] = {"md5": file_md5(path), "size": path.stat().st_size}
    return dict(sorted(files.items()))


def content_hash(files: dict[str, dict[str, Any]]) -> str:
    """sha256 of ``path md5`` lines, sorted by path: the build's content in one value."""
    lines = "".join(f"{rel} {files[rel]['md5']}\n" for rel in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


def read_manifest(root: Path) -> dict[str, Any]:
    path = Path(root) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactFormatError(f"no {MANIFEST} in {root}") from None
    except (OSError, ValueError) as exc:
        raise ArtifactFormatError(f"unreadable {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ArtifactFormatError(f"{path}: unsupported format {found!r}")
    return manifest


def verify_artifacts(root: Path, check_md5: bool = True) -> dict[str, Any]:
    """The manifest, after checking every listed file exists with its size (and md5, and that the
    md5s still give the manifest's ``content_hash`` when it has one)."""
    root = Path(root)
    manifest = read_manifest(root)
    files = manifest.get("files", {})
    if check_md5 and "content_hash" in manifest and content_hash(files) != manifest["content_hash"]:
        raise ArtifactFormatError(f"{root}: the files listed do not give the manifest's content_hash")
    for rel, expected in files.items():
        path = root / rel
        if not path.is_file():
            raise ArtifactFormatError(f"{root}: {rel} is listed in the manifest but missing")
        if path.stat().st_size != expected["size"]:
            raise ArtifactFormatError(f"{root}: {rel} has size {path.stat().st_size}, manifest says {expected['size']}")
        if check_md5 and file_md5(path) != expected["md5"]:
            raise ArtifactFormatError(f"{root}: {rel} md5 differs from the manifest")
    return manifest


def version_id(manifest: dict[str, Any]) -> str:
    """The id a build's manifest gets in an artifact root (``built_at`` + content hash)."""
    built_at, content = str(manifest.get("built_at", "")), str(manifest.get("content_hash", ""))
    stamp = built_at.replace("-", "").replace(":", "")
    if not re.fullmatch(r"\d{8}T\d{6}Z", stamp) or not re.fullmatch(r"[0-9a-f]{12,}", content):
        raise ArtifactFormatError(f"manifest has no usable built_at/content_hash ({built_at!r}, {content!r})")
    return f"{stamp}-{content[:12]}"


def is_version_id(name: str) -> bool:
    return bool(_ID.match(name))


def version_dir(root: Path, version: str) -> Path:
    """``ROOT/versions/<version>``; the id is checked so a caller-given name cannot leave the root."""
    if not is_version_id(version):
        raise ArtifactFormatError(f"{version!r} is not a version id (YYYYMMDDTHHMMSSZ-<12 hex>)")
    return Path(root) / VERSIONS / version


def list_versions(root: Path) -> list[str]:
    """Ids of the whole version directories under ``root`` (those with a manifest), oldest first."""
    directory = Path(root) / VERSIONS
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if is_version_id(n) and (directory / n / MANIFEST).is_file())
