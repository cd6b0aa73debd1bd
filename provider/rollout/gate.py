"""The gate's checks on a version's files: everything that can be judged before it is loaded.

In order, each raising ``VersionRefused(check, reason)`` at the first problem:

- ``manifest``: the manifest is complete (format, ids, content hash, counts, metrics, the files every
  version must have) and its id is the directory's name; a part the serving version has (a Faiss
  index, a model, the fusion weights) is not missing from the new one;
- ``checksum``: every listed file exists with its size and md5, nothing unlisted was added, and the
  md5s give the manifest's content hash (a truncated or swapped file fails here);
- ``index``: the Faiss index loads and holds one vector per item, of the width its meta says;
- ``finite``: no NaN or inf in any float array (``.npy``, ``.npz``), in the fusion weights, in the
  vectors held by the Faiss index, or in any float variable of a TensorFlow SavedModel;
- ``signature``: each SavedModel the serving code calls has the signatures it calls, with the input
  names, dtypes and ranks it sends and the outputs it reads (``SIGNATURES``), read from
  ``saved_model.pb`` without loading the graph;
- ``metric``: the build's own offline metrics (manifest ``metrics``) are finite, and each of the
  configured ones is not worse than the serving version's by more than the margin.

What the gate cannot judge from files (the version loads, and a smoke set of users is answered by
the full pipeline) is checked by the controller after loading. Blocking I/O and CPU: run it in a thread.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dubbo_recsys.interfaces.artifacts import MANIFEST, ArtifactFormatError, read_manifest, verify_artifacts
from dubbo_recsys.provider.rollout.config import GateConfig
from dubbo_recsys.provider.rollout.errors import VersionRefused

__all__ = [
    "PARTS",
    "SIGNATURES",
    "check_files",
    "check_metrics",
    "same_stages",
    "smoke",
]

REQUIRED_FILES = ("ids/items.txt", "ids/users.txt", "hot.json", "features/items.jsonl", "features/users.jsonl")
# optional parts: the file that says a version has it
PARTS = {
    "faiss index": "faiss/items.index",
    "two-tower user tower": "models/two_tower/user_tower/saved_model.pb",
    "DIN ranker": "models/rank/din/saved_model.pb",
    "rank fusion weights": "models/rank/fusion.json",
    "light rankers": "models/rank/light/fm.npz",
}
_STRING, _FLOAT, _INT32 = 7, 1, 3  # tensorflow DataType enum values
# model directory -> signature -> ({input: (dtype, rank)}, {output: (dtype, rank)}), as the serving code calls them
SIGNATURES: dict[str, dict[str, tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]]] = {
    "models/two_tower/user_tower": {
        "serving_default": (
            {"user_id": (_STRING, 1), "profile": (_STRING, 2), "history": (_STRING, 2)},
            {"user_embedding": (_FLOAT, 2)},
        )
    },
    "models/two_tower/item_tower": {
        "serving_default": ({"item_id": (_STRING, 1), "categories": (_STRING, 2)}, {"item_embedding": (_FLOAT, 2)})
    },
    "models/rank/din": {
        "rank": ({"history": (_INT32, 1), "profile": (_INT32, 1), "items": (_INT32, 1)}, {"scores": (_FLOAT, 1)}),
        "serving_default": (
            {"userExamples": (_STRING, 1), "userContextExamples": (_STRING, 1), "itemExamples": (_STRING, 1)},
            {"scores": (_FLOAT, 1)},
        ),
    },
}


def check_files(root: Path, version: str, serving_root: Path | None = None) -> dict[str, Any]:
    """Run the file checks on ``root`` (``manifest``, ``checksum``, ``finite``, ``signature``); returns its manifest."""
    root = Path(root)
    try:
        manifest = read_manifest(root)
    except ArtifactFormatError as exc:
        raise VersionRefused("manifest", str(exc)) from None
    _check_manifest(root, version, manifest, serving_root)
    try:
        verify_artifacts(root, check_md5=True)
    except ArtifactFormatError as exc:
        raise VersionRefused("checksum", str(exc)) from None
    unlisted = sorted(set(_files_under(root)) - set(manifest["files"]) - {MANIFEST})
    if unlisted:
        raise VersionRefused("checksum", f"{root}: files not in the manifest: {', '.join(unlisted[:5])}")
    for rel in manifest["files"]:
        _check_finite(root, rel)
    _check_faiss(root, manifest)
    for model, signatures in SIGNATURES.items():
        if (root / model / "saved_model.pb").is_file():
            _check_model(root / model, model, signatures)
    return manifest


def check_metrics(new: Mapping[str, Any], serving: Mapping[str, Any] | None, config: GateConfig) -> None:
    """``metric``: finite metrics, none of ``config.metrics`` worse than ``serving``'s by more than the margin."""
    for name, value in new.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise VersionRefused("metric", f"offline metric {name} is {value!r}, not a finite number")
    if not serving:
        return
    for name in config.metrics:
        before = serving.get(name)
        if not isinstance(before, (int, float)) or isinstance(before, bool) or not math.isfinite(before):
            continue  # the serving version has no such metric: nothing to compare with
        after = new.get(name)
        if after is None:
            raise VersionRefused("metric", f"offline metric {name} is missing (serving version: {before:.4f})")
        floor = before - abs(before) * config.margin
        if after < floor:
            raise VersionRefused(
                "metric",
                f"offline metric {name} fell to {after:.4f} from the serving version's {before:.4f} "
                f"(more than the {config.margin:.0%} margin allows: floor {floor:.4f})",
            )


def _check_manifest(root: Path, version: str, manifest: Mapping[str, Any], serving_root: Path | None) -> None:
    from dubbo_recsys.interfaces.artifacts import version_id

    missing = [k for k in ("version", "built_at", "content_hash", "counts", "files", "metrics") if k not in manifest]
    if missing:
        raise VersionRefused("manifest", f"{root}/{MANIFEST} lacks {', '.join(missing)}")
    files, counts = manifest["files"], manifest["counts"]
    if not isinstance(files, dict) or not isinstance(counts, dict) or not isinstance(manifest["metrics"], dict):
        raise VersionRefused("manifest", f"{root}/{MANIFEST}: files, counts and metrics must be objects")
    try:
        named = version_id(dict(manifest))
    except ArtifactFormatError as exc:
        raise VersionRefused("manifest", str(exc)) from None
    if named != version:
        raise VersionRefused("manifest", f"directory {version} holds the manifest of version {named}")
    absent = [rel for rel in REQUIRED_FILES if rel not in files]
    if absent:
        raise VersionRefused("manifest", f"{root}: the manifest lists no {', '.join(absent)}")
    if serving_root is not None:
        for part, rel in PARTS.items():
            if (Path(serving_root) / rel).is_file() and rel not in files:
                raise VersionRefused("manifest", f"{root} has no {part} ({rel}), which the serving version has")


def _files_under(root: Path) -> list[str]:
    found = []
    for directory, _, names in os.walk(root):
        found += [(Path(directory) / name).relative_to(root).as_posix() for name in names]
    return found


def _refuse_nonfinite(rel: str, name: str, array: np.ndarray) -> None:
    if array.dtype.kind in "fc" and array.size and not bool(np.isfinite(array).all()):
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        raise VersionRefused("finite", f"{rel}{name}: {bad} of {array.size} values are NaN or inf")


def _check_finite(root: Path, rel: str) -> None:
    path = root / rel
    try:
        if rel.endswith(".npy"):
            _refuse_nonfinite(rel, "", np.load(path, mmap_mode="r"))
        elif rel.endswith(".npz"):
            with np.load(path) as arrays:
                for name in arrays.files:
                    _refuse_nonfinite(rel, f"[{name}]", arrays[name])
        elif rel == "models/rank/fusion.json":
            weights = json.loads(path.read_text(encoding="utf-8")).get("weights", [])
            _refuse_nonfinite(rel, "[weights]", np.asarray(weights, dtype=np.float64))
    except VersionRefused:
        raise
    except (OSError, ValueError, TypeError) as exc:
        raise VersionRefused("finite", f"{rel}: unreadable ({type(exc).__name__}: {exc})") from None


def _check_faiss(root: Path, manifest: Mapping[str, Any]) -> None:
    path = root / "faiss/items.index"
    if not path.is_file():
        return
    import faiss

    try:
        index = faiss.read_index(str(path))
        meta = json.loads((root / "faiss/meta.json").read_text(encoding="utf-8"))
    except (RuntimeError, OSError, ValueError) as exc:  # faiss raises RuntimeError for a short file
        raise VersionRefused("index", f"faiss/items.index does not load: {str(exc).splitlines()[0][:300]}") from None
    items = int(manifest["counts"].get("items", -1))
    if index.ntotal != items or index.d != int(meta.get("dim", -1)):
        raise VersionRefused(
            "index",
            f"faiss/items.index holds {index.ntotal} vectors of width {index.d}; "
            f"expected {items} items of width {meta.get('dim')}",
        )
    if index.ntotal:
        _refuse_nonfinite("faiss/items.index", "[vectors]", index.reconstruct_n(0, index.ntotal))


def _check_model(path: Path, model: str, expected: Mapping[str, Any]) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
        from tensorflow.core.protobuf import saved_model_pb2
    except ImportError:
        raise VersionRefused("signature", f"{model}: TensorFlow is not installed to check it") from None
    proto = saved_model_pb2.SavedModel()
    try:
        proto.ParseFromString((path / "saved_model.pb").read_bytes())
        found = proto.meta_graphs[0].signature_def
    except Exception as exc:  # a DecodeError, or no meta graph
        raise VersionRefused("signature", f"{model}/saved_model.pb does not parse: {exc}") from None
    for name, (inputs, outputs) in expected.items():
        if name not in found:
            raise VersionRefused("signature", f"{model} has no signature {name!r} (has {', '.join(sorted(found))})")
        _same_tensors(model, name, "inputs", found[name].inputs, inputs)
        _same_tensors(model, name, "outputs", found[name].outputs, outputs)
    try:
        reader = tf.train.load_checkpoint(str(path / "variables" / "variables"))
        for variable, dtype in sorted(reader.get_variable_to_dtype_map().items()):
            if dtype.is_floating and not variable.startswith("_CHECKPOINTABLE_OBJECT_GRAPH"):
                _refuse_nonfinite(f"{model} variable ", variable, np.asarray(reader.get_tensor(variable)))
    except VersionRefused:
        raise
    except Exception as exc:  # tf.errors.* for a corrupt or truncated checkpoint
        raise VersionRefused("finite", f"{model} variables do not read: {type(exc).__name__}: {exc}") from None


def _same_tensors(model: str, signature: str, side: str, found: Any, expected: Mapping[str, tuple[int, int]]) -> None:
    got = {key: (int(info.dtype), len(info.tensor_shape.dim)) for key, info in found.items()}
    if got != dict(expected):
        raise VersionRefused(
            "signature",
            f"{model} signature {signature!r} {side} are {_spell(got)}; the serving code needs {_spell(expected)}",
        )


def _spell(tensors: Mapping[str, tuple[int, int]]) -> str:
    names = {_STRING: "string", _FLOAT: "float32", _INT32: "int32"}
    return ", ".join(f"{k}:{names.get(d, d)}[rank {r}]" for k, (d, r) in sorted(tensors.items())) or "none"


async def smoke(version: Any, users: Sequence[str], count: int = 10, budget_seconds: float = 30.0) -> None:
    """``smoke``: each user answered by the version's full default pipeline with ``count`` items (or every
    item of a smaller catalog), finite scores, and every stage stamped with the version's id.

    The budget is generous on purpose: this checks what the version answers, not how fast (the calls share
    the event loop with the serving version's, and a busy provider must not refuse a good version)."""
    from dubbo_recsys.interfaces.recommend import RecommendRequest
    from dubbo_recsys.pipeline.model import Query

    pipeline = version.scenes.default.full
    items = int(version.manifest.get("counts", {}).get("items", count))
    for user in users:
        query = Query.start(RecommendRequest(userId=user, count=count, debug=True), budget_seconds)
        try:
            answer = await pipeline.run(query)
        except Exception as exc:
            raise VersionRefused(
                "smoke", f"user {user!r}: the full pipeline failed: {type(exc).__name__}: {exc}"
            ) from None
        if len(answer) < min(count, items):
            raise VersionRefused("smoke", f"user {user!r}: the full pipeline answered {len(answer)} items")
        if not all(math.isfinite(float(c.score)) for c in answer):
            raise VersionRefused("smoke", f"user {user!r}: the full pipeline answered NaN or inf scores")
        stamped = {t.version for t in query.traces or []}
        if stamped != {version.id}:
            raise VersionRefused("smoke", f"user {user!r}: stages ran on versions {sorted(stamped)}, not {version.id}")


def same_stages(new: Any, serving: Any) -> None:
    """``smoke``: the new version's default pipelines have the serving version's stages (none left out
    because a model or index would not build)."""
    for name in ("full", "light"):
        before = getattr(serving.scenes.default, name, None)
        after = getattr(new.scenes.default, name, None)
        had = before.labels if before is not None else ()
        has = after.labels if after is not None else ()
        if had != has:
            raise VersionRefused(
                "smoke", f"the {name} pipeline would run {list(has) or 'nothing'} instead of {list(had)}"
            )
