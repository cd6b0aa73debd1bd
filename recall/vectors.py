"""Embedding channels: u2i two-tower and the look-alike cold start for new users.

Both end in one nearest-neighbour search of a user vector against the Faiss
index of item embeddings; they differ in where the vector comes from:

- ``UserVectors``: the stored two-tower user embedding (``embeddings/users.npy``)
  for a user the build knows; for a user it does not know, the exported user
  tower (``recall.tower``) when the build has one, else the normalised mean of
  the lastN item embeddings (the item tower's space is the user tower's space,
  so this is a fair stand-in).
- ``ProfileCentroids``: for a user with no history at all, the look-alike
  vector: per profile attribute (``gender=F``, ``occupation=writer``, ...) the
  mean embedding of the users sharing it, shrunk towards nothing when few do,
  summed and normalised.

``VectorSearch`` wraps the index. A single-query Faiss search is short, so it
runs on the event loop by default; ``offload=True`` moves it to a worker thread
(Faiss releases the GIL), which pays only when the index is slow to search
(``bench/recall`` measures both). ``add`` appends the vector of an item that
arrived after the build (``recall.live``), so the u2i and look-alike channels
retrieve it without a rebuild; a lock keeps an add and an offloaded search apart.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from dubbo_recsys.recall.base import Candidates, Channel, ChannelKind, RecallConfigError, RecallQuery
from dubbo_recsys.recall.tower import UserTower


def normalise(vector: np.ndarray) -> np.ndarray | None:
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        return None
    return (vector / norm).astype(np.float32)


class VectorSearch:
    """Inner-product top-k over item vectors (a Faiss index, or exact numpy when there is none)."""

    def __init__(self, index: Any | None, vectors: np.ndarray | None = None, *, offload: bool = False) -> None:
        if index is None and vectors is None:
            raise RecallConfigError("VectorSearch needs a Faiss index or an item vector matrix")
        self.index = index
        self.vectors = vectors
        self.offload = offload
        self.dim = int(index.d) if index is not None else int(vectors.shape[1])  # type: ignore[union-attr]  # one of index and vectors is set (checked above)
        self.count = int(index.ntotal) if index is not None else int(vectors.shape[0])  # type: ignore[union-attr]  # one of index and vectors is set (checked above)
        self._lock = threading.Lock()

    def search_now(self, vector: np.ndarray, k: int) -> Candidates:
        k = min(k, self.count)
        if k <= 0:
            return Candidates.empty()
        with self._lock:
            if self.index is None:
                return Candidates.top_k(np.asarray(self.vectors @ vector, dtype=np.float32), k)
            scores, labels = self.index.search(vector.reshape(1, -1), k)
        keep = labels[0] >= 0
        return Candidates(labels[0][keep].astype(np.int64), scores[0][keep].astype(np.float32))

    def add(self, row: int, vector: np.ndarray) -> bool:
        """Append ``vector`` as item row ``row``; only the next row fits (labels are rows), else False."""
        if row != self.count or vector.shape != (self.dim,):
            return False
        vector = np.ascontiguousarray(vector, dtype=np.float32)
        with self._lock:
            if self.index is not None:
                self.index.add(vector.reshape(1, -1))
            else:
                self.vectors = np.vstack([np.asarray(self.vectors), vector[None, :]])
            self.count += 1
        return True

    async def search(self, vector: np.ndarray, k: int) -> Candidates:
        if vector.shape != (self.dim,):
            raise RecallConfigError(f"user vector has shape {vector.shape}, the item index has dimension {self.dim}")
        if self.offload:
            return await asyncio.to_thread(self.search_now, vector, k)
        return self.search_now(vector, k)


class UserVectors:
    """The two-tower user vector of a query, or ``None`` when there is nothing to build it from.

    In order: the stored vector of a user the build knows (one row read), unless the
    user's history changed since the build (realtime events put new items in lastN:
    ``built_history`` keeps a key of each user's history as built); the exported user
    tower for anyone else with a profile or a history, and for a known user whose
    history changed (a worker thread, see ``recall.tower``; the last ``CACHE`` answers
    are remembered, so recall and pre-rank ask once per request); without a tower,
    the normalised mean of the lastN item vectors.
    """

    CACHE = 4096

    def __init__(
        self,
        user_embeddings: np.ndarray | None,
        item_embeddings: np.ndarray | None,
        *,
        history: int = 20,
        tower: UserTower | None = None,
        built_history: np.ndarray | None = None,
    ) -> None:
        self.user_embeddings = user_embeddings
        self.item_embeddings = item_embeddings
        self.history = history
        self.tower = tower
        self.built_history = built_history  # int64 per user row: history_key of the build's lastN
        self._cache: OrderedDict[tuple[Any, ...], np.ndarray] = OrderedDict()

    def history_key(self, last_n: Sequence[str]) -> int:
        """What identifies the part of a history the tower reads (its first ``history_len`` items)."""
        length = self.tower.history_len if self.tower is not None else self.history
        return hash(tuple(last_n[:length]))

    def changed_since_build(self, query: RecallQuery) -> bool:
        """A known user whose history is not the one the stored vector was computed from."""
        built, row, user = self.built_history, query.user_row, query.user
        if built is None or row is None or user is None or row >= len(built):
            return False
        return self.history_key(user.last_n) != int(built[row])

    async def _tower_vector(self, query: RecallQuery) -> np.ndarray:
        assert self.tower is not None and query.user is not None
        user = query.user
        key = (query.user_id, tuple(user.last_n[: self.tower.history_len]), tuple(sorted(user.profile.items())))
        found = self._cache.get(key)
        if found is None:
            found = await self.tower.vector(query.user_id, user.profile, user.last_n)
            self._cache[key] = found
            if len(self._cache) > self.CACHE:
                self._cache.popitem(last=False)
        return found

    def _stored(self, query: RecallQuery) -> np.ndarray | None:
        if (
            self.user_embeddings is not None
            and query.user_row is not None
            and query.user_row < len(self.user_embeddings)
        ):
            return np.asarray(self.user_embeddings[query.user_row], dtype=np.float32)
        return None

    def can_serve(self, query: RecallQuery) -> bool:
        if self._stored(query) is not None or len(query.history):
            return True
        return self.tower is not None and query.user is not None and bool(self.tower.tokens(query.user.profile))

    def of(self, query: RecallQuery) -> np.ndarray | None:
        """Without the tower: stored vector, else the lastN mean."""
        stored = self._stored(query)
        if stored is not None:
            return stored
        if self.item_embeddings is not None and len(query.history):
            seeds = query.history[: self.history]
            seeds = seeds[seeds < len(self.item_embeddings)]
            if len(seeds):
                return normalise(np.asarray(self.item_embeddings[np.sort(seeds)]).mean(axis=0))
        return None

    async def vector(self, query: RecallQuery) -> np.ndarray | None:
        stored = self._stored(query)
        if self.tower is not None and query.user is not None and (stored is None or self.changed_since_build(query)):
            return await self._tower_vector(query)
        return stored if stored is not None else self.of(query)


class U2IChannel(Channel, kind=ChannelKind.U2I):
    """Two-tower u2i: the user's vector, then one ANN search of the item index."""

    def __init__(self, vectors: UserVectors, search: VectorSearch) -> None:
        self.vectors = vectors
        self.search = search

    def enable(self, query: RecallQuery) -> bool:
        return self.vectors.can_serve(query)

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        vector = await self.vectors.vector(query)
        if vector is None:
            return Candidates.empty()
        return await self.search.search(vector, k)


class ProfileCentroids:
    """Per ``(attribute, value)`` mean user embedding, for look-alike vectors of new users.

    The look-alike vector is the global mean user vector plus, per attribute of
    the profile, how that attribute's users differ from the mean, shrunk by a
    pseudo-count: a value shared by ``n`` users counts ``n / (n + shrink)``.
    Values shared by fewer than ``min_count`` users (a zip code, an exact age)
    are ignored: a look-alike of one or two people is a guess, not a segment.
    ``minus`` removes one member's own vector first (leave-one-out), which is
    what an honest evaluation of a known user posing as new needs.
    """

    def __init__(self, dim: int, *, shrink: float = 20.0, min_count: int = 5) -> None:
        self.dim = dim
        self.shrink = shrink
        self.min_count = min_count
        self._sums: dict[tuple[str, str], np.ndarray] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._total = np.zeros(dim, dtype=np.float64)
        self._users = 0

    def add(self, profile: Mapping[str, str], vector: np.ndarray) -> None:
        self._total += vector
        self._users += 1
        for pair in profile.items():
            key = (str(pair[0]), str(pair[1]))
            if key in self._sums:
                self._sums[key] += vector
                self._counts[key] += 1
            else:
                self._sums[key] = np.array(vector, dtype=np.float64)
                self._counts[key] = 1

    @classmethod
    def build(cls, profiles: Iterable[Mapping[str, str]], embeddings: np.ndarray, **kw: Any) -> ProfileCentroids:
        centroids = cls(int(embeddings.shape[1]), **kw)
        for row, profile in enumerate(profiles):
            if row < len(embeddings) and profile:
                centroids.add(profile, np.asarray(embeddings[row], dtype=np.float64))
        return centroids

    def vector(self, profile: Mapping[str, str], minus: np.ndarray | None = None) -> np.ndarray | None:
        own = np.zeros(self.dim) if minus is None else np.asarray(minus, dtype=np.float64)
        less = 0 if minus is None else 1
        if self._users - less <= 0:
            return None
        mean = (self._total - own) / (self._users - less)
        total = mean.copy()
        matched = False
        for pair in profile.items():
            key = (str(pair[0]), str(pair[1]))
            count = self._counts.get(key, 0) - less
            if count >= self.min_count:
                deviation = (self._sums[key] - own) / count - mean
                total += deviation * (count / (count + self.shrink))
                matched = True
        return normalise(total) if matched else None


class LookalikeChannel(Channel, kind=ChannelKind.LOOKALIKE):
    """New user, no history: search with the look-alike vector of the profile (and request context)."""

    def __init__(self, centroids: ProfileCentroids, search: VectorSearch) -> None:
        self.centroids = centroids
        self.search = search

    @staticmethod
    def _profile(query: RecallQuery) -> dict[str, str]:
        profile = dict(query.user.profile) if query.user is not None else {}
        for key, value in query.context.items():
            profile.setdefault(key, value)
        return profile

    def enable(self, query: RecallQuery) -> bool:
        return query.is_new_user and bool(self._profile(query))

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        vector = self.centroids.vector(self._profile(query))
        if vector is None:
            return Candidates.empty()
        return await self.search.search(vector, k)
