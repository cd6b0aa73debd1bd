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

The engine (``BuildConfig.engine``) is made here and handed to the steps on the
context; it is not part of the version, since both engines write the same artifact.
Scratch files (example files, Spark output) go to a hidden ``.work`` sibling removed
at the end. Each step logs one line with its time (logger ``dubbo_recsys.offline``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dubbo_recsys.interfaces.artifacts import list_versions, version_dir
from dubbo_recsys.offline.config import BuildConfig, Engine, Source
from dubbo_recsys.offline.context import BuildContext, BuildStep
from dubbo_recsys.offline.engine import ComputeEngine
from dubbo_recsys.offline.errors import ArtifactError, BuildConfigError, SourceDataError
from dubbo_recsys.offline.manifest import MANIFEST, build_version, verify_artifacts, write_manifest
from dubbo_recsys.offline.recipe import default_steps
from dubbo_recsys.offline.versions import publish_version, staging_dir

__all__ = ["BuildResult", "make_engine", "run_build", "source_fingerprint"]

log = logging.getLogger("dubbo_recsys.offline")


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
    if config.files is not None:
        from dubbo_recsys.offline.logfiles import files_fingerprint

        return files_fingerprint(config.files)
    from dubbo_recsys.offline.synthetic import GENERATOR_REVISION

    blob = json.dumps({"generator": GENERATOR_REVISION, "params": config.params()["synthetic"]}, sort_keys=True)
    return hashlib.md5(blob.encode()).hexdigest()


def _is_config(value: object) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def make_engine(config: BuildConfig) -> ComputeEngine:
    """The engine ``config.engine`` names (the Spark one imports pyspark only when chosen)."""
    if config.engine is Engine.SPARK:
        from dubbo_recsys.offline.spark.engine import SparkEngine

        return SparkEngine(config.spark)
    from dubbo_recsys.offline.embedded import EmbeddedEngine

    return EmbeddedEngine()


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
    recipe = tuple(steps) if steps is not None else default_steps()
    params = config.params()
    fingerprint = source_fingerprint(config)
    step_configs = {
        type(s).__name__: dataclasses.asdict(getattr(s, "config"))  # noqa: B009 - BuildStep declares no config
        for s in recipe
        if _is_config(getattr(s, "config", None)) and s.enabled(config)
    }
    enabled = [type(s).__name__ for s in recipe if s.enabled(config)]
    version = build_version(config.source.value, fingerprint, {**params, "recipe": enabled, "steps": step_configs})
    if skip_existing:
        newest = list_versions(out)[-1:] if into_root else []
        current = version_dir(out, newest[0]) if newest else out
        existing = _existing_manifest(current) if newest or not into_root else None
        if existing is not None and existing.get("version") == version:
            return BuildResult(current, existing, skipped=True)

    if into_root:
        staging = staging_dir(out)
        work = config.work_dir or out / f".work-{os.getpid()}"
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
        work = config.work_dir or out.parent / f".{out.name}.work-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started_at, build_began = time.time(), time.perf_counter()
    engine = make_engine(config)
    log.info("build %s: source %s, engine %s, %d steps", config.name, config.source.value, engine.name, len(recipe))
    try:
        ctx = BuildContext(
            config=config,
            root=staging,
            work=work,
            show_progress=show_progress,
            engine=engine,
            steps=recipe,
            sub_build=lambda sub_config, sub_steps: run_build(sub_config, steps=sub_steps),
        )
        ctx.params["engine"] = engine.name  # informative only: not part of the version
        timings: dict[str, float] = {}
        for step in recipe:
            if not step.enabled(config):
                continue
            started = time.perf_counter()
            step.run(ctx)
            timings[type(step).__name__] = seconds = round(time.perf_counter() - started, 3)
            log.info("build %s: step %s done in %.1f s", config.name, type(step).__name__, seconds)
        catalog, split = ctx.require("catalog"), ctx.require("split")
        manifest = write_manifest(
            staging,
            {
                "name": config.name,
                "version": version,
                "source": config.source.value,
                "source_fingerprint": fingerprint,
                "params": {**params, **ctx.params},
                "counts": {
                    "users": catalog.n_users,
                    "items": catalog.n_items,
                    "train": split.n_train,
                    "test": split.n_test,
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
    finally:
        engine.close()
        if config.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    log.info("build %s: published %s version %s", config.name, out, version)
    return BuildResult(out, manifest, skipped=False)
