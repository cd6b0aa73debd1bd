"""``dubbo-recsys consume``: apply realtime user and item events to the feature store's Redis.

    dubbo-recsys consume --events kafka://127.0.0.1:9092 --redis redis://127.0.0.1:6379/0
    dubbo-recsys consume --events redis://127.0.0.1:6379/0?partitions=4 --redis redis://127.0.0.1:6379/0

Joins the consumer group of ``--events`` (``realtime.source`` documents the URL) and
applies every event to the realtime keys under ``--prefix`` (``features.realtime``
lists them); ``serve --realtime URL`` reads them. Run as many as the topic has
partitions, on any machines: the group splits the partitions between them.
``--create-topics N`` first creates the missing topics (Kafka: N partitions; Redis
Streams: the consumer groups). Prints ``consuming <broker> as <member>`` once the
group is joined; SIGTERM or SIGINT finishes the batch in hand, commits and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from typing import Any

__all__ = ["add_arguments", "add_realtime_arguments", "realtime_config_from_args", "run"]

log = logging.getLogger(__name__)


def add_realtime_arguments(parser: argparse.ArgumentParser) -> None:
    """The settings consumer and readers must agree on (also ``serve``'s, for ``--consume``)."""
    group = parser.add_argument_group("realtime state")
    group.add_argument("--last-n", type=int, default=50, help="lastN items kept per user (default 50, the build's)")
    group.add_argument("--bucket-seconds", type=int, default=60, help="trending bucket width in seconds (default 60)")
    group.add_argument(
        "--trend-window", type=int, default=3600, help="seconds of buckets trending reads (default 3600)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events",
        required=True,
        metavar="URL",
        help="kafka://HOST:PORT?users=..&items=..&dlq=..&group=.. or redis://HOST:PORT/DB?partitions=N (Redis Streams)",
    )
    parser.add_argument("--redis", required=True, metavar="URL", help="the Redis the realtime state goes to")
    parser.add_argument("--prefix", default="recsys", help="key prefix (default: %(default)s)")
    parser.add_argument(
        "--member",
        default="",
        help="this consumer's stable name in the group: restarted under it, it gets its partitions back at once "
        "(Kafka static membership); default HOST-PID",
    )
    parser.add_argument(
        "--batch-size", type=int, default=5000, help="most records per batch; a backlog fills it (default 5000)"
    )
    parser.add_argument(
        "--create-topics",
        type=int,
        default=0,
        metavar="N",
        help="create missing topics first: Kafka with N partitions, Redis Streams their groups (default 0: no)",
    )
    parser.add_argument("--dedup-ids", type=int, default=1000, help="event ids remembered per user (default 1000)")
    parser.add_argument(
        "--log-every",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="log what the consumer did (applied, dead-lettered, lag) every SECONDS (default 30; 0 = never)",
    )
    add_realtime_arguments(parser)


def realtime_config_from_args(args: argparse.Namespace, **extra: Any) -> Any:
    from dubbo_recsys.realtime.effects import RealtimeConfig

    return RealtimeConfig(
        last_n=args.last_n,
        bucket_seconds=args.bucket_seconds,
        trend_window_seconds=args.trend_window,
        **extra,
    )


async def _report(stats: Any, every: float) -> None:
    """One line every ``every`` seconds: what the consumer applied since the last line, and where it stands."""
    import asyncio

    applied = 0
    while True:
        await asyncio.sleep(every)
        dead = sum(stats.dead_lettered.values())
        log.info(
            "consume: %d user events applied (+%d), %d duplicates, %d dead-lettered, %d item events, lag %d",
            stats.applied,
            stats.applied - applied,
            stats.duplicates + stats.redelivered,
            dead,
            stats.items_upserted + stats.items_removed,
            sum(stats.lag.values()),
        )
        applied = stats.applied


def run(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from dubbo_recsys.features.base import FeatureStoreError
    from dubbo_recsys.features.redis import RedisConfig
    from dubbo_recsys.realtime.effects import RealtimeConfigError
    from dubbo_recsys.realtime.runner import ConsumerRunner
    from dubbo_recsys.realtime.source import EventsConfig

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    try:
        events = EventsConfig.parse(args.events)
        redis = RedisConfig(url=args.redis, prefix=args.prefix, socket_timeout=5.0)
        realtime = realtime_config_from_args(args, dedup_ids=args.dedup_ids)
        if not 1 <= args.batch_size <= 100_000:
            raise RealtimeConfigError(f"--batch-size must be in 1..100000, got {args.batch_size}")
    except (RealtimeConfigError, FeatureStoreError) as exc:
        print(f"dubbo-recsys consume: {exc}", file=sys.stderr)
        return 2
    member = args.member or f"{socket.gethostname()}-{os.getpid()}"
    runner = ConsumerRunner(events, redis, realtime, member, batch_size=args.batch_size, static=bool(args.member))
    log.info(
        "consume: %s topics %s and %s, group %s, as %s, into %s",
        events.broker,
        events.users_topic,
        events.items_topic,
        events.group,
        member,
        args.prefix,
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, runner.stop)
        if args.create_topics:
            await runner.create_topics(args.create_topics)
        reporter = asyncio.create_task(_report(runner.stats, args.log_every)) if args.log_every > 0 else None
        try:
            await runner.run(announce=lambda: print(f"consuming {events.broker} as {member}", flush=True))
        finally:
            if reporter is not None:
                reporter.cancel()

    try:
        asyncio.run(main())
    except (RealtimeConfigError, FeatureStoreError) as exc:
        print(f"dubbo-recsys consume: {exc}", file=sys.stderr)
        return 1
    return 0
