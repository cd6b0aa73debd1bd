"""The read side of the realtime state: what ``dubbo-recsys consume`` wrote, seen through the feature store.

The consumer (``realtime``) writes per-user lastN, action counters and seen bits,
per-bucket trending counts and a live item catalog into Redis. Serving reads them
here, at the feature store seam, so recall (item-CF, swing, i2i, the user tower,
hot) and rank (DIN's history) need no change:

- ``RealtimeFeatureStore`` wraps the store a provider already has (embedded or
  Redis) and answers ``users()`` with the realtime lastN in front of the build's
  lastN, and ``items()`` with live items (new or changed after the build) and
  ``None`` for removed ones (``LiveCatalog``, kept in process by the follower);
- the seen filter needs nothing new: the consumer sets bits in the very keys
  ``features.redis.RedisSeenFilter`` reads;
- ``RealtimeReader`` reads the rest: trending, live item changes, consumer stats.

Keys (``features.codec.KeyLayout``; every key of a user shares the ``{u:<id>}`` tag)::

    rt:{u:<id>}:last              ZSET item -> ts (ms): the user's newest ``last_n`` items
                                  (a fraction of a ms orders one ms's events by arrival)
    rt:{u:<id>}:cnt               HASH action -> count, _events -> applied events, last_ts
    rt:{trend}:b:<bucket>         ZSET item -> weighted count of events in that bucket
    rt:{live}:items               HASH item id -> msgpack [item row, ts, removed]
    rt:{live}:log                 ZSET item id -> seq of its last change (the follower's cursor)
    rt:{stats}:c:<consumer>       JSON of one consumer's counters, lag and freshness

A failing realtime read degrades to the build's features (logged), never fails a
request: the realtime state is an improvement on the build, not a dependency.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dubbo_recsys.features.base import FeatureStore, FeatureStoreError, ItemFeatures, UserFeatures
from dubbo_recsys.features.codec import Encoding, KeyLayout, item_from_row, item_to_row, row_codec
from dubbo_recsys.features.redis import redis_errors

__all__ = [
    "LiveCatalog",
    "LiveItem",
    "RealtimeFeatureStore",
    "RealtimeReader",
    "decode_live_item",
    "encode_live_item",
]

log = logging.getLogger(__name__)
_CODEC = row_codec(Encoding.MSGPACK)
STATS_TTL_SECONDS = 60  # a consumer that stopped publishing disappears from the console after this


@dataclass(frozen=True, slots=True)
class LiveItem:
    """One item of the live catalog: its features as of ``ts``, or a removal."""

    item: ItemFeatures
    ts: int  # the item event's time, epoch ms
    removed: bool = False
    seq: int = 0  # position in the change log (0 when unknown)


def encode_live_item(item: ItemFeatures, ts: int, removed: bool) -> bytes:
    return _CODEC.encode([item_to_row(item), ts, removed])


def decode_live_item(value: bytes, seq: int = 0) -> LiveItem:
    row = _CODEC.decode(value)
    if not isinstance(row, list) or len(row) != 3 or not isinstance(row[1], int) or not isinstance(row[2], bool):
        raise FeatureStoreError("a live item must be a 3-element array [item row, ts, removed]")
    return LiveItem(item_from_row(row[0]), row[1], row[2], seq)


class RealtimeReader:
    """Reads the realtime keys of one prefix; every failure is a ``FeatureStoreError``."""

    def __init__(self, client: Any, layout: KeyLayout, *, last_n: int = 50) -> None:
        self._client = client
        self._layout = layout
        self.last_n = last_n

    @property
    def client(self) -> Any:
        return self._client

    async def recent_items(self, user_ids: Sequence[str]) -> list[list[str]]:
        """Each user's realtime lastN, newest first (one pipelined ZREVRANGE per user)."""
        if not user_ids:
            return []
        layout, top = self._layout, self.last_n - 1
        with redis_errors("ZREVRANGE lastN"):
            if len(user_ids) == 1:
                found = [await self._client.zrevrange(layout.realtime_user(user_ids[0], "last"), 0, top)]
            else:
                async with self._client.pipeline(transaction=False) as pipe:
                    for user_id in user_ids:
                        pipe.zrevrange(layout.realtime_user(user_id, "last"), 0, top)
                    found = await pipe.execute()
        return [[_text(item) for item in items] for items in found]

    async def counters(self, user_id: str) -> dict[str, int]:
        """The user's action counters (``click``, ..., ``_events`` applied, ``last_ts``)."""
        with redis_errors("HGETALL counters"):
            raw = await self._client.hgetall(self._layout.realtime_user(user_id, "cnt"))
        return {_text(k): int(v) for k, v in raw.items()}

    async def trending(self, buckets: Iterable[int], k: int) -> list[tuple[str, float]]:
        """The ``k`` items with the most weight summed over ``buckets`` (one ZUNION in the ``{trend}`` slot)."""
        keys = [self._layout.trend_bucket(b) for b in buckets]
        if not keys or k <= 0:
            return []
        with redis_errors("ZUNION trending"):
            pairs = await self._client.zunion(keys, withscores=True)
        pairs.sort(key=lambda pair: (-pair[1], pair[0]))
        return [(_text(item), float(score)) for item, score in pairs[:k]]

    async def live_changes(self, after_seq: int, limit: int = 1000) -> list[LiveItem]:
        """Live items changed after ``after_seq`` in change order (at most ``limit``)."""
        layout = self._layout
        with redis_errors("ZRANGEBYSCORE live log"):
            changed = await self._client.zrangebyscore(
                layout.live("log"), f"({after_seq}", "+inf", start=0, num=limit, withscores=True
            )
            if not changed:
                return []
            values = await self._client.hmget(layout.live("items"), [item for item, _ in changed])
        return [
            decode_live_item(value, int(seq))
            for (_, seq), value in zip(changed, values, strict=True)
            if value is not None
        ]

    async def live_items_since(self, ts_ms: int) -> tuple[list[LiveItem], int]:
        """Every live item (new, changed or removed) whose event is newer than ``ts_ms``, in change
        order, and the last seq of the change log (where following it goes on)."""
        found: list[LiveItem] = []
        cursor = 0
        while True:
            page = await self.live_changes(cursor)
            if not page:
                return found, cursor
            found += [item for item in page if item.ts > ts_ms]
            cursor = page[-1].seq

    async def consumer_stats(self, now: float | None = None) -> list[dict[str, Any]]:
        """The stats each live consumer published (``realtime.consumer``), freshest first."""
        now = time.time() if now is None else now
        with redis_errors("consumer stats"):
            names = await self._client.zrangebyscore(self._layout.consumers(), now - STATS_TTL_SECONDS, "+inf")
            if not names:
                return []
            values = await self._client.mget([self._layout.consumer_stats(_text(n)) for n in names])
        out = []
        for value in values:
            if value is None:
                continue
            try:
                stats = json.loads(value)
            except ValueError:
                continue
            if isinstance(stats, dict):
                out.append(stats)
        out.sort(key=lambda s: -float(s.get("publishedAt", 0)))
        return out


class LiveCatalog:
    """Live items known to this process: features of items new or changed since the build, and removals.

    Filled by the provider's follower (``recall.live``) from ``RealtimeReader.live_changes``;
    read on every request by ``RealtimeFeatureStore.items`` (a dict lookup, no I/O)."""

    def __init__(self) -> None:
        self._items: dict[str, ItemFeatures] = {}
        self._removed: set[str] = set()
        self.cursor = 0  # the last change-log seq applied

    def apply(self, live: LiveItem) -> None:
        item_id = live.item.item_id
        if live.removed:
            self._removed.add(item_id)
            self._items.pop(item_id, None)
        else:
            self._removed.discard(item_id)
            self._items[item_id] = live.item
        self.cursor = max(self.cursor, live.seq)

    def get(self, item_id: str) -> ItemFeatures | None:
        return self._items.get(item_id)

    def is_removed(self, item_id: str) -> bool:
        return item_id in self._removed

    @property
    def removed(self) -> frozenset[str]:
        return frozenset(self._removed)

    def __len__(self) -> int:
        return len(self._items)


class RealtimeFeatureStore:
    """A ``FeatureStore`` over another one, with the realtime lastN and the live catalog in front."""

    def __init__(self, base: FeatureStore, reader: RealtimeReader, catalog: LiveCatalog | None = None) -> None:
        self.base = base
        self.reader = reader
        self.catalog = catalog if catalog is not None else LiveCatalog()
        self.failures = 0  # realtime reads that failed and were served from the base alone

    async def users(self, user_ids: Sequence[str]) -> list[UserFeatures | None]:
        base = await self.base.users(user_ids)
        try:
            recent = await self.reader.recent_items(list(user_ids))
        except FeatureStoreError as exc:
            self.failures += 1
            log.warning("realtime lastN unavailable, serving the build's: %s", exc)
            return base
        return [
            merge_last_n(user_id, found, items, self.reader.last_n)
            for user_id, found, items in zip(user_ids, base, recent, strict=True)
        ]

    async def items(self, item_ids: Sequence[str]) -> list[ItemFeatures | None]:
        base = await self.base.items(item_ids)
        catalog = self.catalog
        if not len(catalog) and not catalog.removed:
            return base
        return [
            None if catalog.is_removed(item_id) else (catalog.get(item_id) or found)
            for item_id, found in zip(item_ids, base, strict=True)
        ]

    async def close(self) -> None:
        await self.base.close()


def merge_last_n(user_id: str, user: UserFeatures | None, recent: Sequence[str], limit: int) -> UserFeatures | None:
    """The realtime items (newest first) in front of the build's lastN, each item once, at most
    ``max(limit, len(build's lastN))`` long. A user the build never saw gets a profile-less row."""
    if not recent:
        return user
    built = user.last_n if user is not None else ()
    merged = list(dict.fromkeys([*recent, *built]))[: max(limit, len(built))]
    if user is None:
        return UserFeatures(user_id=user_id, last_n=tuple(merged))
    return UserFeatures(user_id=user.user_id, profile=user.profile, last_n=tuple(merged))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
