"""Recall's side of the realtime path: items that arrive or leave after the build, and trending.

The realtime consumer keeps a live item catalog in Redis (``features.realtime``); a
serving process applies it to its loaded ``Recall`` here:

- a **new item** gets its two-tower vector (the item tower, else content averages),
  a catalog row, a place in the new-items channel (cold start) and in the Faiss index
  (u2i, look-alike): retrievable without a rebuild;
- a **changed item** gets its new features in the ``LiveCatalog`` (what the feature
  store overlay answers); a built item keeps its trained vector;
- a **removed item** goes into ``RemovedItems``, a candidate filter every recall (full
  and light) applies first, and the provider drops it from every answer: never served
  again, until an upsert newer than the removal brings it back.

``reapply_live_items(recall, reader, built_at_ms, catalog)`` is the one entry point for
a freshly loaded recall: it applies every live item whose event is newer than the
build, so a provider that restarts, or loads a new artifact version, serves the items
realtime added since that build. The provider's follower then applies each new change
with ``apply_live_items`` as it appears in the change log.

``TrendingChannel`` serves the most interacted-with items of the trend window
(``RealtimeReader.trending``), refreshed by the provider about once a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dubbo_recsys.recall.artifacts import ItemCatalog
from dubbo_recsys.recall.base import Candidates, Channel, ChannelKind, RecallQuery

if TYPE_CHECKING:  # features.realtime needs the redis extra; recall imports it only to type these functions
    from dubbo_recsys.features.realtime import LiveCatalog, LiveItem, RealtimeReader
    from dubbo_recsys.recall.facade import Recall

__all__ = ["LiveApplyReport", "RemovedItems", "TrendingChannel", "apply_live_items", "reapply_live_items"]

log = logging.getLogger(__name__)


class RemovedItems:
    """A candidate filter of removed items: one boolean per catalog row, tested with numpy."""

    def __init__(self, catalog: ItemCatalog) -> None:
        self.catalog = catalog
        self.ids: set[str] = set()
        self._mask = np.zeros(0, dtype=bool)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.ids

    def _refresh(self) -> None:
        mask = np.zeros(len(self.catalog), dtype=bool)
        rows = self.catalog.rows_of(sorted(self.ids))
        mask[rows] = True
        self._mask = mask

    def remove(self, item_id: str) -> None:
        self.ids.add(item_id)
        self._refresh()

    def restore(self, item_id: str) -> None:
        if item_id in self.ids:
            self.ids.discard(item_id)
            self._refresh()

    async def apply(self, query: RecallQuery, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.ids or len(rows) == 0:
            return rows, rows[:0]
        mask = self._mask
        if len(mask) < len(self.catalog):  # rows added since the last change: refresh once
            self._refresh()
            mask = self._mask
        hit = mask[np.minimum(rows, len(mask) - 1)] & (rows < len(mask))
        return rows[~hit], rows[hit]


class TrendingChannel(Channel, kind=ChannelKind.TRENDING):
    """The trend window's most weighted items, best first (empty, hence disabled, without events)."""

    def __init__(self, catalog: ItemCatalog) -> None:
        self.catalog = catalog
        self._rows = np.empty(0, dtype=np.int64)
        self._scores = np.empty(0, dtype=np.float32)

    def update(self, ranked: Sequence[tuple[str, float]]) -> None:
        """Replace the list (``(item id, weight)`` best first); ids the catalog does not know are skipped."""
        pairs = [(row, score) for row, score in ((self.catalog.row_of(i), s) for i, s in ranked) if row is not None]
        self._rows = np.asarray([r for r, _ in pairs], dtype=np.int64)
        self._scores = np.asarray([s for _, s in pairs], dtype=np.float32)

    def __len__(self) -> int:
        return len(self._rows)

    def enable(self, query: RecallQuery) -> bool:
        return len(self._rows) > 0

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        return Candidates(self._rows[:k], self._scores[:k])


@dataclass
class LiveApplyReport:
    """What applying live items did to one recall."""

    placed: list[str] = field(default_factory=list)  # new items now retrievable
    changed: int = 0  # features replaced (built or already placed items)
    removed: int = 0
    unplaced: list[str] = field(default_factory=list)  # new items nothing could place (no vector)
    cursor: int = 0  # the highest change-log seq applied


async def apply_live_items(
    recall: Recall, items: Sequence[LiveItem], catalog: LiveCatalog | None = None
) -> LiveApplyReport:
    """Apply live items, in change order, to ``recall`` (and to the feature overlay's ``catalog``)."""
    report = LiveApplyReport()
    upserts: dict[str, Any] = {}
    for live in items:  # the last change of an item wins
        upserts.pop(live.item.item_id, None)
        if catalog is not None:
            catalog.apply(live)
        report.cursor = max(report.cursor, live.seq)
        if live.removed:
            recall.removed.remove(live.item.item_id)
            if recall.new_items is not None:
                recall.new_items.forget(live.item.item_id)
            report.removed += 1
        else:
            recall.removed.restore(live.item.item_id)
            upserts[live.item.item_id] = live.item
    fresh = [item for item in upserts.values() if _is_new(recall.catalog, item.item_id)]
    report.changed = len(upserts) - len(fresh)
    channel = recall.new_items
    if fresh and channel is not None:
        vectors = await asyncio.to_thread(channel.embed, fresh)  # TensorFlow: off the event loop
        report.placed = channel.place(fresh, vectors)
        report.unplaced = [item.item_id for item in fresh if item.item_id not in set(report.placed)]
    elif fresh:
        report.unplaced = [item.item_id for item in fresh]
    if report.unplaced:
        log.warning("%d new items could not be placed (no vector): %s", len(report.unplaced), report.unplaced[:5])
    return report


def _is_new(catalog: ItemCatalog, item_id: str) -> bool:
    row = catalog.row_of(item_id)
    return row is None or row >= catalog.built


async def reapply_live_items(
    recall: Recall, reader: RealtimeReader, built_at_ms: int, catalog: LiveCatalog | None = None
) -> LiveApplyReport:
    """Apply to a freshly loaded ``recall`` every live item whose event is newer than ``built_at_ms``.

    The one call a provider makes after loading artifacts (at start, and after a rollout loads a
    new version): items realtime added or removed since that build are served as before. ``catalog``
    (the feature store overlay's ``LiveCatalog``) gets the same items; its cursor ends at the last
    change applied, where the follower goes on. Raises ``FeatureStoreError`` when Redis fails.
    """
    items, cursor = await reader.live_items_since(built_at_ms)
    report = await apply_live_items(recall, items, catalog)
    report.cursor = cursor  # older changes are in the build: following the log starts after all of them
    if catalog is not None:
        catalog.cursor = max(catalog.cursor, cursor)
    log.info(
        "live items since the build: %d placed, %d changed, %d removed, %d unplaced",
        len(report.placed),
        report.changed,
        report.removed,
        len(report.unplaced),
    )
    return report
