"""Fine-tune the serving two-tower on the interactions that arrived as events, as a new version.

Examples:
  dubbo-recsys refresh --artifact-root /srv/recsys --redis redis://127.0.0.1:6379/0
  dubbo-recsys refresh --artifact-root /srv/recsys --redis redis://... --prefix recsys --epochs 6

Reads every user's realtime lastN that ``dubbo-recsys consume`` keeps in Redis (``--prefix``,
the consumer's), takes the interactions the base version (``--base``, default the newest) has not
trained on, fine-tunes its towers warm (``offline/refresh.py``) and writes a new immutable version
under ROOT/versions/. Providers serving ROOT (``serve --artifact-root``) gate it and swap to it like
any build. Nothing is written when no interaction is new. Run it from cron or a loop, more often
than a user produces ``--last-n`` events (lastN holds only the newest).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "read_recent", "run"]

log = logging.getLogger("dubbo_recsys.offline")
BATCH = 500  # users per pipelined lastN read


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--artifact-root", required=True, metavar="ROOT", help="the root whose version is refreshed")
    parser.add_argument(
        "--redis", required=True, metavar="URL", help="the Redis the consumer writes the realtime state to"
    )
    parser.add_argument("--prefix", default="recsys", help="the consumer's key prefix (default: %(default)s)")
    parser.add_argument("--base", default=None, metavar="VERSION", help="the version to refresh (default: the newest)")
    parser.add_argument("--last-n", type=int, default=50, help="lastN length the consumer keeps (default 50)")
    parser.add_argument("--epochs", type=int, default=6, help="fine-tuning epochs (default 6)")
    parser.add_argument("--replay", type=float, default=10.0, help="old examples replayed per new one (default 10)")
    parser.add_argument("--learning-rate", type=float, default=0.003, help="Adam's, cosine-decayed (default 0.003)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--min-new", type=int, default=1, help="write no version below this many new interactions")
    parser.add_argument(
        "--no-rank",
        dest="rank",
        action="store_false",
        help="leave DIN, the light rankers and the fusion weights as the base has them (default: fine-tune the "
        "rankers on the same examples and refit the fusion on a validation refresh)",
    )
    parser.add_argument("--rank-epochs", type=int, default=3, help="the rankers' fine-tuning epochs (default 3)")
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="train the two-tower afresh on the base's log plus the new interactions (the build's epochs and rate; "
        "no warm start; several times slower)",
    )


async def read_recent(client: Any, layout: Any, users: Sequence[str], last_n: int) -> dict[str, list[str]]:
    """Each user's realtime lastN (newest first), users without one left out; pipelined in batches."""
    from dubbo_recsys.features.realtime import RealtimeReader

    reader = RealtimeReader(client, layout, last_n=last_n)
    recent: dict[str, list[str]] = {}
    for start in range(0, len(users), BATCH):
        batch = list(users[start : start + BATCH])
        found = await reader.recent_items(batch)
        recent.update((user, items) for user, items in zip(batch, found, strict=True) if items)
    return recent


def run(args: argparse.Namespace) -> int:
    import asyncio

    from dubbo_recsys.features.base import FeatureStoreError
    from dubbo_recsys.features.redis import RedisConfig, close_client
    from dubbo_recsys.interfaces.artifacts import ArtifactFormatError, list_versions, version_dir
    from dubbo_recsys.offline.errors import OfflineError
    from dubbo_recsys.offline.refresh import RefreshConfig, refresh_version

    root = Path(args.artifact_root)
    try:
        config = RefreshConfig(
            args.epochs,
            args.replay,
            args.learning_rate,
            args.seed,
            args.min_new,
            args.retrain,
            rank=args.rank,
            rank_epochs=args.rank_epochs,
        )
        redis = RedisConfig(url=args.redis, prefix=args.prefix, socket_timeout=5.0)
        versions = list_versions(root)
        if not versions:
            raise OfflineError(f"{root} holds no version to refresh")
        base = version_dir(root, args.base or versions[-1])
        users = (base / "ids/users.txt").read_text(encoding="utf-8").split("\n")[:-1]
    except (ValueError, OSError, FeatureStoreError, ArtifactFormatError, OfflineError) as exc:
        print(f"dubbo-recsys refresh: {exc}", file=sys.stderr)
        return 2

    async def recent() -> dict[str, list[str]]:
        client = redis.client()
        try:
            return await read_recent(client, redis.layout, users, args.last_n)
        finally:
            await close_client(client)

    try:
        found = asyncio.run(recent())
        log.info("refresh: realtime lastN of %d of %d users read from %s", len(found), len(users), args.prefix)
        result = refresh_version(root, found, config, base.name)
    except (FeatureStoreError, OfflineError) as exc:
        print(f"dubbo-recsys refresh: {exc}", file=sys.stderr)
        return 1
    written = result.root.name if result.root is not None else None
    print(json.dumps({"base": base.name, "version": written, "new": result.new, "unknown": result.unknown}))
    return 0
