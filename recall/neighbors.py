"""Channels that walk precomputed neighbour tables: item-CF, swing, i2i, user-CF.

All four share one move: take some seed rows with weights, look up their top-K
neighbours, and sum ``weight x similarity`` per neighbour (``aggregate``). They
differ only in the table and the seeds:

- item-CF, swing, i2i: seeds are the user's lastN items, most recent first,
  weighted ``decay ** position`` so the latest interests count most;
- user-CF: seeds are the user's similar users (``neighbors/usercf``), and what
  gets summed is each neighbour's own recent training items.

The aggregation touches only the ``seeds x K`` entries, so it costs the same for
1,682 items or 10 million: when the largest row is small next to the entry
count it sums into a dense ``bincount`` (no sort), otherwise it sorts the
entries (``np.unique`` + ``bincount``); both sum each row's weights in entry
order, so they give the same floats. User-CF gathers every neighbour's recent
items with array arithmetic, no Python loop per neighbour (``tests/recall``
checks it against the per-neighbour loop). Seeds themselves are not removed
here: the merger filters what the user has seen.
"""

from __future__ import annotations

import numpy as np

from dubbo_recsys.recall.artifacts import NeighborTable, UserItems
from dubbo_recsys.recall.base import Candidates, Channel, ChannelKind, RecallConfigError, RecallQuery

DENSE_FACTOR = 4  # sum into a dense array when the largest row is under this many times the entry count


def aggregate(rows: np.ndarray, weights: np.ndarray, k: int) -> Candidates:
    """Sum ``weights`` per distinct row (``rows`` may repeat, -1 = padding); top ``k``."""
    keep = rows >= 0
    if not keep.all():
        rows, weights = rows[keep], weights[keep]
    if rows.size == 0:
        return Candidates.empty()
    size = int(rows.max()) + 1
    if size <= DENSE_FACTOR * rows.size:  # no sort: bincount over rows 0..max
        present = np.zeros(size, dtype=bool)
        present[rows] = True
        unique = np.flatnonzero(present)
        summed = np.bincount(rows, weights=weights, minlength=size)[unique].astype(np.float32)
    else:
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
            raise RecallConfigError(
                f"{type(self).__name__}: history must be > 0 and decay in (0, 1], got {history}, {decay}"
            )
        self.table = table
        self.history = history
        self.decay = decay
        self._weights = recency_weights(history, decay)  # a prefix of it is recency_weights(n, decay)

    def enable(self, query: RecallQuery) -> bool:
        return len(query.history) > 0

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        seeds = query.history[: self.history]
        seeds = seeds[seeds < self.table.rows]  # new items have no row in a build-time table
        weights = self._weights[: len(seeds)]
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

    def __init__(
        self, table: NeighborTable, interactions: UserItems, *, per_user: int = 50, decay: float = 0.98
    ) -> None:
        if table.rows != interactions.users:
            raise RecallConfigError(f"usercf table has {table.rows} rows but training has {interactions.users} users")
        if per_user <= 0 or not 0.0 < decay <= 1.0:
            raise RecallConfigError(f"UserCFChannel: per_user must be > 0 and decay in (0, 1], got {per_user}, {decay}")
        self.table = table
        self.interactions = interactions
        self.per_user = per_user
        self.decay = decay
        self._weights = recency_weights(per_user, decay)  # weight by age, newest first

    def enable(self, query: RecallQuery) -> bool:
        return query.user_row is not None and query.user_row < self.table.rows

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        assert query.user_row is not None
        neighbours = self.table.index[query.user_row]
        valid = neighbours >= 0
        users = neighbours[valid].astype(np.int64, copy=False)
        if users.size == 0:
            return Candidates.empty()
        similarity = self.table.score[query.user_row][valid].astype(np.float64)
        indptr = self.interactions.indptr
        end = indptr[users + 1]
        lengths = end - np.maximum(indptr[users], end - self.per_user)  # each neighbour's last per_user items
        total = int(lengths.sum())
        # entry j of neighbour u is its age-th most recent item: neighbours in table order, each newest first
        owner = np.repeat(np.arange(users.size), lengths)
        age = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        rows = self.interactions.items[np.repeat(end - 1, lengths) - age].astype(np.int64)
        weights = similarity[owner] * self._weights[age]
        return aggregate(rows, weights, k)
