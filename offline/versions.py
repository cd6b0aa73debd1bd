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
one. The content hash (``interfaces.artifacts.content_hash``) covers every file's md5 and path, so a
version directory changed after its build no longer matches its own manifest.

The names and the listing are the format's contract with the providers (``interfaces.artifacts``);
this module is the build's side: where a build is staged and how it is published into the root. It
does not judge a version (``verify_artifacts`` checks the files, the provider's rollout gate the rest)
and it does not know which engine wrote it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from dubbo_recsys.interfaces.artifacts import ArtifactFormatError, version_dir, version_id
from dubbo_recsys.offline.errors import ArtifactError, BuildConfigError

__all__ = ["publish_version", "staging_dir"]


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
    try:
        target = version_dir(root, version_id(manifest))
    except ArtifactFormatError as exc:
        raise ArtifactError(str(exc)) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(staging, ignore_errors=True)
        return target
    staging.rename(target)
    return target
