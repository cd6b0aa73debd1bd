"""The real peers of the realtime tests: topics on the test Kafka broker or Redis Streams, consumer
processes, Redis reads.

``KAFKA_BOOTSTRAP`` comes from tests/ci/35-kafka.sh (one broker per run), ``REDIS_URL`` from
tests/ci/15-redis.sh; every test makes topics, a consumer group and a Redis prefix of its own, so tests
never see each other's events.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from dubbo_recsys.features.codec import KeyLayout
from dubbo_recsys.realtime.source import EventKind, EventsConfig
from dubbo_recsys.realtime.streams import publish_many
from dubbo_recsys.realtime.topics import create_topics


@dataclass(frozen=True)
class Topics:
    """Fresh topics (and a consumer group) on one broker: Kafka, or Redis Streams on the test Redis."""

    events: EventsConfig
    prefix: str  # Redis Streams: the key prefix the streams live under

    @property
    def url(self) -> str:
        e = self.events
        query = f"users={e.users_topic}&items={e.items_topic}&dlq={e.dlq_topic}&group={e.group}"
        if e.broker == "kafka":  # 6 s is the broker's minimum session: a member that left is noticed soon
            return f"kafka://{e.address}?{query}&session_timeout_ms=6000"
        return f"{e.address}?{query}&partitions={e.partitions}&session_timeout_ms=3000"

    async def produce(self, records: Sequence[tuple[bytes, bytes]]) -> None:
        if self.events.broker == "kafka":
            await asyncio.to_thread(produce, self.events.address, self.events.users_topic, records)
        else:
            await _publish_all(self, records)

    async def dead_letters(self, expected: int) -> list[tuple[str, str]]:
        """(reason, source position) of every dead-lettered record (at least ``expected``, within 30 s)."""
        if self.events.broker == "kafka":
            found = await asyncio.to_thread(read_topic, self.events.address, self.events.dlq_topic, expected)
            return [(dict(m.headers())["reason"].decode(), dict(m.headers())["source"].decode()) for m in found]
        from dubbo_recsys.features.redis import RedisConfig, close_client

        client = RedisConfig(url=self.events.address, prefix=self.prefix).client()  # one Redis or a cluster
        try:
            # redis-py types the reply loosely; a stream range is (id, fields) pairs of bytes
            entries = cast(
                "list[tuple[bytes, dict[bytes, bytes]]]",
                await client.xrange(KeyLayout(self.prefix).stream(self.events.dlq_topic, 0)),
            )
        finally:
            await close_client(client)
        return [(fields[b"reason"].decode(), fields[b"source"].decode()) for _, fields in entries]


def topics_on(broker: str, address: str, prefix: str, partitions: int = 4) -> Topics:
    tag = uuid.uuid4().hex[:8]
    events = EventsConfig(
        broker=broker,
        address=address,
        users_topic=f"users-{tag}",
        items_topic=f"items-{tag}",
        dlq_topic=f"dlq-{tag}",
        group=f"group-{tag}",
        partitions=partitions if broker == "redis" else 1,
    )
    if broker == "kafka":
        create_topics(events, partitions)
    return Topics(events, prefix)


async def _publish_all(topics: Topics, records: Sequence[tuple[bytes, bytes]]) -> None:
    from dubbo_recsys.features.redis import RedisConfig, close_client

    client = RedisConfig(url=topics.events.address, prefix=topics.prefix).client()
    try:
        for start in range(0, len(records), 500):  # a few hundred XADDs at a time, as a busy producer would
            chunk = [(key.decode(), value) for key, value in records[start : start + 500]]
            await publish_many(client, KeyLayout(topics.prefix), topics.events, EventKind.USER, chunk)
    finally:
        await close_client(client)


def produce(bootstrap: str, topic: str, records: Sequence[tuple[bytes | None, bytes]]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    for n, (key, value) in enumerate(records):
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:  # the local queue (100,000 records) is full: let deliveries drain it
                producer.poll(0.1)
        if n % 5000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list[Any]:
    """Every record of ``topic`` from the start (at least ``expected`` of them, or what came in ``timeout``)."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4().hex[:6]}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < expected and time.monotonic() < deadline:
            found += [m for m in consumer.consume(1000, 0.5) if m.error() is None]
        found += [m for m in consumer.consume(1000, 1.0) if m.error() is None]  # anything beyond expected
    finally:
        consumer.close()
    return found


def consume_command(url: str, redis_url: str, prefix: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dubbo_recsys.provider.cli",
        "consume",
        "--events",
        url,
        "--redis",
        redis_url,
        "--prefix",
        prefix,
        *extra,
    ]


@contextmanager
def consumer_process(command: list[str], timeout: float = 60.0) -> Iterator[subprocess.Popen[str]]:
    """A ``dubbo-recsys consume`` process, once it printed ``consuming``; stopped (SIGTERM) afterwards."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + timeout
        assert process.stdout is not None
        while True:
            line = process.stdout.readline()
            if line.startswith("consuming "):
                break
            if (not line and process.poll() is not None) or time.monotonic() > deadline:
                raise AssertionError(f"consumer did not start: {line!r} (exit {process.poll()})")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")
        await asyncio.sleep(0.1)


async def applied_events(client: Any, layout: Any, users: Sequence[str]) -> int:
    """The sum of every user's applied-event counter (``_events``)."""
    async with client.pipeline(transaction=False) as pipe:
        for user in users:
            pipe.hget(layout.realtime_user(user, "cnt"), "_events")
        values = await pipe.execute()
    return sum(int(v or 0) for v in values)
