"""``dubbo-recsys load``: stream an artifact directory's features into Redis.

    dubbo-recsys load --artifacts DIR --redis redis://127.0.0.1:6379/0 [--prefix recsys] [--ttl 604800]
    dubbo-recsys load --artifacts DIR --redis 'redis+cluster://10.0.0.5:7000,10.0.0.6:7000?wait_replicas=1'

Reads ``features/users.jsonl`` then ``features/items.jsonl`` line by line and
writes each entity as one packed value (``features.keys`` documents the keys)
with ``SET key value EX ttl``, ``--batch-size`` commands per pipeline: one round
trip per batch (on a cluster one pipeline per master, concurrently), and memory
bounded by one batch whatever the catalog size. With ``?wait_replicas=N`` in the
URL each batch is acknowledged only once N replicas of every master it wrote to
hold it (``features.redis.execute_writes``). The meta key is written last, so its
presence says a load completed. Progress is logged (logger
``dubbo_recsys.features.load``) every few seconds and at the end of each table, one
line each (the CLI prints them time-stamped on stderr).

Loading over an earlier load replaces the values of the ids it holds; ids that
are no longer in the artifact keep their old value until their TTL runs out.
This module is imported by ``dubbo-recsys --help``: redis is imported in ``run``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dubbo_recsys.features.artifacts import ArtifactFeatures
from dubbo_recsys.features.base import FeatureStoreError
from dubbo_recsys.features.codec import Encoding, item_to_row, meta_value, row_codec, user_to_row
from dubbo_recsys.features.keys import DEFAULT_PREFIX, FORMAT_VERSION, KeyLayout

DEFAULT_TTL = 7 * 24 * 3600
log = logging.getLogger(__name__)

DEFAULT_BATCH = 1000
MAX_BATCH = 100_000  # memory is bounded by one batch, so the batch is bounded too


@dataclass(frozen=True, slots=True)
class LoadReport:
    users: int
    items: int
    seconds: float


class _Progress:
    """Logs ``what: n loaded (rate/s)`` at most once per ``every`` seconds, and once when done."""

    def __init__(self, enabled: bool, every: float = 5.0) -> None:
        self._enabled = enabled
        self._every = every
        self._started = self._last = time.monotonic()

    def update(self, what: str, count: int, final: bool = False) -> None:
        now = time.monotonic()
        if not self._enabled or (not final and now - self._last < self._every):
            return
        self._last = now
        seconds = now - self._started
        rate = count / max(seconds, 1e-9)
        done = f" done in {seconds:.1f} s" if final else ""
        log.info("load %s: %d loaded (%s/s)%s", what, count, f"{rate:,.0f}", done)


async def load_artifacts(
    artifact: ArtifactFeatures,
    client: Any,
    layout: KeyLayout,
    *,
    ttl: int | None = DEFAULT_TTL,
    batch_size: int = DEFAULT_BATCH,
    progress: bool = False,
    ack: Any = None,
) -> LoadReport:
    """Write every user and item of ``artifact`` under ``layout``; returns the counts.

    ``client`` is what ``RedisConfig.client()`` makes (one Redis or a cluster); ``ack`` a
    ``features.redis.WriteAck`` or None. Raises ``FeatureStoreError`` for a bad artifact
    line (the entities before it are already written) or a Redis failure.
    """
    from dubbo_recsys.features.redis import execute_writes

    if batch_size < 1:
        raise FeatureStoreError(f"batch size must be >= 1, got {batch_size}")
    if ttl is not None and ttl < 1:
        raise FeatureStoreError(f"ttl must be >= 1 second or None, got {ttl}")
    codec = row_codec(Encoding.MSGPACK)
    started = time.monotonic()

    async def write(
        name: str, entities: Iterable[Any], key: Callable[[str], str], to_row: Callable[[Any], list[Any]]
    ) -> int:
        meter = _Progress(progress)
        count = 0
        batch: list[tuple[str, bytes]] = []

        async def flush() -> None:
            expiry = () if ttl is None else ("EX", ttl)
            await execute_writes(client, [("SET", k, v, *expiry) for k, v in batch], ack, f"SET ({name})")
            batch.clear()

        for entity in entities:
            row = to_row(entity)
            batch.append((key(row[0]), codec.encode(row)))
            if len(batch) >= batch_size:
                await flush()
                count += batch_size
                meter.update(name, count)
        if batch:
            count += len(batch)
            await flush()
        meter.update(name, count, final=True)
        return count

    users = await write("users", artifact.users(), layout.user, user_to_row)
    items = await write("items", artifact.items(), layout.item, item_to_row)
    loaded_at = datetime.now(UTC).isoformat(timespec="seconds")
    expiry = () if ttl is None else ("EX", ttl)
    meta = meta_value(artifact.manifest, users, items, loaded_at)
    await execute_writes(client, [("SET", layout.meta(), meta, *expiry)], ack, "SET meta")
    return LoadReport(users, items, time.monotonic() - started)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--artifacts", required=True, metavar="DIR", help="artifact directory from `dubbo-recsys build`"
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/0",
        metavar="URL",
        help="redis://host:port/db, or redis+cluster://host:port,host:port for a Redis Cluster; "
        "?wait_replicas=N: each batch waits until N replicas hold it (default: %(default)s)",
    )
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="key prefix (default: %(default)s)")
    parser.add_argument(
        "--ttl",
        type=int,
        default=DEFAULT_TTL,
        help="seconds before loaded keys expire; 0 = never (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH,
        help="SET commands per pipeline round trip (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    import asyncio

    async def main() -> LoadReport:
        from dubbo_recsys.features.redis import RedisConfig, close_client

        config = RedisConfig(url=args.redis, prefix=args.prefix, socket_timeout=10.0)
        artifact = ArtifactFeatures.open(args.artifacts)
        log.info("load: %s into Redis under %s: users, then items", args.artifacts, args.prefix)
        client = config.client()
        try:
            return await load_artifacts(
                artifact,
                client,
                config.layout,
                ttl=args.ttl or None,
                batch_size=args.batch_size,
                progress=not args.quiet,
                ack=config.write_ack,
            )
        finally:
            await close_client(client)

    if args.ttl < 0:
        sys.stderr.write("dubbo-recsys load: --ttl must be >= 0\n")
        return 2
    if not 1 <= args.batch_size <= MAX_BATCH:
        sys.stderr.write(f"dubbo-recsys load: --batch-size must be in 1..{MAX_BATCH}\n")
        return 2
    try:
        report = asyncio.run(main())
    except FeatureStoreError as exc:
        sys.stderr.write(f"dubbo-recsys load: {exc}\n")
        return 1
    sys.stdout.write(
        f"loaded {report.users} users and {report.items} items under {args.prefix}:v{FORMAT_VERSION}: "
        f"in {report.seconds:.1f}s\n"
    )
    return 0
