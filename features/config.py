"""The features layer's slice of the provider configuration, and the one call that opens it.

``serve`` (or a test) builds a ``FeaturesConfig`` once and calls
``open_features(config)``; it gets a ``Features`` holding a ``FeatureStore`` and a
``SeenFilter`` of the chosen backend, and closes them with ``await features.close()``::

    FeaturesConfig()                                          embedded store, in-memory seen filter
    FeaturesConfig(backend=FeatureBackend.REDIS,
                   redis=RedisConfig(url="redis://10.0.0.5:6379/0"))   both on Redis, one pool
    FeaturesConfig(backend=FeatureBackend.REDIS,
                   redis=RedisConfig(url="redis+cluster://10.0.0.5:7000,10.0.0.6:7000"))   on a Redis Cluster

The embedded backend needs an artifact directory; the Redis backend needs the
features loaded beforehand (``dubbo-recsys load``) and checks, when opened, that
Redis answers and holds a completed load under the prefix, so a wrong URL or an
empty Redis fails at startup instead of on the first request.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dubbo_recsys.features.base import FeatureStore, FeatureStoreError, SeenFilter
from dubbo_recsys.features.seen import SeenConfig

if TYPE_CHECKING:  # features.redis needs the redis extra; imported only when that backend is chosen
    from dubbo_recsys.features.redis import RedisConfig


class FeatureBackend(enum.Enum):
    EMBEDDED = "embedded"
    REDIS = "redis"


@dataclass(frozen=True, slots=True)
class FeaturesConfig:
    backend: FeatureBackend = FeatureBackend.EMBEDDED
    artifacts: Path | None = None  # the embedded backend's source
    redis: RedisConfig | None = None  # the Redis backend's connection; default RedisConfig() when None
    seen: SeenConfig = field(default_factory=SeenConfig)
    require_loaded: bool = True  # Redis backend: refuse to start when the meta key is missing
    connect_now: bool = True  # Redis backend: PING when opened; False: the first call connects (no checks)

    def __post_init__(self) -> None:
        if not isinstance(self.backend, FeatureBackend):
            raise FeatureStoreError(f"backend must be a FeatureBackend, got {self.backend!r}")
        if self.backend is FeatureBackend.EMBEDDED and self.artifacts is None:
            raise FeatureStoreError("the embedded feature store needs an artifact directory")


@dataclass(frozen=True, slots=True)
class Features:
    """An open store and seen filter; ``close`` releases both (and their shared pool)."""

    store: FeatureStore
    seen: SeenFilter
    backend: FeatureBackend

    async def close(self) -> None:
        await self.store.close()
        close_seen = getattr(self.seen, "close", None)
        if close_seen is not None:
            await close_seen()


async def open_features(config: FeaturesConfig) -> Features:
    """Open the configured backend; raises ``FeatureStoreError`` when it cannot serve."""
    if config.backend is FeatureBackend.EMBEDDED:
        from dubbo_recsys.features.embedded import EmbeddedFeatureStore
        from dubbo_recsys.features.seen import InMemorySeenFilter

        assert config.artifacts is not None  # checked by FeaturesConfig
        return Features(
            EmbeddedFeatureStore.from_artifacts(config.artifacts), InMemorySeenFilter(config.seen), config.backend
        )

    from dubbo_recsys.features.redis import RedisConfig, RedisFeatureStore, RedisSeenFilter, close_client

    redis_config = config.redis or RedisConfig()
    client = redis_config.client()
    store = RedisFeatureStore(client, redis_config.layout, owns_client=True)  # closes the shared pool
    try:
        if config.connect_now:
            await store.ping()
        if config.connect_now and config.require_loaded and await store.meta() is None:
            raise FeatureStoreError(
                f"no completed load under {redis_config.layout.base!r} at {redis_config.url}: "
                "run `dubbo-recsys load --artifacts DIR --redis URL` first"
            )
    except BaseException:
        await close_client(client)
        raise
    seen = RedisSeenFilter(client, redis_config.layout, config.seen, ack=redis_config.write_ack)
    return Features(store, seen, config.backend)
