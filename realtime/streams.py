"""The Redis Streams source: Kafka's consumer-group semantics on a Redis, for deployments without Kafka.

A topic is ``P`` streams (``partitions`` in the events URL), ``{prefix}:v2:ev:{ev:<topic>}:<p>``;
a producer appends an event to partition ``crc32(key) % P`` (``partition_of``), key = the user
id for user events, the item id for item events, so one user's events stay in order::

    XADD recsys:v2:ev:{ev:recsys-user-events}:3 MAXLEN ~ 1000000 * value '{"eventId": ...}'

Members of one consumer group split the partitions by **leases**: every member heartbeats
into a members set; each holds ``ceil(P / live members)`` partitions at most, each lease a key
``SET NX PX session_timeout_ms`` renewed by its holder (a check-and-renew script); a member
over its share lets the extra go, a member under it takes free ones. Partition ``p`` means
stream ``p`` of both the user and the item topic. A member that takes a partition first claims
every entry still pending in the group on it (``XAUTOCLAIM`` from ``0-0``: what a dead member
had read but not acknowledged), then reads new ones (``XREADGROUP ... >``); entries are
acknowledged (``XACK``) only after the batch reached Redis: at-least-once, in order per
partition, like Kafka. A member that lost a lease while it was still working (a zombie) can
only apply what the sink's idempotence already absorbs.

Refused records go to the dead-letter stream ``{prefix}:v2:ev:{ev:<dlq>}:0`` with fields
``value``, ``reason``, ``error``, ``source``. Lag per partition is the group's ``lag`` of
``XINFO GROUPS`` (Redis >= 7.0). Each topic's streams share one hash tag, so a blocking
``XREADGROUP`` over all of a member's streams of a topic is one command on a Redis Cluster.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from dubbo_recsys.features.codec import KeyLayout
from dubbo_recsys.features.redis import close_client, redis_errors
from dubbo_recsys.realtime.effects import Position
from dubbo_recsys.realtime.source import DeadLetter, EventKind, EventsConfig, Record

__all__ = ["RedisStreamSource", "partition_of", "publish", "publish_many"]

log = logging.getLogger(__name__)
DLQ_MAXLEN = 100_000
STREAM_MAXLEN = 1_000_000

_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def partition_of(key: str | bytes, partitions: int) -> int:
    """The stream partition of a key: CRC-32 (zlib, IEEE) of its UTF-8 bytes modulo ``partitions``."""
    data = key.encode() if isinstance(key, str) else key
    return zlib.crc32(data) % partitions


async def publish(client: Any, layout: KeyLayout, events: EventsConfig, kind: EventKind, key: str, value: bytes) -> str:
    """Append one event to its partition of the user or item topic; returns the entry id."""
    topic = events.users_topic if kind is EventKind.USER else events.items_topic
    stream = layout.stream(topic, partition_of(key, events.partitions))
    with redis_errors("XADD"):
        entry = await client.xadd(stream, {"value": value}, maxlen=STREAM_MAXLEN, approximate=True)
    return entry.decode() if isinstance(entry, bytes) else str(entry)


async def publish_many(
    client: Any, layout: KeyLayout, events: EventsConfig, kind: EventKind, records: Sequence[tuple[str, bytes]]
) -> None:
    """Append ``(key, value)`` events to their partitions in one pipeline (a producer's batch)."""
    topic = events.users_topic if kind is EventKind.USER else events.items_topic
    with redis_errors("XADD"):
        async with client.pipeline(transaction=False) as pipe:
            for key, value in records:
                stream = layout.stream(topic, partition_of(key, events.partitions))
                pipe.xadd(stream, {"value": value}, maxlen=STREAM_MAXLEN, approximate=True)
            await pipe.execute()


class RedisStreamSource:
    """``EventSource`` over partitioned Redis streams (see the module docstring)."""

    def __init__(
        self, config: EventsConfig, member: str, client: Any, layout: KeyLayout, *, owns_client: bool = False
    ) -> None:
        self.config = config
        self.member = member
        self._client = client
        self._layout = layout
        self._owns_client = owns_client
        self._session_ms = config.session_timeout_ms
        self._owned: set[int] = set()
        self._claiming: dict[str, str] = {}  # stream -> XAUTOCLAIM cursor, while its pending entries are taken over
        self._kinds = {
            layout.stream(topic, p): (topic, kind)
            for topic, kind in config.topics.items()
            for p in range(config.partitions)
        }
        self._lag: dict[str, int] = {}
        self._next_lease = 0.0
        self._next_lag = 0.0
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def _streams(self, topic: str, partitions: Sequence[int]) -> list[str]:
        return [self._layout.stream(topic, p) for p in partitions]

    @property
    def partitions(self) -> list[int]:
        return sorted(self._owned)

    async def start(self) -> None:
        """Create the groups (idempotent) and take this member's first share of the partitions."""
        with redis_errors("XGROUP CREATE"):
            for stream in self._kinds:
                try:
                    await self._client.xgroup_create(stream, self.config.group, id="0", mkstream=True)
                except Exception as exc:  # BUSYGROUP: it exists already
                    if "BUSYGROUP" not in str(exc):
                        raise
        await self._maintain_leases(force=True)

    # -- leases ------------------------------------------------------------------------------------

    def _lease(self, partition: int) -> str:
        return self._layout.stream_lease(self.config.users_topic, self.config.group, partition)

    async def _maintain_leases(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next_lease:
            return
        self._next_lease = now + self._session_ms / 3000.0
        members = self._layout.stream_members(self.config.users_topic, self.config.group)
        wall = time.time() * 1000
        with redis_errors("stream leases"):
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.zadd(members, {self.member: wall})
                pipe.zremrangebyscore(members, "-inf", wall - self._session_ms)
                pipe.zcard(members)
                pipe.pexpire(members, self._session_ms * 10)
                live = max(1, int((await pipe.execute())[2]))
            share = math.ceil(self.config.partitions / live)
            for partition in sorted(self._owned):
                if not await self._renew(keys=[self._lease(partition)], args=[self.member, self._session_ms]):
                    log.warning("%s lost the lease of partition %d", self.member, partition)
                    self._drop(partition)
            for partition in sorted(self._owned, reverse=True)[: max(0, len(self._owned) - share)]:
                await self._release(keys=[self._lease(partition)], args=[self.member])
                self._drop(partition)
            free = [p for p in range(self.config.partitions) if p not in self._owned]
            random.shuffle(free)  # members starting together do not all race for partition 0
            for partition in free:
                if len(self._owned) >= share:
                    break
                lease = self._lease(partition)
                # free, or still ours from before a restart under the same name (like Kafka's static membership)
                if await self._client.set(lease, self.member, nx=True, px=self._session_ms) or await self._renew(
                    keys=[lease], args=[self.member, self._session_ms]
                ):
                    self._owned.add(partition)
                    for topic in self.config.topics:
                        self._claiming[self._layout.stream(topic, partition)] = "0-0"
                    log.info("%s took partition %d", self.member, partition)

    def _drop(self, partition: int) -> None:
        self._owned.discard(partition)
        for topic in self.config.topics:
            stream = self._layout.stream(topic, partition)
            self._claiming.pop(stream, None)
            self._lag.pop(stream, None)

    # -- EventSource -------------------------------------------------------------------------------

    async def poll(self, max_records: int, wait: float) -> list[Record]:
        await self._maintain_leases()
        await self._measure_lag()
        if not self._owned:
            await asyncio.sleep(wait)
            return []
        if self._claiming:
            return await self._claim(max_records)
        group, owned = self.config.group, sorted(self._owned)
        with redis_errors("XREADGROUP"):
            answers: list[Any] = []
            count = max(1, max_records // (2 * len(owned)))  # per stream: a batch stays near max_records
            for number, topic in enumerate(self.config.topics):  # one command per topic: one hash tag each
                streams = dict.fromkeys(self._streams(topic, owned), ">")
                block = int(wait * 1000) if number == 0 and not any(answers) else None
                answers.append(await self._client.xreadgroup(group, self.member, streams, count=count, block=block))
        # never cut what was read: an entry read and not returned would sit in the pending list unprocessed
        return [record for answer in answers for record in self._records(answer)]

    async def _claim(self, max_records: int) -> list[Record]:
        """The next entries still pending on a partition just taken, in order; done when a cursor wraps."""
        stream, cursor = next(iter(self._claiming.items()))
        with redis_errors("XAUTOCLAIM"):
            answer = await self._client.xautoclaim(
                stream, self.config.group, self.member, min_idle_time=0, start_id=cursor, count=max_records
            )
        next_cursor, entries = answer[0], answer[1]
        next_cursor = next_cursor.decode() if isinstance(next_cursor, bytes) else str(next_cursor)
        if next_cursor == "0-0":
            del self._claiming[stream]
        else:
            self._claiming[stream] = next_cursor
        return self._records([[stream, [e for e in entries if e is not None and e[1] is not None]]])

    def _records(self, answer: Any) -> list[Record]:
        records = []
        for stream_name, entries in answer or ():
            stream = stream_name.decode() if isinstance(stream_name, bytes) else stream_name
            topic, kind = self._kinds[stream]
            for entry_id, fields in entries:
                raw = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                ms, _, seq = raw.partition("-")
                value = fields.get(b"value", fields.get("value", b""))
                key = fields.get(b"key", fields.get("key"))
                records.append(Record(kind, topic, Position(stream, int(ms), int(seq)), key, value))
        return records

    async def dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        stream = self._layout.stream(self.config.dlq_topic, 0)
        with redis_errors("XADD dead letter"):
            async with self._client.pipeline(transaction=False) as pipe:
                for letter in letters:
                    fields = {
                        "value": letter.record.value,
                        "reason": letter.reason.value,
                        "error": letter.message[:1000],
                        "source": letter.record.position.token,
                    }
                    pipe.xadd(stream, fields, maxlen=DLQ_MAXLEN, approximate=True)
                await pipe.execute()

    async def commit(self, records: Sequence[Record]) -> None:
        by_stream: dict[str, list[str]] = {}
        for record in records:
            p = record.position
            by_stream.setdefault(p.partition, []).append(f"{p.offset}-{p.sub}")
        with redis_errors("XACK"):
            async with self._client.pipeline(transaction=False) as pipe:
                for stream, ids in by_stream.items():
                    pipe.xack(stream, self.config.group, *ids)
                await pipe.execute()

    async def _measure_lag(self) -> None:
        now = time.monotonic()
        if now < self._next_lag or not self._owned:
            return
        self._next_lag = now + 1.0
        streams = [s for topic in self.config.topics for s in self._streams(topic, sorted(self._owned))]
        try:
            with redis_errors("XINFO GROUPS"):
                async with self._client.pipeline(transaction=False) as pipe:
                    for stream in streams:
                        pipe.xinfo_groups(stream)
                    answers = await pipe.execute()
        except Exception as exc:  # lag is for the console; never a reason to stop consuming
            log.warning("stream lag not measured: %s", exc)
            return
        group = self.config.group.encode()
        for stream, groups in zip(streams, answers, strict=True):
            for info in groups:
                name = info.get("name")
                if name in (group, self.config.group):
                    self._lag[stream] = int(info.get("lag") or 0)

    def lag(self) -> Mapping[str, int]:
        return dict(self._lag)

    async def close(self) -> None:
        """Release the leases (another member takes them at once) and close the client if owned."""
        try:
            for partition in sorted(self._owned):
                await self._release(keys=[self._lease(partition)], args=[self.member])
        except Exception as exc:
            log.warning("leases not released (they expire): %s", exc)
        self._owned.clear()
        if self._owns_client:
            await close_client(self._client)
