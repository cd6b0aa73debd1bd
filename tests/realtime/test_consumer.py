"""The consumer loop when Redis goes away: it stalls, retries, commits nothing meanwhile, loses nothing.

Source: Redis Streams on the test Redis (REDIS_URL). Sink: a private redis-server that this test stops
and starts again on the same port (tests/funnel's ``RedisServer``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from dubbo_recsys.features.realtime import RealtimeReader
from dubbo_recsys.features.redis import RedisConfig, close_client
from dubbo_recsys.interfaces.events import Action, UserEvent, encode_event
from dubbo_recsys.realtime.consumer import ConsumerStats, EventConsumer
from dubbo_recsys.realtime.effects import RealtimeConfig
from dubbo_recsys.realtime.sink import RedisEventSink
from dubbo_recsys.realtime.source import EventKind
from dubbo_recsys.realtime.streams import RedisStreamSource, publish_many
from tests.funnel.peers import RedisServer
from tests.realtime.peers import topics_on, wait_for

pytestmark = pytest.mark.redis


@pytest.mark.asyncio
async def test_a_redis_outage_stalls_the_consumer_and_loses_nothing(redis_space: Any) -> None:
    topics = topics_on("redis", redis_space.url, redis_space.prefix, partitions=1)
    state = RedisServer()
    state.start()
    config = RedisConfig(url=state.url, prefix=redis_space.prefix, socket_timeout=0.5, connect_timeout=0.2)
    sink_client = config.client()
    source = RedisStreamSource(topics.events, "m1", redis_space.client, redis_space.layout)
    stats = ConsumerStats("m1", "redis", topics.events.group)
    consumer = EventConsumer(source, RedisEventSink(sink_client, config.layout, RealtimeConfig()), stats)
    reader = RealtimeReader(sink_client, config.layout)
    stream = redis_space.layout.stream(topics.events.users_topic, 0)
    running: asyncio.Task[None] | None = None
    try:
        await source.start()
        running = asyncio.create_task(consumer.loop())
        events = [UserEvent(f"e{n}", "u1", f"i{n}", Action.CLICK, int(time.time() * 1000)) for n in range(3)]
        state.stop()  # the state's Redis is gone before the events arrive
        await publish_many(
            redis_space.client,
            redis_space.layout,
            topics.events,
            EventKind.USER,
            [("u1", encode_event(e)) for e in events],
        )

        async def failing() -> bool:
            return stats.store_errors >= 2

        await wait_for(failing, 30, "retries while Redis is down")
        pending = await redis_space.client.xpending(stream, topics.events.group)
        assert pending["pending"] == 3 and stats.applied == 0  # read, not acknowledged: nothing committed
        state.start()

        async def applied() -> bool:
            with contextlib.suppress(Exception):
                return (await reader.counters("u1")).get("click") == 3
            return False

        await wait_for(applied, 30, "the events applied once Redis is back")
        await asyncio.sleep(0.3)
        assert (await redis_space.client.xpending(stream, topics.events.group))["pending"] == 0
        assert stats.applied == 3 and (await reader.counters("u1"))["_events"] == 3
    finally:
        consumer.stop()
        if running is not None:
            await asyncio.wait_for(running, 30)
        await source.close()
        await close_client(sink_client)
        state.close()
