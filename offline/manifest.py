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
directory changed after its build no longer matches it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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

FORMAT = 1
BUILDER_REVISION = 1  # bump when a change outside offline/*.py alters what a build writes
MANIFEST = "manifest.json"
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


def _md5(path: Path) -> str:
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
                files[rel] = {"md5": _md5(path), "size": path.stat().st_size}
    return dict(sorted(files.items()))


def content_hash(files: dict[str, dict[str, Any]]) -> str:
    """sha256 of ``path md5`` lines, sorted by path: the build's content in one value."""
    lines = "".join(f"{rel} {files[rel]['md5']}\n" for rel in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


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
    path = Path(root) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"no {MANIFEST} in {root}") from None
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"unreadable {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(
            f"{path}: unsupported format {manifest.get('format') if isinstance(manifest, dict) else None!r}"
        )
    return manifest


def verify_artifacts(root: Path, check_md5: bool = True) -> dict[str, Any]:
    """The manifest, after checking every listed file exists with its size (and md5, and that the
    md5s still give the manifest's ``content_hash`` when it has one)."""
    root = Path(root)
    manifest = read_manifest(root)
    files = manifest.get("files", {})
    if check_md5 and "content_hash" in manifest and content_hash(files) != manifest["content_hash"]:
        raise ArtifactError(f"{root}: the files listed do not give the manifest's content_hash")
    for rel, expected in files.items():
        path = root / rel
        if not path.is_file():
            raise ArtifactError(f"{root}: {rel} is listed in the manifest but missing")
        if path.stat().st_size != expected["size"]:
            raise ArtifactError(f"{root}: {rel} has size {path.stat().st_size}, manifest says {expected['size']}")
        if check_md5 and _md5(path) != expected["md5"]:
            raise ArtifactError(f"{root}: {rel} md5 differs from the manifest")
    return manifest
