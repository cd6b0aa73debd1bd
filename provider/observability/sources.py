"""Where the console's breakers and versions come from, read off a recommender's public attributes.

The provider's recommender (``provider.app.PipelineApp``) exposes ``resources``
(a ``pipeline.assemble.Resources`` whose ``downstreams`` maps names to
``pipeline.Downstream`` guards, created as stages first use them) and ``options``
(whose ``artifacts`` is the artifact directory it serves from). These functions
turn such an object into the two callables ``ProviderState`` reads at scrape
time. They only read, duck-typed: a recommender without those attributes (the
popularity list, a test double) simply has no breakers and no versions.

``try_choices`` offers the try-it page some users (the artifacts' first ids) and the
scenes in force.

The artifact rollout (``provider.rollout``) is read through ``rollout_of``: the
recommender's ``rollout.board``, which holds this worker's rollout state and its
siblings'.

Scene config versions come from ``recommender.scene_versions()`` when the recommender
offers it (``{dataId: version}`` of the scene configs it has loaded); nothing else
here knows where scene configs live.

Artifact versions come from the directory's ``manifest.json`` (``offline.manifest``):
the build version, one entry per model (``models/<name>/``, the md5 of its
``meta.json``) and per Faiss index (``faiss/<name>.index``, its md5). The manifest
is read once per directory and modification time, not per scrape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "admission_of",
    "artifact_versions",
    "breakers_of",
    "realtime_of",
    "rollout_of",
    "try_choices",
    "versions_of",
]

_SHORT = 12  # hex digits shown for md5s and build versions

_cache: dict[tuple[str, float], dict[str, dict[str, str]]] = {}


def breakers_of(recommender: Any) -> Callable[[], Iterable[Any]]:
    """The recommender's ``pipeline.Downstream`` guards, as they exist at call time."""

    def current() -> Iterable[Any]:
        resources = getattr(recommender, "resources", None)
        downstreams = getattr(resources, "downstreams", None)
        return list(downstreams.values()) if isinstance(downstreams, Mapping) else []

    return current


def admission_of(recommender: Any) -> Callable[[], Iterable[tuple[str, Any]]]:
    """The recommender's in-flight bounds (``Resources.full_inflight`` / ``light_inflight``), when it has them."""

    def current() -> Iterable[tuple[str, Any]]:
        resources = getattr(recommender, "resources", None)
        found = [(name, getattr(resources, f"{name}_inflight", None)) for name in ("full", "light")]
        return [(name, bound) for name, bound in found if bound is not None]

    return current


def realtime_of(recommender: Any) -> Callable[[], Mapping[str, Any]]:
    """The realtime snapshot (``recommender.realtime_state()``: consumers' stats, live items, trending),
    ``{}`` for a recommender without realtime."""

    def current() -> Mapping[str, Any]:
        state = getattr(recommender, "realtime_state", None)
        return state() if callable(state) else {}

    return current


def rollout_of(recommender: Any) -> Callable[[], Any]:
    """The recommender's rollout board (``provider.rollout.state.StateBoard``), once it has one (after ``open``)."""

    def current() -> Any:
        return getattr(getattr(recommender, "rollout", None), "board", None)

    return current


def versions_of(recommender: Any) -> Callable[[], Mapping[str, Mapping[str, str]]]:
    """Artifact, model and index versions of the directory the recommender serves from (the serving
    version's, ``artifacts_dir``, when it rolls between versions)."""

    def current() -> Mapping[str, Mapping[str, str]]:
        root = getattr(recommender, "artifacts_dir", None) or getattr(
            getattr(recommender, "options", None), "artifacts", None
        )
        found: dict[str, Mapping[str, str]] = dict(artifact_versions(Path(root))) if root else {}
        scenes = getattr(recommender, "scene_versions", None)
        if callable(scenes):
            found["scenes"] = {str(k): str(v) for k, v in scenes().items()}
        return found

    return current


def try_choices(recommender: Any, limit: int = 50) -> dict[str, list[str]]:
    """Users and scenes the console's try-it page offers: the first users of the artifact directory's
    ``ids/users.txt`` (the serving version's, with an artifact root) and the scene configs in force
    (empty lists for a recommender without them)."""
    root = getattr(recommender, "artifacts_dir", None) or getattr(
        getattr(recommender, "options", None), "artifacts", None
    )
    users: list[str] = []
    if root:
        try:
            with (Path(root) / "ids" / "users.txt").open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        users.append(line.strip())
                    if len(users) >= limit:
                        break
        except OSError:
            users = []
    scenes = getattr(recommender, "scene_versions", None)
    return {"users": users, "scenes": sorted(str(s) for s in scenes()) if callable(scenes) else []}


def artifact_versions(root: Path) -> dict[str, dict[str, str]]:
    """``{"artifacts": {dir: version}, "models": {...}, "indexes": {...}}`` from ``root/manifest.json``."""
    path = Path(root) / "manifest.json"
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return {"artifacts": {Path(root).name: "no manifest.json"}}
    key = (str(path), stamp)
    if key not in _cache:
        _cache.clear()  # one directory is served at a time; keep only its latest reading
        _cache[key] = _read(path, Path(root).name)
    return _cache[key]


def _read(path: Path, name: str) -> dict[str, dict[str, str]]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"artifacts": {name: f"unreadable manifest: {type(exc).__name__}"}}
    if not isinstance(manifest, dict):
        return {"artifacts": {name: "unreadable manifest"}}
    found: dict[str, dict[str, str]] = {
        "artifacts": {name: str(manifest.get("version", "?"))[:_SHORT]},
        "models": {},
        "indexes": {},
    }
    files = manifest.get("files")
    for rel, info in files.items() if isinstance(files, dict) else ():
        md5 = str(info.get("md5", "?"))[:_SHORT] if isinstance(info, dict) else "?"
        parts = rel.split("/")
        if len(parts) == 3 and parts[0] == "models" and parts[2] == "meta.json":
            found["models"][parts[1]] = md5
        elif len(parts) == 2 and parts[0] == "faiss" and parts[1].endswith(".index"):
            found["indexes"][parts[1].removesuffix(".index")] = md5
    return found
