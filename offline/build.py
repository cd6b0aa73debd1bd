"""Run the build steps into a fresh directory and publish it atomically.

The steps write into a hidden sibling directory; only after the manifest is
written is it renamed over ``out``, so a reader never sees a half-built
artifact and a failed build leaves the previous one in place. ``out`` is only
ever replaced when it is empty or already an artifact directory (it has a
``manifest.json``), never when it holds something else.

``skip_existing`` compares the version (a hash of the inputs, see
``offline.manifest``) with the manifest already in ``out`` and returns that
manifest untouched when they match and its files have the listed sizes.

``into_root=True`` makes ``out`` an artifact root instead (``offline.versions``): the
build lands in ``out/versions/<id>``, a new immutable version beside the earlier ones,
which providers serving that root (``serve --artifact-root``) then roll to; with
``skip_existing`` the newest version there is compared.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dubbo_recsys.interfaces.artifacts import list_versions, version_dir
from dubbo_recsys.offline.config import BuildConfig, Source
from dubbo_recsys.offline.errors import ArtifactError, BuildConfigError, SourceDataError
from dubbo_recsys.offline.manifest import MANIFEST, build_version, verify_artifacts, write_manifest
from dubbo_recsys.offline.steps import BuildContext, BuildStep, default_steps
from dubbo_recsys.offline.versions import publish_version, staging_dir

__all__ = ["BuildResult", "run_build", "source_fingerprint"]


@dataclass(frozen=True, slots=True)
class BuildResult:
    root: Path
    manifest: dict[str, Any]
    skipped: bool


def source_fingerprint(config: BuildConfig) -> str:
    """md5 of what the source reads, known before any step runs."""
    if config.source is Source.ML100K:
        from dubbo_recsys.offline.movielens import FILES, locate_ml100k

        directory = config.data_dir or locate_ml100k()
        digest = hashlib.md5()
        for name in FILES:
            path = directory / name
            if not path.is_file():
                raise SourceDataError(f"missing ML-100K file {path}")
            digest.update(path.read_bytes())
        return digest.hexdigest()
    from dubbo_recsys.offline.synthetic import GENERATOR_REVISION

    blob = json.dumps({"generator": GENERATOR_REVISION, "params": config.params()["synthetic"]}, sort_keys=True)
    return hashlib.md5(blob.encode()).hexdigest()


def _existing_manifest(out: Path) -> dict[str, Any] | None:
    if not (out / MANIFEST).is_file():
        return None
    try:
        return verify_artifacts(out, check_md5=False)
    except ArtifactError:
        return None


def _publish(staging: Path, out: Path) -> None:
    if out.exists():
        if not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file()):
            raise BuildConfigError(f"{out} exists and is not an artifact directory: refusing to replace it")
        retired = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(retired)
        staging.rename(out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(out)


def run_build(
    config: BuildConfig,
    steps: Sequence[BuildStep] | None = None,
    skip_existing: bool = False,
    show_progress: bool = False,
    into_root: bool = False,
) -> BuildResult:
    out = config.out
    if out.exists() and not out.is_dir():
        raise BuildConfigError(f"--out {out} is a file")
    params = config.params()
    fingerprint = source_fingerprint(config)
    version = build_version(config.source.value, fingerprint, params)
    if skip_existing:
        newest = list_versions(out)[-1:] if into_root else []
        current = version_dir(out, newest[0]) if newest else out
        existing = _existing_manifest(current) if newest or not into_root else None
        if existing is not None and existing.get("version") == version:
            return BuildResult(current, existing, skipped=True)

    if into_root:
        staging = staging_dir(out)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    started_at, build_began = time.time(), time.perf_counter()
    try:
        ctx = BuildContext(config=config, root=staging, show_progress=show_progress)
        timings: dict[str, float] = {}
        for step in steps if steps is not None else default_steps():
            if not step.enabled(config):
                continue
            started = time.perf_counter()
            step.run(ctx)
            timings[type(step).__name__] = round(time.perf_counter() - started, 3)
        source, split = ctx.require("source"), ctx.require("split")
        manifest = write_manifest(
            staging,
            {
                "name": config.name,
                "version": version,
                "source": config.source.value,
                "source_fingerprint": fingerprint,
                "params": {**params, **ctx.params},
                "counts": {
                    "users": source.n_users,
                    "items": source.n_items,
                    "train": len(split.train),
                    "test": len(split.test),
                },
                "metrics": ctx.metrics,
                "steps": timings,
                "build": {
                    # the engine that wrote it (the embedded one unless the config names another)
                    "engine": str(getattr(config, "engine", "embedded")),
                    "started_at": round(started_at, 3),
                    "seconds": round(time.perf_counter() - build_began, 3),
                },
            },
        )
        if into_root:
            out = publish_version(staging, out, manifest)
        else:
            _publish(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(out, manifest, skipped=False)
