"""An artifact root: immutable version directories, one per build, that a provider rolls between.

Layout (``offline/ARTIFACTS.md``, "Versions")::

    ROOT/
      versions/
        20260105T031500Z-1a2b3c4d5e6f/     one whole artifact directory (manifest.json + files), never changed
        20260106T031200Z-9f8e7d6c5b4a/
      pin.json                              the local pin (``dubbo-recsys publish`` without Nacos), optional
      .staging-<pid>/                       a build in progress (hidden; renamed into versions/ when whole)

A version id is ``<built_at as YYYYMMDDTHHMMSSZ>-<first 12 hex of the content hash>``: ids sort by
build time, so "the newest" is the greatest id, and two builds with different content never share
one. The content hash (``offline.manifest.content_hash``) covers every file's md5 and path, so a
version directory changed after its build no longer matches its own manifest.

This module only names and lists: it does not judge a version (``verify_artifacts`` checks the files,
the provider's rollout gate the rest) and it does not know which engine wrote it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from dubbo_recsys.offline.errors import ArtifactError, BuildConfigError
from dubbo_recsys.offline.manifest import MANIFEST

__all__ = [
    "LOCAL_PIN",
    "VERSIONS",
    "is_version_id",
    "list_versions",
    "publish_version",
    "staging_dir",
    "version_dir",
    "version_id",
]

VERSIONS = "versions"
LOCAL_PIN = "pin.json"
_ID = re.compile(r"(\d{8}T\d{6}Z)-([0-9a-f]{12})\Z")


def version_id(manifest: dict[str, Any]) -> str:
    """The id a build's manifest gets in an artifact root (``built_at`` + content hash)."""
    built_at, content = str(manifest.get("built_at", "")), str(manifest.get("content_hash", ""))
    stamp = built_at.replace("-", "").replace(":", "")
    if not re.fullmatch(r"\d{8}T\d{6}Z", stamp) or not re.fullmatch(r"[0-9a-f]{12,}", content):
        raise ArtifactError(f"manifest has no usable built_at/content_hash ({built_at!r}, {content!r})")
    return f"{stamp}-{content[:12]}"


def is_version_id(name: str) -> bool:
    return bool(_ID.match(name))


def version_dir(root: Path, version: str) -> Path:
    """``ROOT/versions/<version>``; the id is checked so a caller-given name cannot leave the root."""
    if not is_version_id(version):
        raise ArtifactError(f"{version!r} is not a version id (YYYYMMDDTHHMMSSZ-<12 hex>)")
    return Path(root) / VERSIONS / version


def list_versions(root: Path) -> list[str]:
    """Ids of the whole version directories under ``root`` (those with a manifest), oldest first."""
    directory = Path(root) / VERSIONS
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if is_version_id(n) and (directory / n / MANIFEST).is_file())


def staging_dir(root: Path) -> Path:
    """A fresh hidden directory under ``root`` for a build in progress (same file system as versions/)."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise BuildConfigError(f"artifact root {root} is a file")
    staging = root / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def publish_version(staging: Path, root: Path, manifest: dict[str, Any]) -> Path:
    """Rename a finished build (its manifest written) into ``ROOT/versions/<id>``; returns that path.

    The rename is atomic, so a provider listing the root sees a version whole or not at all. An id
    that exists already holds the same content (the id carries the content hash), so the new copy is
    dropped and the existing directory, which providers may be serving, is left untouched."""
    target = version_dir(root, version_id(manifest))
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(staging, ignore_errors=True)
        return target
    staging.rename(target)
    return target
