"""One consumer, assembled: broker source, Redis sink, stats publisher. Used by ``consume`` and ``serve --consume``.

``ConsumerRunner(events, redis, realtime, member).run()`` opens a Redis client from
the feature store's factory (``RedisConfig.client``: whatever Redis deployment the
feature store supports, the consumer writes to), the source of ``events.broker``,
and runs ``EventConsumer`` and ``StatsPublisher`` until ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from dubbo_recsys.features.redis import RedisConfig, close_client
from dubbo_recsys.realtime.consumer import ConsumerStats, EventConsumer, StatsPublisher
from dubbo_recsys.realtime.effects import RealtimeConfig
from dubbo_recsys.realtime.sink import RedisEventSink
from dubbo_recsys.realtime.source import EventsConfig, EventSource

__all__ = ["ConsumerRunner", "open_source"]

log = logging.getLogger(__name__)


def open_source(events: EventsConfig, member: str, redis: RedisConfig, *, static: bool = False) -> EventSource:
    """The source for ``events.broker`` (Redis Streams live under ``redis``'s prefix, on the events URL's Redis).
    ``static``: the member's name is stable across restarts (Kafka static membership)."""
    if events.broker == "kafka":
        from dubbo_recsys.realtime.kafka import KafkaSource

        return KafkaSource(events, member, static=static)
    from dubbo_recsys.realtime.streams import RedisStreamSource

    streams = RedisConfig(url=events.address, prefix=redis.prefix, socket_timeout=5.0)
    return RedisStreamSource(events, member, streams.client(), streams.layout, owns_client=True)


class ConsumerRunner:
    def __init__(
        self,
        events: EventsConfig,
        redis: RedisConfig,
        realtime: RealtimeConfig,
        member: str,
        *,
        batch_size: int = 5000,
        stats_interval: float = 1.0,
        static: bool = False,
    ) -> None:
        self.static = static
        self.events = events
        self.redis = redis
        self.realtime = realtime
        self.member = member
        self.batch_size = batch_size
        self.stats_interval = stats_interval
        self.stats = ConsumerStats(member, events.broker, events.group)
        self._consumer: EventConsumer | None = None
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()
        if self._consumer is not None:
            self._consumer.stop()

    async def create_topics(self, partitions: int) -> None:
        """Create the missing topics (Kafka) with ``partitions`` each; Redis Streams need nothing here."""
        if self.events.broker != "kafka":
            return
        from dubbo_recsys.realtime.topics import create_topics

        await asyncio.to_thread(create_topics, self.events, partitions)

    async def run(self, announce: Callable[[], None] | None = None) -> None:
        client = self.redis.client()
        source = open_source(self.events, self.member, self.redis, static=self.static)
        sink = RedisEventSink(client, self.redis.layout, self.realtime, ack=self.redis.write_ack)
        self._consumer = EventConsumer(source, sink, self.stats, batch_size=self.batch_size)
        if self._stopping.is_set():
            self._consumer.stop()
        publisher = StatsPublisher(client, self.redis.layout, self.stats, self.stats_interval)
        publishing = asyncio.create_task(publisher.run(self._stopping))
        try:
            await source.start()
            if announce is not None:
                announce()
            await self._consumer.loop()
        finally:
            self._stopping.set()
            with contextlib.suppress(Exception):
                await source.close()
            await publishing
            await close_client(client)
