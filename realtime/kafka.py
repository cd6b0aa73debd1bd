"""The Kafka source: a consumer group member over confluent-kafka (librdkafka).

Why confluent-kafka rather than aiokafka: the consumer's budget is CPU (20,000
events/s applied from one process on two shared cores), and librdkafka fetches,
decompresses and batches records in C threads, handing Python ready batches;
aiokafka parses the protocol in Python on the event loop that must also build
the Redis pipelines. librdkafka also reports per-partition consumer lag in its
statistics for free (no extra broker round trip). Its blocking calls run in a worker thread here, so the
event loop (in ``serve --consume``, the provider's) never blocks on the broker.

Offsets: auto-commit is off; ``commit`` commits, synchronously, the next offset
of every partition in the batch after the batch reached Redis, so a member
killed at any point resumes from the last applied batch. Records refused as
malformed are produced to the dead-letter topic (the original bytes, with
``reason``, ``error`` and ``source`` headers) and flushed before that commit.
A rebalance can only happen inside ``poll``, when no batch is in flight.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dubbo_recsys.realtime.effects import Position
from dubbo_recsys.realtime.source import DeadLetter, EventsConfig, Record

__all__ = ["KafkaSource", "KafkaSourceError"]

log = logging.getLogger(__name__)


class KafkaSourceError(RuntimeError):
    """The broker refused a dead-letter write."""


class KafkaSource:
    """``EventSource`` over one Kafka consumer group (see the module docstring)."""

    def __init__(
        self, config: EventsConfig, member: str, *, static: bool = False, extra: Mapping[str, Any] | None = None
    ) -> None:
        self.config = config
        self.member = member
        self.static = static
        self._extra = dict(extra or {})
        self._consumer: Any = None
        self._producer: Any = None
        self._lag: dict[str, int] = {}
        self._assigned: set[str] = set()

    async def start(self) -> None:
        from confluent_kafka import Consumer, Producer

        common = {"bootstrap.servers": self.config.address, "client.id": self.member}
        self._consumer = Consumer(
            {
                **common,
                "group.id": self.config.group,
                # a member that dies is noticed after this long; a named member (--member) that comes back
                # under its name gets its partitions again at once (static membership)
                "session.timeout.ms": self.config.session_timeout_ms,
                **({"group.instance.id": self.member} if self.static else {}),
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                # per topic: each member gets its share of the user topic's partitions (a sticky assignor
                # balances the total, and may give one member the whole user topic and another the item topic)
                "partition.assignment.strategy": "range",
                "statistics.interval.ms": 1000,
                "stats_cb": self._on_stats,
                "error_cb": self._on_error,
                **self._extra,
            }
        )
        self._producer = Producer({**common, "acks": "all", "enable.idempotence": True, "linger.ms": 5})
        self._consumer.subscribe(list(self.config.topics), on_assign=self._on_assign, on_revoke=self._on_revoke)

    # -- callbacks, run by librdkafka inside poll/consume (in the worker thread) ------------------

    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        for p in partitions:
            self._lag.setdefault(f"{p.topic}:{p.partition}", 0)  # until the statistics say otherwise
        self._assigned |= {f"{p.topic}:{p.partition}" for p in partitions}
        log.info("%s assigned %s", self.member, sorted(self._assigned))

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        for p in partitions:
            name = f"{p.topic}:{p.partition}"
            self._assigned.discard(name)
            self._lag.pop(name, None)

    def _on_stats(self, raw: str) -> None:
        try:
            stats = json.loads(raw)
            lag = {
                f"{topic}:{number}": max(0, int(partition["consumer_lag"]))  # -1: no position yet
                for topic, info in stats.get("topics", {}).items()
                for number, partition in info.get("partitions", {}).items()
                if number != "-1" and f"{topic}:{number}" in self._assigned
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            return
        self._lag = lag

    def _on_error(self, error: Any) -> None:
        log.warning("kafka: %s", error)

    # -- EventSource -------------------------------------------------------------------------------

    def _fetch(self, max_records: int, timeout: float) -> list[Any]:
        first = self._consumer.poll(timeout)  # returns at the first record; consume() would wait for a full batch
        if first is None:
            return []
        return [first, *self._consumer.consume(max_records - 1, 0)] if max_records > 1 else [first]

    async def poll(self, max_records: int, wait: float) -> list[Record]:
        from confluent_kafka import KafkaError

        messages = await asyncio.to_thread(self._fetch, max_records, wait)
        kinds = self.config.topics
        records = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("kafka: %s", error)
                continue
            topic = message.topic()
            records.append(
                Record(
                    kinds[topic],
                    topic,
                    Position(f"{topic}:{message.partition()}", message.offset()),
                    message.key(),
                    message.value() or b"",
                )
            )
        return records

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        failures: list[str] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                failures.append(str(error))

        for letter in letters:
            record = letter.record
            self._producer.produce(
                self.config.dlq_topic,
                key=record.key,
                value=record.value,
                headers=[
                    ("reason", letter.reason.value.encode()),
                    ("error", letter.message[:1000].encode()),
                    ("source", record.position.token.encode()),
                ],
                on_delivery=delivered,
            )
        remaining = await asyncio.to_thread(self._producer.flush, 30.0)
        if remaining or failures:
            raise KafkaSourceError(f"dead-letter topic {self.config.dlq_topic}: {failures or remaining}")

    async def commit(self, records: Sequence[Record]) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        last: dict[tuple[str, int], int] = {}
        for record in records:
            topic, _, number = record.position.partition.rpartition(":")
            key = (topic, int(number))
            last[key] = max(last.get(key, -1), record.position.offset)
        offsets = [TopicPartition(topic, number, offset + 1) for (topic, number), offset in last.items()]
        if not offsets:
            return
        try:
            await asyncio.to_thread(self._consumer.commit, offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # The partitions moved to another member while this batch was applied (a rebalance during the
            # prefetch): that member starts from the last commit and re-applies what it finds, which the
            # sink's idempotence absorbs. Nothing is lost by not committing.
            log.warning("commit of %d partitions refused, they are redelivered: %s", len(offsets), exc)

    def lag(self) -> Mapping[str, int]:
        return dict(self._lag)

    @property
    def partitions(self) -> list[str]:
        return sorted(self._assigned)

    async def close(self) -> None:
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = None
        if producer is not None:
            await asyncio.to_thread(producer.flush, 10.0)
        if consumer is not None:
            await asyncio.to_thread(consumer.close)
