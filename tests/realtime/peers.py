"""The real peers of the realtime tests: topics on the test Kafka broker, consumer processes, Redis reads.

``KAFKA_BOOTSTRAP`` comes from tests/ci/35-kafka.sh (one broker per run); every test makes topics, a
consumer group and a Redis prefix of its own, so tests never see each other's events.
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
from typing import Any

from dubbo_recsys.realtime.source import EventsConfig
from dubbo_recsys.realtime.topics import create_topics


@dataclass(frozen=True)
class KafkaSpace:
    bootstrap: str
    events: EventsConfig

    @property
    def url(self) -> str:
        e = self.events
        return (
            f"kafka://{self.bootstrap}?users={e.users_topic}&items={e.items_topic}&dlq={e.dlq_topic}&group={e.group}"
            "&session_timeout_ms=6000"  # the broker's minimum: a member that left is noticed soon
        )


def kafka_space(bootstrap: str, partitions: int = 4) -> KafkaSpace:
    tag = uuid.uuid4().hex[:8]
    events = EventsConfig(
        broker="kafka",
        address=bootstrap,
        users_topic=f"users-{tag}",
        items_topic=f"items-{tag}",
        dlq_topic=f"dlq-{tag}",
        group=f"group-{tag}",
    )
    create_topics(events, partitions)
    return KafkaSpace(bootstrap, events)


def produce(bootstrap: str, topic: str, records: Sequence[tuple[bytes | None, bytes]]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    for n, (key, value) in enumerate(records):
        producer.produce(topic, key=key, value=value)
        if n % 5000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0


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
