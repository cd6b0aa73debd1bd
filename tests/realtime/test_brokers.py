"""The consumer against the real brokers (Kafka, and Redis Streams) and the real Redis: exact counters
after SIGKILLs, dead letters with their reasons, two consumers splitting a group's partitions."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from typing import Any

import pytest

from dubbo_recsys.features.realtime import RealtimeReader
from dubbo_recsys.realtime.effects import RealtimeConfig
from tests.realtime.peers import Topics, applied_events, consume_command, consumer_process, topics_on, wait_for
from tests.realtime.workload import make_workload
from tests.support import require_env

pytestmark = pytest.mark.redis
# (broker, the Redis the state goes to: tests/features/conftest.SPACE_URLS). Redis Streams run on one Redis and
# on the Redis Cluster (the stream source and the sink are what a cluster changes); Kafka on one Redis only: with
# Kafka the Redis side is the same sink, and the run stays within its CI time.
BROKERS = [pytest.param("kafka", "redis", marks=pytest.mark.kafka), ("redis", "redis"), ("redis", "cluster")]
CONFIG = RealtimeConfig(last_n=5, bucket_seconds=60, trend_window_seconds=3600)
STATUS = re.compile(r"^\d\d:\d\d:\d\d consume: (\d+) user events applied \(\+\d+\), \d+ duplicates, \d+ dead-lettered")


async def check_state(space: Any, work: Any, now_ms: int) -> None:
    """Every counter, lastN and trend weight equals the workload's expected values."""
    reader = RealtimeReader(space.client, space.layout, last_n=CONFIG.last_n)
    for user, expected in work.counters.items():
        found = await reader.counters(user)
        assert {k: v for k, v in found.items() if not k.startswith("_") and k != "last_ts"} == dict(expected), user
        assert found["_events"] == sum(expected.values()), user
    users = sorted(work.counters)
    assert await reader.recent_items(users) == [work.last_n.get(u, []) for u in users]
    for bucket, expected in work.trend.items():
        weights = dict(await reader.trending([bucket], 10_000))
        assert weights == expected, bucket


def topics(broker: str, space: Any) -> Topics:
    address = require_env("KAFKA_BOOTSTRAP") if broker == "kafka" else space.url
    return topics_on(broker, address, space.prefix, partitions=4)


@pytest.mark.asyncio
@pytest.mark.parametrize("broker, redis_space", BROKERS, indirect=["redis_space"])
async def test_sigkill_mid_stream_loses_nothing_and_counts_nothing_twice(broker: str, redis_space: Any) -> None:
    kafka = topics(broker, redis_space)
    now_ms = int(time.time() * 1000)
    work = make_workload(seed=13, events=12_000, users=60, items=300, now_ms=now_ms, config=CONFIG)
    await kafka.produce(work.records)
    command = consume_command(
        kafka.url,
        redis_space.url,
        redis_space.prefix,
        "--batch-size",
        "100",
        "--last-n",
        str(CONFIG.last_n),
        "--member",
        "restarted",  # back under the same name, it gets its partitions again at once
        "--log-every",
        "0.5",
    )
    users = sorted(work.counters)
    kills = []
    for fraction in (0.15, 0.45, 0.75):  # three consumers killed with SIGKILL part way through
        with consumer_process(command) as process:
            target = int(work.distinct * fraction)

            async def far_enough(target: int = target) -> bool:
                return await applied_events(redis_space.client, redis_space.layout, users) >= target

            await wait_for(far_enough, 60, f"{target} events applied")
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            kills.append(await applied_events(redis_space.client, redis_space.layout, users))
    assert all(0 < applied < work.distinct for applied in kills), kills  # each kill was mid-stream
    with consumer_process(command) as process:

        async def all_applied() -> bool:
            return await applied_events(redis_space.client, redis_space.layout, users) >= work.distinct

        await wait_for(all_applied, 90, "every event applied")
        await asyncio.sleep(1.0)  # anything still redelivered would land now and break the counts below
        await check_state(redis_space, work, now_ms)
        # the consumer says what it does: a time-stamped line every --log-every seconds, never a bar
        # (the first lines may come before the group gave it partitions: read on to the one that counts them)
        assert process.stdout is not None
        applied, statuses = 0, 0
        while applied == 0 and statuses < 40:  # a line every 0.5 s: 20 s at most
            line = process.stdout.readline()
            assert line and "\r" not in line, line
            if found := STATUS.match(line):
                statuses += 1
                applied = int(found[1])
        assert applied > 0, line
    letters = await kafka.dead_letters(work.malformed)
    assert len({source for _, source in letters}) == work.malformed  # each malformed record (one may repeat)
    assert {reason for reason, _ in letters} == {"missing_field"}


@pytest.mark.asyncio
@pytest.mark.parametrize("broker, redis_space", BROKERS, indirect=["redis_space"])
async def test_two_consumers_in_one_group_split_the_partitions(broker: str, redis_space: Any) -> None:
    kafka = topics(broker, redis_space)
    now_ms = int(time.time() * 1000)
    work = make_workload(seed=5, events=6000, users=40, items=200, now_ms=now_ms, config=CONFIG, malformed_rate=0)
    reader = RealtimeReader(redis_space.client, redis_space.layout, last_n=CONFIG.last_n)
    command = consume_command(kafka.url, redis_space.url, redis_space.prefix, "--last-n", str(CONFIG.last_n))
    with consumer_process([*command, "--member", "one"]), consumer_process([*command, "--member", "two"]):

        async def both_hold_partitions() -> bool:
            stats = await reader.consumer_stats()
            return len(stats) == 2 and all(s["lag"] for s in stats)

        await wait_for(both_hold_partitions, 60, "both members assigned")
        await kafka.produce(work.records)
        users = sorted(work.counters)

        async def all_applied() -> bool:
            return await applied_events(redis_space.client, redis_space.layout, users) >= work.distinct

        await wait_for(all_applied, 60, "every event applied")
        await asyncio.sleep(1.5)  # the last stats publication
        stats = {s["consumer"]: s for s in await reader.consumer_stats()}
    held = {name: {p for p in s["lag"] if kafka.events.users_topic in p} for name, s in stats.items()}
    assert held["one"] and held["two"] and not held["one"] & held["two"]
    assert len(held["one"] | held["two"]) == 4
    assert stats["one"]["applied"] > 0 and stats["two"]["applied"] > 0
    assert stats["one"]["applied"] + stats["two"]["applied"] == work.distinct
    await check_state(redis_space, work, now_ms)
    assert Counter(dict(await reader.trending(CONFIG.buckets(now_ms), 10_000))) == work.total_trend
