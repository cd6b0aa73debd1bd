"""How many events one ``dubbo-recsys consume`` process applies to Redis per second, and what limits it.

    python bench/realtime/bench_throughput.py [--events 200000] [--batch-sizes 2000,5000] [--partitions 4]

What runs, all on 127.0.0.1: the Kafka broker (``KAFKA_BOOTSTRAP``, or one started by
tests/kafka-server/kafka.sh), a private ``redis-server``, and per batch size a fresh 4-partition topic
filled beforehand with ``--events`` user events (ML-100K's 943 users and 1,682 items, the action mix of
tests/realtime/workload.py: clicks, plays, ratings, purchases, exposures, dislikes). Then one
``dubbo-recsys consume`` process drains it; the rate is counted from its first applied event to its
last (the users' applied counters in Redis, read every 0.2 s), and the CPU seconds of the consumer,
Redis (``INFO cpu``) and the broker over that span are divided by the events.

Reference, measured in the same run on the same topic: a plain confluent-kafka consumer in this
process that only fetches and decodes (``interfaces.events.decode_user_event``) every event: the
rate with no Redis write at all. ``capacity`` is one core's worth of the busiest process
(1e6 / its CPU us per event): the rate when each process has a core of its own, which the shared
two-core machine of the figures rarely gives. Bounded: each drain stops after 180 s.

Target: one consumer process applies >= 20,000 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import cpu_seconds, kafka_broker, load_average, redis_cpu_seconds  # noqa: E402 - imported after the sys.path lines above

from dubbo_recsys.interfaces.events import decode_user_event  # noqa: E402 - imported after the sys.path lines above
from dubbo_recsys.realtime.effects import RealtimeConfig  # noqa: E402 - imported after the sys.path lines above
from tests.funnel.peers import RedisServer  # noqa: E402 - imported after the sys.path lines above
from tests.realtime.peers import consume_command, consumer_process, produce, topics_on  # noqa: E402 - imported after the sys.path lines above
from tests.realtime.workload import make_workload  # noqa: E402 - imported after the sys.path lines above

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TARGET = 20_000


def decode_only(bootstrap: str, topic: str, expected: int) -> dict[str, float]:
    """The reference: fetch and decode every record, write nothing."""
    import uuid

    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"ref-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen, started, cpu0 = 0, None, 0.0
    deadline = time.monotonic() + 180
    while seen < expected and time.monotonic() < deadline:
        batch = consumer.consume(5000, 0.5)
        if batch and started is None:
            started, cpu0 = time.perf_counter(), time.process_time()
        for message in batch:
            if message.error() is None:
                decode_user_event(message.value())
                seen += 1
    elapsed, cpu = time.perf_counter() - (started or time.perf_counter()), time.process_time() - cpu0
    consumer.close()
    return {"events_per_s": seen / max(elapsed, 1e-9), "cpu_us": cpu * 1e6 / max(seen, 1)}


async def applied(client: Any, users: Sequence[str], layout: Any) -> int:
    async with client.pipeline(transaction=False) as pipe:
        for user in users:
            pipe.hget(layout.realtime_user(user, "cnt"), "_events")
        return sum(int(v or 0) for v in await pipe.execute())


async def drain(
    command: list[str], redis_url: str, prefix: str, users: Sequence[str], expected: int, broker_pid: int | None
) -> dict[str, float]:
    import redis

    from dubbo_recsys.features.redis import RedisConfig, close_client

    config = RedisConfig(url=redis_url, prefix=prefix)
    client, sync = config.client(), redis.Redis.from_url(redis_url)
    try:
        with consumer_process(command, timeout=120) as process:
            first, deadline = 0, time.monotonic() + 180
            while first == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
                first = await applied(client, users, config.layout)
            t0, c0, r0 = time.perf_counter(), cpu_seconds(process.pid), redis_cpu_seconds(sync)
            b0 = cpu_seconds(broker_pid) if broker_pid else 0.0
            done = first
            while done < expected and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                done = await applied(client, users, config.layout)
            t1, c1, r1 = time.perf_counter(), cpu_seconds(process.pid), redis_cpu_seconds(sync)
            b1 = cpu_seconds(broker_pid) if broker_pid else 0.0
    finally:
        await close_client(client)
        sync.close()
    events = done - first
    return {
        "events": events,
        "complete": float(done >= expected),
        "events_per_s": events / (t1 - t0),
        "consumer_cpu_us": (c1 - c0) * 1e6 / events,
        "redis_cpu_us": (r1 - r0) * 1e6 / events,
        "broker_cpu_us": (b1 - b0) * 1e6 / events if broker_pid else float("nan"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch-sizes", default="2000,5000")
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args(argv)
    config = RealtimeConfig()
    rows, loads = [], [load_average()]
    with kafka_broker() as (bootstrap, broker_pid):
        redis_server = RedisServer()
        redis_server.start()
        try:
            for batch in (int(b) for b in args.batch_sizes.split(",")):
                prefix = f"bench{batch}-{int(time.time())}"
                topics = topics_on("kafka", bootstrap, prefix, partitions=args.partitions)
                work = make_workload(
                    seed=batch,
                    events=args.events,
                    users=943,
                    items=1682,
                    now_ms=int(time.time() * 1000),
                    config=config,
                    duplicate_rate=0.0,
                    malformed_rate=0.0,
                )
                produce(bootstrap, topics.events.users_topic, work.records)
                reference = decode_only(bootstrap, topics.events.users_topic, len(work.records))
                command = consume_command(topics.url, redis_server.url, prefix, "--batch-size", str(batch))
                result = asyncio.run(
                    drain(command, redis_server.url, prefix, sorted(work.counters), work.distinct, broker_pid)
                )
                busiest = max(result["consumer_cpu_us"], result["redis_cpu_us"])
                rows.append(
                    {
                        "batch": batch,
                        **result,
                        "capacity": 1e6 / busiest,
                        "reference_per_s": reference["events_per_s"],
                        "reference_cpu_us": reference["cpu_us"],
                    }
                )
                loads.append(load_average())
                print(rows[-1], flush=True)
        finally:
            redis_server.close()
    write_results(rows, loads, argv if argv is not None else sys.argv[1:], args.events)
    return 0


def write_results(rows: list[dict[str, float]], loads: list[str], argv: Sequence[str], events: int) -> None:
    lines = [
        "| batch | applied events/s | consumer CPU us/event | Redis CPU us/event | broker CPU us/event | "
        "capacity (1 core each) | reference: fetch + decode only, events/s (CPU us/event) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {int(r['batch'])} | {r['events_per_s']:,.0f}{'' if r['complete'] else ' (incomplete)'} "
        f"| {r['consumer_cpu_us']:.1f} | {r['redis_cpu_us']:.1f} | {r['broker_cpu_us']:.1f} "
        f"| {r['capacity']:,.0f} | {r['reference_per_s']:,.0f} ({r['reference_cpu_us']:.1f}) |"
        for r in rows
    ]
    section = "\n".join(
        [
            "## Throughput: one consumer process, Kafka -> Redis",
            "",
            f"`python bench/realtime/bench_throughput.py {' '.join(argv)}`".rstrip()
            + f" ({events:,} events per batch size); "
            f"load average (1, 5, 15 min) before and after each run: {' -> '.join(loads)}. "
            f"Target >= {TARGET:,} events/s.",
            "",
            *lines,
            "",
        ]
    )
    _replace_section(section, "## Throughput")


def _replace_section(section: str, heading: str) -> None:
    """Write ``section`` into RESULTS.md in place of the one under ``heading`` (other sections stay)."""
    text = RESULTS.read_text() if RESULTS.exists() else "# bench/realtime results\n\n"
    start = text.find(heading)
    if start < 0:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    RESULTS.write_text(text.rstrip() + "\n")


if __name__ == "__main__":
    sys.exit(main())
