"""The provider's realtime side: read what the consumer writes, follow it, and optionally consume.

``serve --realtime redis://HOST:PORT/DB`` (``RealtimeOptions``) makes the funnel read
the realtime state (``features.realtime``) through the feature store seam:

- ``open(base_store)`` connects (the feature store's ``RedisConfig.client`` factory)
  and returns the overlay store (realtime lastN in front of the build's, live item
  features) and the Redis seen filter the consumer writes into;
- ``start(recall, built_at_ms, on_trending)`` adopts the recall, i.e. re-applies the
  live items newer than its build (``recall.live.reapply_live_items``, also what
  ``adopt(new_recall, built_at_ms)`` does for a version loaded later), then follows: every 100 ms the live
  item change log (new items become retrievable, removed ones disappear), every
  second trending (the trending channel and the popular fallback list) and the
  consumers' published stats (/metrics and the console);
- with ``--consume`` it also runs a consumer group member in this process
  (``realtime.runner.ConsumerRunner``) on ``--events`` (default: Redis Streams on the
  same Redis).

A failing follower step is logged and counted, and the next one tries again: serving
never waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

FOLLOW_SECONDS = 0.1  # live item changes: a new item is retrievable this soon after the consumer wrote it
TRENDING_SECONDS = 1.0
TRENDING_SIZE = 200


@dataclass(frozen=True)
class RealtimeOptions:
    url: str  # the Redis of the realtime state
    prefix: str = "recsys"
    events: str | None = None  # with consume: the --events URL (None: Redis Streams on ``url``)
    consume: bool = False
    last_n: int = 50
    bucket_seconds: int = 60
    trend_window: int = 3600


class RealtimeBeside:
    """Opened by ``provider.app.PipelineApp`` when ``--realtime`` is set; see the module docstring."""

    def __init__(self, options: RealtimeOptions) -> None:
        from dubbo_recsys.features.realtime import LiveCatalog
        from dubbo_recsys.realtime.effects import RealtimeConfig

        self.options = options
        self.config = RealtimeConfig(
            last_n=options.last_n, bucket_seconds=options.bucket_seconds, trend_window_seconds=options.trend_window
        )
        self.catalog = LiveCatalog()
        self.consumer_stats: list[dict[str, Any]] = []
        self.follow_errors = 0
        self.trending_size = 0
        self.last_follow = 0.0
        self._client: Any = None
        self._reader: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._runner: Any = None
        self.recall: Any = None  # the recall the follower applies live items to (adopt() swaps it)
        self._on_trending: Callable[[Sequence[tuple[str, float]]], None] = lambda _ranked: None
        self._lock = asyncio.Lock()  # a follower step and adopt() never interleave

    async def open(self, base_store: Any) -> tuple[Any, Any]:
        """Connect; returns ``(overlay store over base_store, seen filter)``."""
        from dubbo_recsys.features.base import FeatureStoreError
        from dubbo_recsys.features.realtime import RealtimeReader
        from dubbo_recsys.features.redis import RedisConfig, RedisSeenFilter, redis_errors

        redis = RedisConfig(url=self.options.url, prefix=self.options.prefix)
        self._client = redis.client()
        try:
            with redis_errors("PING (realtime)"):
                await self._client.ping()
        except FeatureStoreError:
            await self.close()
            raise
        self._reader = RealtimeReader(self._client, redis.layout, last_n=self.config.last_n)
        seen = RedisSeenFilter(self._client, redis.layout, self.config.seen)
        return self.overlay(base_store), seen

    def overlay(self, base_store: Any) -> Any:
        """``base_store`` read through the realtime state (after ``open``): what an artifact version loaded
        later (``provider.rollout``) serves its features from."""
        from dubbo_recsys.features.realtime import RealtimeFeatureStore

        return RealtimeFeatureStore(base_store, self._reader, self.catalog)

    async def start(
        self, recall: Any, built_at_ms: int, on_trending: Callable[[Sequence[tuple[str, float]]], None]
    ) -> None:
        """Adopt ``recall`` (re-apply the live items since its build), then follow; with ``consume``, start
        the consumer."""
        self._on_trending = on_trending
        await self.adopt(recall, built_at_ms)
        self._tasks.append(asyncio.create_task(self._follow(), name="realtime-follow"))
        if self.options.consume:
            self._tasks.append(asyncio.create_task(self._consume(), name="realtime-consume"))

    async def adopt(self, recall: Any, built_at_ms: int) -> Any:
        """Make a freshly loaded ``recall`` (at start, or a new artifact version after a rollout) serve the live
        items newer than its build (``recall.live.reapply_live_items``) and follow changes from then on; returns
        the ``LiveApplyReport``. Call it before the new recall takes requests."""
        from dubbo_recsys.recall.live import reapply_live_items

        async with self._lock:
            report = await reapply_live_items(recall, self._reader, built_at_ms, self.catalog)
            self.recall = recall
            await self._trending(recall, self._on_trending)
        log.info("realtime: %d live items re-applied since the build", len(report.placed) + report.changed)
        return report

    async def _follow(self) -> None:
        from dubbo_recsys.recall.live import apply_live_items

        next_slow = time.monotonic() + TRENDING_SECONDS
        while not self._stop.is_set():
            try:
                async with self._lock:
                    changes = await self._reader.live_changes(self.catalog.cursor)
                    if changes:
                        await apply_live_items(self.recall, changes, self.catalog)
                    if time.monotonic() >= next_slow:
                        next_slow = time.monotonic() + TRENDING_SECONDS
                        await self._trending(self.recall, self._on_trending)
                        self.consumer_stats = await self._reader.consumer_stats()
                self.last_follow = time.time()
            except Exception as exc:  # Redis away, a bad value: serving goes on with what it has
                self.follow_errors += 1
                log.warning("realtime follower: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), FOLLOW_SECONDS)

    async def _trending(self, recall: Any, on_trending: Callable[[Sequence[tuple[str, float]]], None]) -> None:
        ranked = await self._reader.trending(self.config.buckets(int(time.time() * 1000)), TRENDING_SIZE)
        ranked = [(item, score) for item, score in ranked if not self.catalog.is_removed(item)]
        if recall.trending is not None:
            recall.trending.update(ranked)
        self.trending_size = len(ranked)
        on_trending(ranked)

    async def _consume(self) -> None:
        from dubbo_recsys.features.redis import RedisConfig
        from dubbo_recsys.realtime.runner import ConsumerRunner
        from dubbo_recsys.realtime.source import EventsConfig

        events = EventsConfig.parse(self.options.events or self.options.url)
        redis = RedisConfig(url=self.options.url, prefix=self.options.prefix, socket_timeout=5.0)
        member = f"{socket.gethostname()}-{os.getpid()}"
        self._runner = ConsumerRunner(events, redis, self.config, member)
        while not self._stop.is_set():
            try:
                await self._runner.run()
                return
            except Exception as exc:  # the broker is not there yet: try again, serving goes on
                log.warning("realtime consumer stopped, restarting in 5 s: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 5.0)

    def is_removed(self, item_id: str) -> bool:
        return self.catalog.is_removed(item_id)

    def snapshot(self) -> dict[str, Any]:
        """What /metrics and the console show about realtime (no I/O: the follower refreshed it)."""
        return {
            "consumers": self.consumer_stats,
            "liveItems": len(self.catalog),
            "removedItems": len(self.catalog.removed),
            "trendingItems": self.trending_size,
            "followErrors": self.follow_errors,
            "lastFollowAt": self.last_follow,
            "consumerInProcess": self._runner.member if self._runner is not None else "",
        }

    async def close(self) -> None:
        self._stop.set()
        if self._runner is not None:
            self._runner.stop()
        for task in self._tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 30.0)
        self._tasks.clear()
        if self._client is not None:
            from dubbo_recsys.features.redis import close_client

            await close_client(self._client)
            self._client = None
