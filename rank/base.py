"""What every rank stage shares: the error tree, the artifacts it reads, user hydration, rescoring.

Error tree::

    RankError
     +-- RankConfigError      a stage cannot be built: a parameter is out of range, or
     |    |                   (also a ``pipeline.ConfigError``, so scene assembly leaves it out)
     |    +-- RankArtifactError   models/rank/ or another file the stage needs is missing or malformed
     +-- RankerUnavailable    the remote ranker failed, timed out or its breaker is open

``RankArtifacts`` is loaded once per artifact directory and shared by the
stages built from it (``RankArtifacts.of(resources)``): ids, the rank model's
meta, the two-tower vectors, the per-item category/author the rules need and the
per-item training popularity the rank fusion reads.
It never loads TensorFlow; the TF stages load their SavedModel themselves.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dubbo_recsys.features.base import UserFeatures
from dubbo_recsys.pipeline.model import Candidate, Query
from dubbo_recsys.pipeline.stages import ConfigError

__all__ = [
    "RankArtifactError",
    "RankArtifacts",
    "RankConfigError",
    "RankError",
    "RankerUnavailable",
    "hydrate_user",
    "param",
    "rescored",
    "with_prior",
]


class RankError(Exception):
    """Base error of the ``rank`` package."""


class RankConfigError(RankError, ConfigError):
    """A stage cannot be built: a parameter is missing, of the wrong type or out of range."""


class RankArtifactError(RankConfigError):
    """A file a rank stage needs is missing or malformed."""


class RankerUnavailable(RankError):
    """The remote ranker failed, timed out, or its circuit breaker is open."""


def param(
    params: Mapping[str, Any],
    name: str,
    default: Any,
    kind: type[Any],
    low: float | None = None,
    high: float | None = None,
) -> Any:
    """One validated stage parameter: ``RankConfigError`` names it when it is wrong."""
    value = params.get(name, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise RankConfigError(f"parameter {name!r} must be {kind.__name__}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise RankConfigError(f"parameter {name!r} must be in [{low}, {high}], got {value!r}")
    return value


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RankArtifactError(f"cannot read {path}: {exc}") from exc


@dataclass(frozen=True)
class RankArtifacts:
    root: Path
    item_ids: list[str]
    item_rows: Mapping[str, int]
    user_rows: Mapping[str, int]
    meta: Mapping[str, Any]  # models/rank/meta.json ({} when the build trained no ranker)
    profile_rows: Mapping[str, int]  # "field=value" -> position in meta profile_vocab
    item_vectors: np.ndarray | None  # two-tower, L2-normalised, item rows
    user_vectors: np.ndarray | None
    item_category: np.ndarray  # str per item row (primary category)
    item_author: np.ndarray  # str per item row ("" when unknown)
    item_popularity: np.ndarray | None = None  # float64 training interactions per item row (items.jsonl)

    @classmethod
    def load(cls, root: str | Path) -> RankArtifacts:
        root = Path(root)
        if not (root / "ids/items.txt").is_file():
            raise RankArtifactError(f"{root} is not an artifact directory (no ids/items.txt)")
        items = _lines(root / "ids/items.txt")
        users = _lines(root / "ids/users.txt")
        meta: dict[str, Any] = {}
        if (root / "models/rank/meta.json").is_file():
            try:
                meta = json.loads((root / "models/rank/meta.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise RankArtifactError(f"{root}/models/rank/meta.json: {exc}") from exc
        vectors = {}
        for name, rows in (("items", len(items)), ("users", len(users))):
            path = root / f"embeddings/{name}.npy"
            if path.is_file():
                array = np.load(path, mmap_mode="r")
                if array.ndim != 2 or array.shape[0] != rows:
                    raise RankArtifactError(f"{path}: shape {array.shape} does not match {rows} {name}")
                vectors[name] = np.asarray(array, dtype=np.float32)
        category, author, popularity = [], [], []
        try:
            with (root / "features/items.jsonl").open(encoding="utf-8") as lines:
                for line in lines:
                    record = json.loads(line)
                    category.append(str(record.get("category", "")))
                    author.append(str(record.get("author", "")))
                    popularity.append(float(record.get("popularity") or 0.0))
        except (OSError, ValueError) as exc:
            raise RankArtifactError(f"{root}/features/items.jsonl: {exc}") from exc
        if len(category) != len(items):
            raise RankArtifactError(f"features/items.jsonl has {len(category)} lines, ids/items.txt {len(items)}")
        return cls(
            root=root,
            item_ids=items,
            item_rows={i: r for r, i in enumerate(items)},
            user_rows={u: r for r, u in enumerate(users)},
            meta=meta,
            profile_rows={t: r for r, t in enumerate(meta.get("profile_vocab", []))},
            item_vectors=vectors.get("items"),
            user_vectors=vectors.get("users"),
            item_category=np.array(category, dtype=object),
            item_author=np.array(author, dtype=object),
            item_popularity=np.maximum(np.array(popularity, dtype=np.float64), 0.0),
        )

    @classmethod
    def forget(cls, root: str | Path) -> None:
        """Drop the cached artifacts of ``root`` (an artifact version a provider released)."""
        with _LOCK:
            _LOADED.pop(str(Path(root).resolve()), None)

    @classmethod
    def of(cls, resources: Any) -> RankArtifacts:
        """The artifacts of ``resources.artifacts``, loaded once per directory and process."""
        for attribute in ("rank", "rank_artifacts"):
            given = getattr(resources, attribute, None)
            if isinstance(given, RankArtifacts):
                return given
        root = getattr(resources, "artifacts", None)
        if root is None:
            raise RankConfigError("rank stages need resources.artifacts (the artifact directory)")
        key = str(Path(root).resolve())
        with _LOCK:
            found = _LOADED.get(key)
            if found is None:
                found = _LOADED[key] = cls.load(root)
        return found

    def rows(self, item_ids: Sequence[str]) -> np.ndarray:
        """Item rows, -1 for ids the build did not know."""
        get = self.item_rows.get
        return np.fromiter((get(i, -1) for i in item_ids), dtype=np.int32, count=len(item_ids))

    def encode_user(self, user: UserFeatures | None) -> tuple[np.ndarray, np.ndarray]:
        """(history rows, profile positions) for the ``rank`` signature; unknown entries are dropped."""
        if user is None:
            return np.empty(0, np.int32), np.empty(0, np.int32)
        history_len = int(self.meta.get("history_len", 20))
        history = self.rows(list(user.last_n[: history_len * 2]))
        history = history[history >= 0][:history_len]
        fields = self.meta.get("profile_fields", [])
        tokens = [self.profile_rows.get(f"{f}={user.profile[f]}", -1) for f in fields if f in user.profile]
        profile = np.array([t for t in tokens if t >= 0], dtype=np.int32)
        return history, profile

    def built_user_vector(self, user_id: str, last_n: Sequence[str]) -> np.ndarray | None:
        """The build's two-tower vector of a known user, else the normalised mean of the lastN items'
        vectors (what the user tower leans on for a user it never saw), else ``None``."""
        row = self.user_rows.get(user_id)
        if row is not None and self.user_vectors is not None:
            return self.user_vectors[row]
        if self.item_vectors is None:
            return None
        history = self.rows(list(last_n))
        history = history[history >= 0]
        if len(history) == 0:
            return None
        mean = self.item_vectors[history].mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else None


async def request_user_vector(query: Query, resources: Any, artifacts: RankArtifacts) -> np.ndarray | None:
    """The two-tower user vector of a request, the same for every stage that reads one (pre-rank's order,
    the rank fusion's ``two_tower`` feature): recall's user-tower vector when realtime events changed a
    known user's history since the build (``Recall.refreshed_user_vector``; recall asked first, so this
    is a cache hit), else the build's (``RankArtifacts.built_user_vector``)."""
    user = await hydrate_user(query, resources)
    refreshed = getattr(getattr(resources, "recall", None), "refreshed_user_vector", None)
    vector = await refreshed(query.request.userId, user) if refreshed is not None else None
    if vector is None:
        vector = artifacts.built_user_vector(query.request.userId, user.last_n if user is not None else ())
    return vector


_LOCK = threading.Lock()
_LOADED: dict[str, RankArtifacts] = {}


async def hydrate_user(query: Query, resources: Any, local: bool = False) -> UserFeatures | None:
    """The query's user features, fetched once from ``resources.features`` when no stage did yet.

    ``local`` (the light rankers) prefers ``resources.local_features``, the in-process store the
    degraded pipeline relies on when the primary one (Redis) is what failed.

    A feature store failure ranks without features (the models know unknown users), it does not
    fail the request: the store's outage is the store's, and the light pipeline would hit it too.
    """
    if query.user is None:
        store = getattr(resources, "features", None)
        if local:
            store = getattr(resources, "local_features", None) or store
        if store is not None:
            try:
                query.user = (await store.users([query.request.userId]))[0]
            except Exception:
                query.user = None
    return query.user


def rescored(
    candidates: list[Candidate], scores: np.ndarray | Sequence[float], stage: str, keep: int | None = None
) -> list[Candidate]:
    """Candidates with new scores, best first (stable for ties), each score recorded under ``stage``."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    if keep is not None:
        order = order[:keep]
    out = []
    for position in order.tolist():
        candidate = candidates[position]
        value = float(scores[position])
        candidate.scores[stage] = value
        candidate.score = value
        out.append(candidate)
    return out


def with_prior(candidates: list[Candidate], scores: np.ndarray, prior: str, weight: float) -> np.ndarray:
    """``scores + weight * log(prior score)``: blend in an earlier stage's evidence (recall's fused score).

    Recall's fused score is a sum of ``w / (offset + rank)`` over channels, so its log is a smooth
    rank prior; candidates without it get the smallest prior of the request. ``weight`` 0 = off.
    """
    if not weight or not candidates:
        return scores
    raw = np.array([c.scores.get(prior, np.nan) for c in candidates], dtype=np.float64)
    known = np.isfinite(raw) & (raw > 0)
    if not known.any():
        return scores
    logs = np.full(len(raw), np.log(raw[known]).min())
    logs[known] = np.log(raw[known])
    return np.asarray(scores, dtype=np.float64) + weight * logs
