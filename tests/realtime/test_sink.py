"""The Redis writes of a batch of events, against a real Redis: idempotence, order, trend marks, live items."""

from __future__ import annotations

from typing import Any

import pytest
from redis.crc import key_slot

from dubbo_recsys.features.realtime import RealtimeReader
from dubbo_recsys.features.redis import RedisSeenFilter
from dubbo_recsys.interfaces.events import Action, ItemEvent, ItemOp, UserEvent
from dubbo_recsys.realtime.effects import Delivery, Position, RealtimeConfig, Status
from dubbo_recsys.realtime.sink import RedisEventSink

NOW_MS = 1_733_400_000_000
CONFIG = RealtimeConfig(last_n=3, dedup_ids=5, bucket_seconds=60, trend_window_seconds=600)


def click(
    n: int, user: str = "u1", item: str | None = None, action: Action = Action.CLICK, ts: int | None = None
) -> UserEvent:
    return UserEvent(f"e{n}", user, item or f"i{n}", action, NOW_MS + n if ts is None else ts)


def at(offset: int, event: Any, partition: str = "users:0") -> Delivery:
    return Delivery(Position(partition, offset), event)


def sink_of(space: Any) -> RedisEventSink:
    return RedisEventSink(space.client, space.layout, CONFIG, clock=lambda: NOW_MS / 1000)


@pytest.mark.asyncio
async def test_events_apply_once_whatever_is_delivered_twice(redis_space: Any) -> None:
    sink, reader = sink_of(redis_space), RealtimeReader(redis_space.client, redis_space.layout, last_n=3)
    batch = [at(0, click(0)), at(1, click(1, action=Action.PLAY)), at(2, click(2, action=Action.EXPOSURE))]
    first = await sink.apply(batch)
    assert [s for _, s in first.statuses] == [Status.NEW] * 3 and first.new == 3
    again = await sink.apply(batch)  # the broker redelivers after a crash: same ids, same positions
    assert [s for _, s in again.statuses] == [Status.REDELIVERED] * 3
    copy = await sink.apply([at(7, click(0))])  # the producer sent e0 twice: same id, another position
    assert [s for _, s in copy.statuses] == [Status.DUPLICATE]
    assert await reader.counters("u1") == {"click": 1, "play": 1, "exposure": 1, "_events": 3, "last_ts": NOW_MS + 2}
    assert (await reader.recent_items(["u1"]))[0] == ["i1", "i0"]  # exposure marks seen, not lastN


@pytest.mark.asyncio
async def test_last_n_is_ordered_by_time_not_arrival(redis_space: Any) -> None:
    sink, reader = sink_of(redis_space), RealtimeReader(redis_space.client, redis_space.layout, last_n=3)
    await sink.apply([at(0, click(0, ts=NOW_MS + 50)), at(1, click(1, ts=NOW_MS + 10))])
    assert (await reader.recent_items(["u1"]))[0] == ["i0", "i1"]  # i1 arrived later but happened earlier
    await sink.apply([at(2, click(2, ts=NOW_MS + 60)), at(3, click(3, ts=NOW_MS + 70))])
    assert (await reader.recent_items(["u1"]))[0] == ["i3", "i2", "i0"]  # the oldest fell off (N = 3)
    await sink.apply([at(4, click(4, ts=NOW_MS))])  # older than the N newest: dropped at once
    assert (await reader.recent_items(["u1"]))[0] == ["i3", "i2", "i0"]
    await sink.apply([at(5, click(5, item="i0", ts=NOW_MS + 1))])  # an old repeat never moves an item back
    assert (await reader.recent_items(["u1"]))[0] == ["i3", "i2", "i0"]
    await sink.apply([at(6, click(6, item="i2", action=Action.DISLIKE))])
    assert (await reader.recent_items(["u1"]))[0] == ["i3", "i0"]


@pytest.mark.asyncio
async def test_events_of_one_millisecond_keep_their_arrival_order(redis_space: Any) -> None:
    # the build orders a user's events of one timestamp by their place in the log; a ZSET would order them
    # by member, so "i9" would always come out newer than "i10" whatever the order they happened in
    sink, reader = sink_of(redis_space), RealtimeReader(redis_space.client, redis_space.layout, last_n=3)
    await sink.apply([at(0, click(0, item="i9", ts=NOW_MS)), at(1, click(1, item="i10", ts=NOW_MS))])
    assert (await reader.recent_items(["u1"]))[0] == ["i10", "i9"]
    await sink.apply([at(2, click(2, item="i8", ts=NOW_MS))])  # a later batch, the same millisecond
    assert (await reader.recent_items(["u1"]))[0] == ["i8", "i10", "i9"]
    await sink.apply([at(3, click(3, item="i7", ts=NOW_MS - 1))])  # an earlier millisecond stays older
    assert (await reader.recent_items(["u1"]))[0] == ["i8", "i10", "i9"]
    scores = await redis_space.client.zrange(redis_space.layout.realtime_user("u1", "last"), 0, -1, withscores=True)
    assert all(int(score) == NOW_MS for _, score in scores)  # the timestamp is the score's whole part


@pytest.mark.asyncio
async def test_the_seen_filter_reader_sees_the_bits(redis_space: Any) -> None:
    sink = sink_of(redis_space)
    await sink.apply([at(0, click(0, item="42", action=Action.EXPOSURE)), at(1, click(1, item="43", user="u2"))])
    seen = RedisSeenFilter(redis_space.client, redis_space.layout, CONFIG.seen)
    assert await seen.might_contain("u1", ["42", "43"]) == [True, False]
    assert await seen.might_contain("u2", ["42", "43"]) == [False, True]
    assert 0 < await redis_space.client.ttl(seen.key("u1")) <= CONFIG.seen.ttl_seconds


@pytest.mark.asyncio
async def test_dedup_memory_is_bounded_per_user(redis_space: Any) -> None:
    sink = sink_of(redis_space)
    await sink.apply([at(n, click(n)) for n in range(12)])
    layout = redis_space.layout
    assert await redis_space.client.zcard(layout.realtime_user("u1", "ev")) == CONFIG.dedup_ids
    assert await redis_space.client.hlen(layout.realtime_user("u1", "evpos")) == CONFIG.dedup_ids
    assert [s for _, s in (await sink.apply([at(11, click(11))])).statuses] == [Status.REDELIVERED]


@pytest.mark.asyncio
async def test_trend_counts_each_position_once_per_partition(redis_space: Any) -> None:
    sink, reader = sink_of(redis_space), RealtimeReader(redis_space.client, redis_space.layout)
    batch = [
        at(n, click(n, user=f"u{n}", item="hit", action=Action.PURCHASE if n == 3 else Action.CLICK)) for n in range(4)
    ]
    batch.append(at(0, click(9, user="u9", item="other"), partition="users:1"))
    report = await sink.apply(batch)
    assert report.trend_counted == 5
    buckets = CONFIG.buckets(NOW_MS)
    assert await reader.trending(buckets, 10) == [("hit", 5.0), ("other", 1.0)]
    # after a crash before the commit the broker hands out positions 2.. again: the user script says
    # REDELIVERED, the trend marks skip what was counted; a new position is counted
    again = await sink.apply([*batch[2:4], at(4, click(4, user="u4", item="hit"))])
    assert again.redelivered == 2 and again.new == 1 and again.trend_counted == 1
    assert await reader.trending(buckets, 1) == [("hit", 6.0)]


@pytest.mark.asyncio
async def test_events_older_than_the_window_are_late_for_trending(redis_space: Any) -> None:
    sink, reader = sink_of(redis_space), RealtimeReader(redis_space.client, redis_space.layout)
    report = await sink.apply([at(0, click(0, ts=NOW_MS - 3_600_000))])
    assert report.new == 1 and report.late == 1 and report.trend_counted == 0
    assert await reader.trending(CONFIG.buckets(NOW_MS), 10) == []
    assert (await reader.recent_items(["u1"]))[0] == ["i0"]


@pytest.mark.asyncio
async def test_live_items_last_writer_by_time_wins(redis_space: Any) -> None:
    sink, reader = sink_of(redis_space), RealtimeReader(redis_space.client, redis_space.layout)
    upsert = ItemEvent("a", "9001", ItemOp.UPSERT, 100, {"category": "Comedy", "categories": ["Comedy"]})
    older = ItemEvent("b", "9001", ItemOp.UPSERT, 50, {"category": "Drama"})
    remove = ItemEvent("c", "9002", ItemOp.REMOVE, 70)
    report = await sink.apply([at(0, upsert, "items:0"), at(1, older, "items:0"), at(2, remove, "items:0")])
    assert report.items_changed == 2 and report.items_upserted == 2 and report.items_removed == 1
    assert (await sink.apply([at(0, upsert, "items:0")])).items_changed == 0  # redelivered: no change
    live = await reader.live_changes(0)
    assert [(i.item.item_id, i.item.category, i.removed, i.seq) for i in live] == [
        ("9001", "Comedy", False, 1),
        ("9002", "", True, 2),
    ]
    since_60, cursor = await reader.live_items_since(60)
    assert [i.item.item_id for i in since_60] == ["9001", "9002"] and cursor == 2
    assert [i.item.item_id for i in (await reader.live_items_since(80))[0]] == ["9001"]
    assert await reader.live_changes(2) == []


def test_every_key_of_one_user_is_in_one_cluster_slot() -> None:
    from dubbo_recsys.features.codec import KeyLayout

    layout = KeyLayout("recsys")
    for user in ("196", "user:with:colons", "a}b", "{x}"):
        keys = [layout.realtime_user(user, part) for part in ("last", "cnt", "ev", "evpos")]
        keys.append(layout.seen(user, 19171, 7))
        assert len({key_slot(k.encode()) for k in keys}) == 1, keys
    assert (
        len({key_slot(layout.trend_bucket(b).encode()) for b in range(50)} | {key_slot(layout.trend_marks(3).encode())})
        == 1
    )
    assert len({key_slot(layout.live(part).encode()) for part in ("items", "ts", "log", "seq")}) == 1
