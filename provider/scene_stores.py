"""Feature stores named by scene configs: the seed's ``redis_conf {redisCluster {addrs, ...}}``.

A scene whose config carries a ``redis_conf`` with addresses reads its user and item features and
its seen filter from that Redis Cluster, instead of from the process's store (``--redis``, or the
embedded one). ``SceneStores.resources_for(conf)`` returns the ``Resources`` such a scene compiles
against: the process's, with the cluster's store, seen filter and a recall whose seen filter is
the cluster's. Everything else is shared: the artifacts, the channels, the models, the light
pipeline (over the local store, so it answers when the cluster does not) and the guards of other
dependencies. The features guard is the cluster's own (``features@redis+cluster://...``), so one
cluster's outage opens only its breaker. Scenes naming the same cluster the same way share one
client; a scene naming the ``--redis`` cluster uses the process's store.

The seed's fields, mapped onto ``features.redis.RedisConfig``::

    addrs                            redis+cluster://addr,addr,...
    password                         the URL's password
    readTimeoutMs, writeTimeoutMs    socket timeout (the larger; 0 = the default 0.5 s)
    dialTimeoutS                     connect timeout (0 = the default 1 s)
    maxRetries                       retries after a connection error or timeout
    idleTimeoutMs, minIdleConns      no counterpart in redis-py's pools: ignored

The key prefix is the process's (``--redis-prefix``): the seed's per-model key prefixes named its
own key layout, ours is ``features.keys``. A cluster is not waited for when a scene first names
it: if it does not answer, the scene still compiles and its requests degrade to the light pipeline
until it does (a warning is logged), as they do for ``--redis``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from dubbo_recsys.features.redis import RedisConfig
    from dubbo_recsys.pipeline.assemble import Resources
    from dubbo_recsys.registry.scene_config import RedisConf

log = logging.getLogger(__name__)


def redis_config_from_scene(conf: RedisConf, prefix: str | None) -> RedisConfig | None:
    """The ``RedisConfig`` of a scene's ``redis_conf``; None when it names no address."""
    if not conf.addrs:
        return None
    try:
        from dubbo_recsys.features.redis import RedisConfig
    except ImportError as exc:
        from dubbo_recsys.features.base import FeatureStoreError

        raise FeatureStoreError(f'a scene names a Redis Cluster: pip install -e ".[redis]" ({exc})') from exc
    secret = f":{quote(conf.password, safe='')}@" if conf.password else ""
    kwargs: dict[str, Any] = {"url": f"redis+cluster://{secret}{','.join(conf.addrs)}", "retries": conf.max_retries}
    timeout_ms = max(conf.read_timeout_ms, conf.write_timeout_ms)
    if timeout_ms:
        kwargs["socket_timeout"] = timeout_ms / 1000.0
    if conf.dial_timeout_s:
        kwargs["connect_timeout"] = float(conf.dial_timeout_s)
    if prefix:
        kwargs["prefix"] = prefix
    return RedisConfig(**kwargs)


class SceneStores:
    """The ``Resources`` of each Redis Cluster scene configs name, opened on first use, closed with ``close``.

    The cluster clients outlive an artifact version: ``over(base)`` gives the next version (``provider.rollout``)
    its own view, building its ``Resources`` over its recall while sharing the clients already open."""

    def __init__(
        self,
        base: Resources | None,
        prefix: str | None,
        primary: RedisConfig | None = None,
        _clients: dict[RedisConfig, Any] | None = None,
        _lock: asyncio.Lock | None = None,
    ) -> None:
        self._base = base
        self._prefix = prefix
        self._primary = primary
        self._clients: dict[RedisConfig, Any] = {} if _clients is None else _clients  # shared by every view
        self._opened: dict[RedisConfig, Resources] = {}
        self._lock = _lock or asyncio.Lock()  # two scenes compiled at once must not open one cluster twice

    def over(self, base: Resources) -> SceneStores:
        """A view for another version's ``Resources``, sharing this one's cluster clients."""
        return SceneStores(base, self._prefix, self._primary, self._clients, self._lock)

    async def resources_for(self, conf: RedisConf | None) -> Resources:
        base = self._base
        assert base is not None, "SceneStores.over(resources) gives a view that can answer"
        config = None if conf is None else redis_config_from_scene(conf, self._prefix)
        if config is None or config == self._primary:
            return base
        async with self._lock:
            opened = self._opened.get(config)
            if opened is None:
                features = self._clients.get(config)
                if features is None:
                    features = self._clients[config] = await self._open(config)
                opened = self._opened[config] = self._over(base, config, features)
        return opened

    @staticmethod
    def _url(config: RedisConfig) -> str:
        return config.url.split("@")[-1] if "@" in config.url else config.url  # no password in names and logs

    async def _open(self, config: RedisConfig) -> Any:
        from dubbo_recsys.features import FeatureBackend, FeaturesConfig, FeatureStoreError, open_features
        from dubbo_recsys.features.redis import RedisFeatureStore

        url = self._url(config)
        features = await open_features(FeaturesConfig(backend=FeatureBackend.REDIS, redis=config, connect_now=False))
        try:
            if isinstance(features.store, RedisFeatureStore):
                await features.store.ping()
        except FeatureStoreError as exc:
            log.warning("scene feature store %s does not answer yet (its scenes degrade until it does): %s", url, exc)
        log.info("scenes naming %s read their features from it", url)
        return features

    def _over(self, base: Resources, config: RedisConfig, features: Any) -> Resources:
        from dubbo_recsys.recall import Recall
        from dubbo_recsys.recall.merger import Merger, SeenBloomFilter

        recall = base.recall
        if recall is not None:
            merger = Merger(
                recall.merger.channels, [SeenBloomFilter(features.seen, recall.catalog)], offset=recall.merger.offset
            )
            recall = Recall(
                recall.catalog,
                recall.user_rows,
                merger,
                features.store,
                recall.config,
                recall.new_items,
                recall.user_vectors,
            )
        return replace(
            base,
            features=features.store,
            seen=features.seen,
            recall=recall,
            # without --redis the process's own recall is the local one: the light pipeline keeps it
            light_recall=base.light_recall or base.recall,
            features_guard=f"features@{self._url(config).removeprefix('redis+cluster://')}",
        )

    async def close(self) -> None:
        """Close the cluster clients (every view's: call it once, on the process's own)."""
        for features in self._clients.values():
            await features.close()
        self._clients.clear()
        self._opened.clear()
