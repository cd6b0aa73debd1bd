"""Channels that walk precomputed neighbour tables: item-CF, swing, i2i, user-CF.

All four share one move: take some seed rows with weights, look up their top-K
neighbours, and sum ``weight x similarity`` per neighbour (``aggregate``). They
differ only in the table and the seeds:

- item-CF, swing, i2i: seeds are the user's lastN items, most recent first,
  weighted ``decay ** position`` so the latest interests count most;
- user-CF: seeds are the user's similar users (``neighbors/usercf``), and what
  gets summed is each neighbour's own recent training items.

The aggregation is sparse (``np.unique`` + ``bincount`` over ``seeds x K``
entries), so it costs the same for 1,682 items or 10 million. Seeds themselves
are not removed here: the merger filters what the user has seen.
"""
from __future__ import annotations

import numpy as np

from recall.artifacts import NeighborTable, UserItems
from recall.base import Candidates, Channel, ChannelKind, RecallConfigError, RecallQuery


def aggregate(rows: np.ndarray, weights: np.ndarray, k: int) -> Candidates:
    """Sum ``weights`` per distinct row (``rows`` may repeat, -1 = padding); top ``k``."""
    keep = rows >= 0
    rows, weights = rows[keep], weights[keep]
    if rows.size == 0:
        return Candidates.empty()
    unique, inverse = np.unique(rows, return_inverse=True)
    summed = np.bincount(inverse, weights=weights, minlength=unique.size).astype(np.float32)
    return Candidates.top_k(summed, k, rows=unique)


def recency_weights(count: int, decay: float) -> np.ndarray:
    """``decay ** position`` for positions ``0..count-1`` (position 0 = most recent)."""
    return np.power(np.float64(decay), np.arange(count, dtype=np.float64))


class ItemNeighborChannel(Channel):
    """Aggregate the neighbours of the lastN items; the table decides which channel it is."""

    def __init__(self, table: NeighborTable, *, history: int = 50, decay: float = 0.9) -> None:
        if history <= 0 or not 0.0 < decay <= 1.0:
            raise RecallConfigError(f"{type(self).__name__}: history must be > 0 and decay in (0, 1], got {history}, {decay}")
        self.table = table
        self.history = history
        self.decay = decay

    def enable(self, query: RecallQuery) -> bool:
        return len(query.history) > 0

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        seeds = query.history[: self.history]
        seeds = seeds[seeds < self.table.rows]  # new items have no row in a build-time table
        weights = recency_weights(len(seeds), self.decay)
        neighbour_rows = self.table.index[seeds]
        neighbour_weights = self.table.score[seeds] * weights[:, None]
        return aggregate(neighbour_rows.ravel(), neighbour_weights.ravel(), k)


class ItemCFChannel(ItemNeighborChannel, kind=ChannelKind.ITEM_CF):
    """Item-CF: co-occurrence neighbours (``neighbors/itemcf``)."""


class SwingChannel(ItemNeighborChannel, kind=ChannelKind.SWING):
    """Swing: neighbours weighted by how rarely their co-clickers overlap (``neighbors/swing``)."""


class I2IChannel(ItemNeighborChannel, kind=ChannelKind.I2I):
    """Two-tower item neighbours (``neighbors/i2i_emb``, cosine of item embeddings)."""


class UserCFChannel(Channel, kind=ChannelKind.USER_CF):
    """Items of similar users: sum ``similarity x decay ** age`` over each neighbour's recent items."""

    def __init__(self, table: NeighborTable, interactions: UserItems, *, per_user: int = 50, decay: float = 0.98) -> None:
        if table.rows != interactions.users:
            raise RecallConfigError(f"usercf table has {table.rows} rows but training has {interactions.users} users")
        if per_user <= 0 or not 0.0 < decay <= 1.0:
            raise RecallConfigError(f"UserCFChannel: per_user must be > 0 and decay in (0, 1], got {per_user}, {decay}")
        self.table = table
        self.interactions = interactions
        self.per_user = per_user
        self.decay = decay

    def enable(self, query: RecallQuery) -> bool:
        return query.user_row is not None and query.user_row < self.table.rows

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        assert query.user_row is not None
        neighbours = self.table.index[query.user_row]
        similarity = self.table.score[query.user_row]
        valid = neighbours >= 0
        indptr, items = self.interactions.indptr, self.interactions.items
        chunks_rows: list[np.ndarray] = []
        chunks_weights: list[np.ndarray] = []
        for user, sim in zip(neighbours[valid].tolist(), similarity[valid].tolist()):
            start, end = int(indptr[user]), int(indptr[user + 1])
            recent = items[max(start, end - self.per_user) : end][::-1]  # most recent first
            chunks_rows.append(recent)
            chunks_weights.append(sim * recency_weights(len(recent), self.decay))
        if not chunks_rows:
            return Candidates.empty()
        return aggregate(np.concatenate(chunks_rows).astype(np.int64), np.concatenate(chunks_weights), k)
