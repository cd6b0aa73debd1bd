"""Cheap artifact versions for the rollout tests and bench/rollout: one build, copied and changed.

A real build of ML-100K takes minutes; a version that differs only where a test needs it is a copy
of one build with a few files changed and a fresh manifest (new file md5s, content hash, built_at),
placed in an artifact root exactly as ``dubbo-recsys build --artifact-root`` places a build.
``Breakage`` are the deliberately broken builds the gate must refuse.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from dubbo_recsys.interfaces.artifacts import MANIFEST, content_hash, file_digests, read_manifest
from dubbo_recsys.offline.versions import publish_version, staging_dir

Change = Callable[[Path], None]
_BASE = datetime(2026, 1, 1, 3, 0, 0, tzinfo=UTC)
_counter = iter(range(1_000_000))


def next_built_at() -> str:
    """Distinct, increasing build times (one minute apart), so versions sort in the order made."""
    return (_BASE + timedelta(minutes=next(_counter))).isoformat().replace("+00:00", "Z")


def derive(
    source: Path,
    root: Path,
    change: Change | None = None,
    *,
    metrics: dict[str, float] | None = None,
    built_at: str | None = None,
    manifest_after: Change | None = None,
) -> str:
    """A new version under ``root`` from the build in ``source``: copy, ``change(dir)``, fresh manifest.

    ``metrics`` override the build's offline metrics; ``manifest_after`` changes files *after* the
    manifest was written (a version whose files no longer match it). Returns the version id."""
    staging = staging_dir(root)
    shutil.rmtree(staging)
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns(MANIFEST))
    if change is not None:
        change(staging)
    manifest: dict[str, Any] = dict(read_manifest(source))
    files = file_digests(staging)
    manifest.update(
        built_at=built_at or next_built_at(),
        files=files,
        content_hash=content_hash(files),
        metrics={**manifest.get("metrics", {}), **(metrics or {})},
    )
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if manifest_after is not None:
        manifest_after(staging)
    return publish_version(staging, root, manifest).name


def reorder_hot(directory: Path) -> None:
    """A harmless change: the global hot list rotated by one (answers of the popular list differ)."""
    path = directory / "hot.json"
    hot = json.loads(path.read_text(encoding="utf-8"))
    hot["global"] = hot["global"][1:] + hot["global"][:1]
    path.write_text(json.dumps(hot), encoding="utf-8")


# -- the broken builds the gate refuses ------------------------------------------------------------


def truncate_index(directory: Path) -> None:
    """The Faiss index cut to half its bytes."""
    path = directory / "faiss/items.index"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def break_neighbours(directory: Path) -> None:
    """NaN in the item-CF table's scores (a build without models can break this way too)."""
    path = directory / "neighbors/itemcf.npz"
    with np.load(path) as data:
        arrays = {name: data[name].copy() for name in data.files}
    arrays["score"][0, 0] = np.nan
    np.savez(path, **arrays)


def nan_in_embeddings(directory: Path) -> None:
    path = directory / "embeddings/items.npy"
    vectors = np.load(path)
    vectors[3, 5] = np.nan
    np.save(path, vectors)


def nan_in_light_weights(directory: Path) -> None:
    path = directory / "models/rank/light/fm.npz"
    with np.load(path) as data:
        arrays = {name: data[name].copy() for name in data.files}
    name = next(n for n, a in arrays.items() if a.dtype.kind == "f" and a.size)
    arrays[name].flat[0] = np.inf
    np.savez(path, **arrays)


def nan_in_din_variables(directory: Path) -> None:
    """One weight of the DIN SavedModel set to NaN, the model saved again with its signatures."""
    import tensorflow as tf

    path = directory / "models/rank/din"
    model = tf.saved_model.load(str(path))
    found = [v for v in model.signatures["rank"].variables if v.dtype.is_floating and v.shape.num_elements()]
    variable = found[0]
    values = variable.numpy()
    values.flat[0] = np.nan
    variable.assign(values)
    signatures = {name: model.signatures[name] for name in model.signatures}
    shutil.rmtree(path)
    tf.saved_model.save(model, str(path), signatures=signatures)


def wrong_din_signature(directory: Path) -> None:
    """A DIN model whose ``rank`` signature takes float items and no profile (what a wrong export writes)."""
    import tensorflow as tf

    class Wrong(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.int32, name="history"),
                tf.TensorSpec([None], tf.float32, name="items"),
            ]
        )
        def rank(self, history: Any, items: Any) -> Any:
            return {"scores": items * 0.0 + tf.cast(tf.size(history), tf.float32)}

    path = directory / "models/rank/din"
    assets = path / "assets"
    kept = {p.name: p.read_bytes() for p in assets.iterdir()} if assets.is_dir() else {}
    shutil.rmtree(path)
    module = Wrong()
    tf.saved_model.save(module, str(path), signatures={"rank": module.rank, "serving_default": module.rank})
    (path / "assets").mkdir(exist_ok=True)
    for name, data in kept.items():
        (path / "assets" / name).write_bytes(data)
