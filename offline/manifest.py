"""``manifest.json``: what an artifact directory holds, and the check that it is intact.

``version`` is a hash of everything that determines the build: the artifact
format, the builder code (the md5 of ``offline/**/*.py``), the source data fingerprint (md5 of the ML-100K
files, or the generator parameters) and the build parameters. Equal inputs
give equal versions, so ``build --skip-existing`` can skip a rebuild without
redoing it, and a consumer can tell two builds apart by the version alone.
Per-file md5s then cover the content itself (model training is not
bit-reproducible across machines, so the files are not part of the version), and
``content_hash`` (sha256 over every file's path and md5) names that content in one
value: an artifact root (``offline.versions``) uses it in the version id, and a
directory changed after its build no longer matches it. Reading and checking a manifest is
the format's contract with the providers (``interfaces.artifacts``); here the build writes
it, and its checks raise the build's own ``ArtifactError``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dubbo_recsys.interfaces import artifacts
from dubbo_recsys.interfaces.artifacts import FORMAT, MANIFEST, ArtifactFormatError, content_hash, file_digests
from dubbo_recsys.offline.errors import ArtifactError

__all__ = [
    "BUILDER_REVISION",
    "FORMAT",
    "MANIFEST",
    "build_version",
    "code_fingerprint",
    "content_hash",
    "file_digests",
    "read_manifest",
    "software_versions",
    "verify_artifacts",
    "write_manifest",
]

BUILDER_REVISION = 1  # bump when a change outside offline/*.py alters what a build writes
_SOFTWARE = ("numpy", "scipy", "tensorflow-cpu", "tensorflow", "keras", "faiss-cpu", "dubbo-recsys")


def code_fingerprint() -> str:
    """md5 of the ``offline`` package's Python sources: a code change is a new version."""
    digest = hashlib.md5()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.relative_to(Path(__file__).parent).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_version(source: str, fingerprint: str, params: dict[str, Any]) -> str:
    blob = json.dumps(
        {
            "format": FORMAT,
            "builder": BUILDER_REVISION,
            "code": code_fingerprint(),
            "source": source,
            "fingerprint": fingerprint,
            "params": params,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in _SOFTWARE:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def write_manifest(root: Path, fields: dict[str, Any]) -> dict[str, Any]:
    files = file_digests(root)
    manifest = {
        "format": FORMAT,
        **fields,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "content_hash": content_hash(files),
        "files": files,
        "software": software_versions(),
    }
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def read_manifest(root: Path) -> dict[str, Any]:
    """``interfaces.artifacts.read_manifest``, raising the build's ``ArtifactError``."""
    try:
        return artifacts.read_manifest(root)
    except ArtifactFormatError as exc:
        raise ArtifactError(str(exc)) from exc


def verify_artifacts(root: Path, check_md5: bool = True) -> dict[str, Any]:
    """``interfaces.artifacts.verify_artifacts`` (every file's size, md5 and the content hash), raising the
    build's ``ArtifactError``."""
    try:
        return artifacts.verify_artifacts(root, check_md5)
    except ArtifactFormatError as exc:
        raise ArtifactError(str(exc)) from exc
