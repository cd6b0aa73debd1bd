"""Cold start for new items: give an item added after the build a vector, so it can be recalled.

A new item has no interactions, so no CF table or two-tower training saw it.
``ContentEmbedder`` learns, from the built items, the mean embedding of each
content value (``category:Comedy``, ``author:x``, ``region:y``); a new item's
vector is the normalised, count-shrunk sum of the means of its own values. An
item whose values were never seen gets no vector (and is not indexed): there is
nothing honest to place it by.

When the build exported the two-tower item tower (``recall.tower.ItemTower``), a
new item's vector is the tower's instead: the same space the Faiss index holds.

``NewItemsChannel`` keeps those vectors in a small exact index (new items are
few between two builds) and answers the u2i question against it: the user's
two-tower vector, inner product, top k (cold start: a new item has no
interaction to compete with the built items in Faiss). The rows it returns are
catalog rows past the build's, added by ``ItemCatalog.add``; it also appends
each new vector to the Faiss index, so u2i retrieves new items among the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np

from dubbo_recsys.features.base import ItemFeatures
from dubbo_recsys.recall.artifacts import ItemCatalog
from dubbo_recsys.recall.base import Candidates, Channel, ChannelKind, RecallQuery
from dubbo_recsys.recall.tower import ItemTower
from dubbo_recsys.recall.vectors import UserVectors, VectorSearch, normalise

log = logging.getLogger(__name__)


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
    """Recall among items added since the build, by their vectors: the item tower's when the build
    exported one (the two-tower space itself), else the content averages of ``ContentEmbedder``.

    ``add`` (or ``embed`` in a worker thread, then ``place`` on the event loop) gives each new item a
    catalog row past the build's, indexes its vector here and appends it to the shared Faiss index
    (``search``), so the u2i and look-alike channels retrieve it too.
    """

    def __init__(
        self,
        embedder: ContentEmbedder,
        catalog: ItemCatalog,
        vectors: UserVectors,
        *,
        tower: ItemTower | None = None,
        search: VectorSearch | None = None,
    ) -> None:
        self.embedder = embedder
        self.catalog = catalog
        self.vectors = vectors
        self.tower = tower
        self.search = search
        self._rows = np.empty(0, dtype=np.int64)
        self._matrix = np.empty((0, embedder.dim), dtype=np.float32)

    def embed(self, items: Sequence[ItemFeatures]) -> list[np.ndarray | None]:
        """Each item's vector, or None when nothing places it (blocking: TensorFlow with a tower)."""
        if self.tower is not None and items:
            matrix = self.tower.encode([(item.item_id, (item.category, *item.categories)) for item in items])
            return [normalise(row) for row in matrix]
        return [self.embedder.embed(item) for item in items]

    def place(self, items: Sequence[ItemFeatures], vectors: Sequence[np.ndarray | None]) -> list[str]:
        """Give the items with a vector a row and index them; returns their ids. Built items are skipped
        (they keep their trained vector); an item placed before gets its new vector here (the Faiss index
        keeps the first: an index entry cannot be replaced)."""
        rows: list[int] = []
        added: list[np.ndarray] = []
        placed: list[str] = []
        for item, vector in zip(items, vectors, strict=True):
            known = self.catalog.row_of(item.item_id)
            if (known is not None and known < self.catalog.built) or vector is None:
                continue
            row = self.catalog.add(item.item_id)
            placed.append(item.item_id)
            indexed = np.flatnonzero(self._rows == row)
            if len(indexed):  # re-added with new content: replace its vector
                self._matrix[indexed[0]] = vector
                continue
            if self.search is not None and not self.search.add(row, vector):
                log.warning(
                    "item %s (row %d) not added to the vector index of %d rows", item.item_id, row, self.search.count
                )
            rows.append(row)
            added.append(vector)
        if rows:
            self._rows = np.concatenate([self._rows, np.asarray(rows, dtype=np.int64)])
            self._matrix = np.vstack([self._matrix, np.stack(added)])
        return placed

    def add(self, items: Iterable[ItemFeatures]) -> list[str]:
        """Index new items; returns the ids that got a vector (the others cannot be placed)."""
        batch = list(items)
        return self.place(batch, self.embed(batch))

    def forget(self, item_id: str) -> bool:
        """Drop a removed item from this channel's index (its quota goes to live items again); the Faiss entry
        stays (an entry cannot be deleted in place), the removed-items filter hides it there."""
        row = self.catalog.row_of(item_id)
        keep = self._rows != row
        if row is None or keep.all():
            return False
        self._rows, self._matrix = self._rows[keep], self._matrix[keep]
        return True

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
