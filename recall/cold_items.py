"""Cold start for new items: give an item added after the build a vector, so it can be recalled.

A new item has no interactions, so no CF table or two-tower training saw it.
``ContentEmbedder`` learns, from the built items, the mean embedding of each
content value (``category:Comedy``, ``author:x``, ``region:y``); a new item's
vector is the normalised, count-shrunk sum of the means of its own values. An
item whose values were never seen gets no vector (and is not indexed): there is
nothing honest to place it by.

``NewItemsChannel`` keeps those vectors in a small exact index (new items are
few between two builds) and answers the u2i question against it: the user's
two-tower vector, inner product, top k. The rows it returns are catalog rows
past the build's, added by ``ItemCatalog.add``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dubbo_recsys.features.base import ItemFeatures
from dubbo_recsys.recall.artifacts import ItemCatalog
from dubbo_recsys.recall.base import Candidates, Channel, ChannelKind, RecallQuery
from dubbo_recsys.recall.vectors import UserVectors, normalise


def content_keys(item: ItemFeatures) -> list[str]:
    """The content values an item is placed by; the primary category counts twice."""
    keys = [f"category:{c}" for c in (item.category, *item.categories) if c]
    if item.author:
        keys.append(f"author:{item.author}")
    if item.region:
        keys.append(f"region:{item.region}")
    return keys


class ContentEmbedder:
    """Mean item embedding per content value, learnt from the built catalog."""

    def __init__(self, dim: int, *, shrink: float = 5.0) -> None:
        self.dim = dim
        self.shrink = shrink
        self._sums: dict[str, np.ndarray] = {}
        self._counts: dict[str, int] = {}

    def add(self, item: ItemFeatures, vector: np.ndarray) -> None:
        """Learn from one built item and its trained vector."""
        vector = np.asarray(vector, dtype=np.float64)
        for key in content_keys(item):
            if key in self._sums:
                self._sums[key] += vector
                self._counts[key] += 1
            else:
                self._sums[key] = vector.copy()
                self._counts[key] = 1

    def embed(self, item: ItemFeatures) -> np.ndarray | None:
        total = np.zeros(self.dim, dtype=np.float64)
        for key in content_keys(item):
            count = self._counts.get(key)
            if count:
                total += (self._sums[key] / count) * (count / (count + self.shrink))
        return normalise(total)


class NewItemsChannel(Channel, kind=ChannelKind.NEW_ITEMS):
    """Recall among items added since the build, by their content-average vectors."""

    def __init__(self, embedder: ContentEmbedder, catalog: ItemCatalog, vectors: UserVectors) -> None:
        self.embedder = embedder
        self.catalog = catalog
        self.vectors = vectors
        self._rows = np.empty(0, dtype=np.int64)
        self._matrix = np.empty((0, embedder.dim), dtype=np.float32)

    def add(self, items: Iterable[ItemFeatures]) -> list[str]:
        """Index new items; returns the ids that got a vector (the others cannot be placed)."""
        rows: list[int] = []
        vectors: list[np.ndarray] = []
        placed: list[str] = []
        for item in items:
            known = self.catalog.row_of(item.item_id)
            if known is not None and known < self.catalog.built:
                continue  # a built item already has its trained vector
            vector = self.embedder.embed(item)
            if vector is None:
                continue
            row = self.catalog.add(item.item_id)
            placed.append(item.item_id)
            indexed = np.flatnonzero(self._rows == row)
            if len(indexed):  # re-added with new content: replace its vector
                self._matrix[indexed[0]] = vector
                continue
            rows.append(row)
            vectors.append(vector)
        if rows:
            self._rows = np.concatenate([self._rows, np.asarray(rows, dtype=np.int64)])
            self._matrix = np.vstack([self._matrix, np.stack(vectors)])
        return placed

    def vector_of(self, row: int) -> np.ndarray | None:
        found = np.flatnonzero(self._rows == row)
        return self._matrix[found[0]] if len(found) else None

    def enable(self, query: RecallQuery) -> bool:
        return len(self._rows) > 0

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        vector = await self.vectors.vector(query)
        if vector is None:
            return Candidates.empty()
        return Candidates.top_k(self._matrix @ vector, k, rows=self._rows)
