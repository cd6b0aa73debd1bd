"""The consumer loop: poll a batch, decode, apply to Redis, dead-letter the refused, commit. Repeat.

One straight recipe per batch (``EventConsumer.step``):

1. ``source.poll`` up to ``batch_size`` records (waits at most ``poll_timeout`` for the first);
2. decode each by its topic's kind; a record that is not a valid event, or is dated too
   far in the future, becomes a ``DeadLetter`` with its reason: the batch goes on;
3. ``sink.apply`` the valid ones; if Redis fails, wait and apply the same batch again
   (every write is idempotent) until it succeeds or the consumer is stopped, and never
   commit before that;
4. ``source.dead_letter`` the refused records, then ``source.commit`` the whole batch.

A SIGKILL anywhere loses nothing (the broker redelivers from the last commit) and counts
nothing twice (``realtime.effects``). ``ConsumerStats`` counts what happened and how fresh
the applied events were; ``StatsPublisher`` writes them to Redis every second, where every
provider's /metrics and console read them (``features.realtime.RealtimeReader.consumer_stats``),
wherever the consumer runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from dubbo_recsys.features.base import FeatureStoreError
from dubbo_recsys.features.codec import KeyLayout
from dubbo_recsys.features.realtime import STATS_TTL_SECONDS
from dubbo_recsys.features.redis import redis_errors
from dubbo_recsys.interfaces.events import (
    EventError,
    EventErrorReason,
    ItemEvent,
    UserEvent,
    decode_item_event,
    decode_user_event,
)
from dubbo_recsys.realtime.effects import Delivery, Status
from dubbo_recsys.realtime.sink import ApplyReport, RedisEventSink
from dubbo_recsys.realtime.source import DeadLetter, EventKind, EventSource, Record

__all__ = ["FRESHNESS_BUCKETS", "ConsumerStats", "EventConsumer", "StatsPublisher", "decode_records"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# seconds from an event's ts to its application in Redis (the consumer's part of freshness)
FRESHNESS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class ConsumerStats:
    """Counters of one consumer process since it started; JSON-ready for the stats key."""

    consumer: str
    source: str  # "kafka" or "redis"
    group: str
    applied: int = 0  # user events applied now (NEW)
    redelivered: int = 0  # handed out again after a crash, already applied
    duplicates: int = 0  # the same event id from another position
    items_upserted: int = 0
    items_removed: int = 0
    late: int = 0  # positive events too old for the trend window
    dead_lettered: dict[str, int] = field(default_factory=dict)  # by reason
    batches: int = 0
    store_errors: int = 0  # failed steps (Redis writes, dead letters, commits), each retried until it succeeds
    last_event_ts: int = 0  # ts of the newest applied event, epoch ms
    last_applied_at: float = 0.0  # when the last batch was applied, epoch seconds
    freshness: list[int] = field(default_factory=lambda: [0] * (len(FRESHNESS_BUCKETS) + 1))
    freshness_sum: float = 0.0
    lag: dict[str, int] = field(default_factory=dict)  # per partition held
    started_at: float = field(default_factory=time.time)

    def record(self, report: ApplyReport, letters: Sequence[DeadLetter], now: float) -> None:
        self.batches += 1
        self.applied += report.new
        self.redelivered += report.redelivered
        self.duplicates += report.duplicates
        self.items_upserted += report.items_upserted
        self.items_removed += report.items_removed
        self.late += report.late
        for letter in letters:
            self.dead_lettered[letter.reason.value] = self.dead_lettered.get(letter.reason.value, 0) + 1
        for delivery, status in report.statuses:
            if status is Status.NEW:
                self._fresh(now - delivery.event.ts / 1000.0)
                self.last_event_ts = max(self.last_event_ts, delivery.event.ts)
        self.last_applied_at = now

    def _fresh(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.freshness[bisect_left(FRESHNESS_BUCKETS, seconds)] += 1
        self.freshness_sum += seconds

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "source": self.source,
            "group": self.group,
            "applied": self.applied,
            "redelivered": self.redelivered,
            "duplicates": self.duplicates,
            "itemsUpserted": self.items_upserted,
            "itemsRemoved": self.items_removed,
            "late": self.late,
            "deadLettered": dict(self.dead_lettered),
            "batches": self.batches,
            "storeErrors": self.store_errors,
            "lastEventTs": self.last_event_ts,
            "lastAppliedAt": self.last_applied_at,
            "freshnessBuckets": list(FRESHNESS_BUCKETS),
            "freshness": list(self.freshness),
            "freshnessSum": self.freshness_sum,
            "lag": dict(self.lag),
            "startedAt": self.started_at,
            "publishedAt": now,
        }


def decode_records(
    records: Sequence[Record], now_ms: int, future_skew_ms: int
) -> tuple[list[Delivery], list[DeadLetter]]:
    """Valid events in order, and the refused records with their reasons."""
    deliveries: list[Delivery] = []
    letters: list[DeadLetter] = []
    horizon = now_ms + future_skew_ms
    for record in records:
        try:
            event: UserEvent | ItemEvent = (
                decode_user_event(record.value) if record.kind is EventKind.USER else decode_item_event(record.value)
            )
        except EventError as exc:
            letters.append(DeadLetter(record, exc.reason, str(exc)))
            continue
        if event.ts > horizon:
            letters.append(
                DeadLetter(record, EventErrorReason.TS_OUT_OF_RANGE, f"ts {event.ts} is ahead of the consumer's clock")
            )
            continue
        deliveries.append(Delivery(record.position, event))
    return deliveries, letters


class _Batch(NamedTuple):
    records: list[Record]
    deliveries: list[Delivery]
    letters: list[DeadLetter]


class EventConsumer:
    """Runs the recipe of the module docstring until stopped."""

    def __init__(
        self,
        source: EventSource,
        sink: RedisEventSink,
        stats: ConsumerStats,
        *,
        batch_size: int = 5000,
        poll_wait: float = 0.05,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.sink = sink
        self.stats = stats
        self.batch_size = batch_size
        self.poll_wait = poll_wait
        self._clock = clock
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def loop(self) -> None:
        """Run batches until ``stop()`` (the caller starts and closes the source; what was not committed
        when it stops is redelivered to the next member).

        The next batch is fetched and decoded while Redis applies the current one (the broker's fetch
        runs in a thread, decoding while the event loop would wait for Redis): at most two batches are
        in hand, and each is committed only after its own write."""
        ahead: asyncio.Task[_Batch] | None = None
        try:
            while not self._stop.is_set():
                batch = await ahead if ahead is not None else await self._next()
                ahead = asyncio.ensure_future(self._next()) if batch.records else None
                await self._finish(batch)
        finally:
            if ahead is not None:
                with contextlib.suppress(Exception):
                    await ahead  # fetched, never applied nor committed: redelivered to whoever comes next

    async def step(self) -> int:
        """One batch, fetched and applied; returns how many records it handled (0 when the broker had none)."""
        batch = await self._next()
        await self._finish(batch)
        return len(batch.records)

    async def _next(self) -> _Batch:
        records = await self.source.poll(self.batch_size, self.poll_wait)
        self.stats.lag = dict(self.source.lag())
        skew_ms = self.sink.config.future_skew_seconds * 1000
        deliveries, letters = decode_records(records, int(self._clock() * 1000), skew_ms) if records else ([], [])
        return _Batch(records, deliveries, letters)

    async def _finish(self, batch: _Batch) -> None:
        records, deliveries, letters = batch
        if not records:
            return
        report = await self._until_done("applying events", lambda: self.sink.apply(deliveries))
        if not isinstance(report, ApplyReport):  # stopped while Redis was down: nothing committed, all redelivered
            return
        applied_at = self._clock()
        if letters:
            for letter in letters:
                log.warning("dead-lettered %s: %s", letter.record.position.token, letter.message)
            if await self._until_done("writing dead letters", lambda: self.source.dead_letter(letters)) is None:
                return
        if await self._until_done("committing", lambda: self.source.commit(records)) is None:
            return
        self.stats.record(report, letters, applied_at)

    async def _until_done(self, what: str, call: Callable[[], Awaitable[T]]) -> T | _Done | None:
        """``call()`` again, with a growing pause, until it succeeds or the consumer stops (then None).

        Every step is safe to repeat (the sink is idempotent, a dead letter may appear twice, a commit
        is a commit): a broker or Redis outage stalls the consumer, it does not stop it or skip a batch."""
        delay = 0.1
        while True:
            try:
                result = await call()
                return _DONE if result is None else result
            except Exception as exc:  # Redis (FeatureStoreError), the broker (KafkaSourceError, RedisStoreError)
                self.stats.store_errors += 1
                log.warning("%s failed, retrying in %.1fs: %s", what, delay, exc)
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
                return None
            except TimeoutError:
                delay = min(delay * 2, 5.0)


class _Done:
    """What ``_until_done`` returns for a call that succeeded with no value (None means: stopped)."""


_DONE = _Done()


class StatsPublisher:
    """Writes a consumer's stats to Redis (``rt:{stats}``) every ``interval`` seconds; failures are logged."""

    def __init__(self, client: Any, layout: KeyLayout, stats: ConsumerStats, interval: float = 1.0) -> None:
        self._client = client
        self._layout = layout
        self.stats = stats
        self.interval = interval

    async def publish(self) -> None:
        now = time.time()
        value = json.dumps(self.stats.as_json(now), separators=(",", ":"))
        name = self.stats.consumer
        with redis_errors("publish consumer stats"):
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.set(self._layout.consumer_stats(name), value, ex=STATS_TTL_SECONDS)
                pipe.zadd(self._layout.consumers(), {name: now})
                pipe.zremrangebyscore(self._layout.consumers(), "-inf", now - STATS_TTL_SECONDS)
                await pipe.execute()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.publish()
            except FeatureStoreError as exc:
                log.warning("consumer stats not published: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
        with contextlib.suppress(FeatureStoreError):
            await self.publish()  # the final counts
