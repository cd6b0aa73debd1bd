"""Assemble the recommender every protocol shares, from the serve options.

Without ``--artifacts`` the provider answers from ``PopularRecommender`` (the
protocol demo). With an artifact directory it runs the recommendation funnel:

- features: the embedded store built from the artifacts, or Redis or a Redis Cluster
  (``--redis``) with the embedded store kept as the light pipeline's local copy; a scene
  whose config names a Redis Cluster (``redis_conf``) reads from it (``provider.scene_stores``);
- recall: ``recall.Recall`` over the artifacts (Faiss, neighbour tables, hot lists);
- rank: the stages of ``rank`` (pre-rank, the in-process ranking model, light
  rankers, re-rank), when the artifacts hold their models;
- scenes: the default scene, or per-scene configs from a directory or Nacos
  (``--scenes``), compiled by ``pipeline.scenes.SceneRecommender``;
- realtime (``--realtime URL``): the consumer's state read through the feature store
  seam, live items followed, trending, optionally a consumer in process
  (``--consume``); ``provider.realtime``.

``PipelineApp(options)`` only validates; ``await app.open()`` loads the arrays,
indexes and models, connects Redis and the config center, runs each default
pipeline once (warm-up) and freezes what it loaded out of the garbage
collector's generations (``gc.freeze``), and must finish before the server
listens. ``await app.close()`` releases them after it closed.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports this module to build its parser: keep hessian2 out of that
    from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
    from dubbo_recsys.interfaces.recommender import Recommender

log = logging.getLogger(__name__)


class AppConfigError(ValueError):
    """The serve options do not describe a pipeline that can run."""


@dataclass(frozen=True)
class PipelineOptions:
    artifacts: Path | None = None
    redis_url: str | None = None  # features (and the seen filter) on Redis
    redis_prefix: str | None = None
    scenes: str | None = None  # a directory of scene files, or nacos://host:port?namespace=..&group=..
    budget_ms: float = 100.0
    light_budget_ms: float = 50.0
    full_concurrency: int = 16  # per process; the excess goes to the light pipeline (0 = no bound)
    light_concurrency: int = 32  # per process; the excess gets the popular list (0 = no bound)
    realtime_url: str | None = None  # the Redis of the realtime state (provider.realtime)
    events_url: str | None = None  # with consume: kafka://... or redis://... (default: Streams on realtime_url)
    consume: bool = False  # run a consumer group member in this process
    last_n: int = 50
    bucket_seconds: int = 60
    trend_window: int = 3600

    def __post_init__(self) -> None:
        if self.artifacts is not None and not (Path(self.artifacts) / "manifest.json").is_file():
            raise AppConfigError(
                f"{self.artifacts} is not an artifact directory (no manifest.json): build one with `dubbo-recsys build`"
            )
        if self.redis_url and self.artifacts is None:
            raise AppConfigError("--redis needs --artifacts too (the light pipeline's local copy)")
        if self.scenes and self.artifacts is None:
            raise AppConfigError("--scenes needs --artifacts: scenes configure the pipeline over them")
        if not 1 <= self.budget_ms <= 60_000 or not 1 <= self.light_budget_ms <= 60_000:
            raise AppConfigError("budgets must be between 1 and 60000 ms")
        if not 0 <= self.full_concurrency <= 100_000 or not 0 <= self.light_concurrency <= 100_000:
            raise AppConfigError("--full-concurrency and --light-concurrency must be between 0 and 100000")
        if self.realtime_url and self.artifacts is None:
            raise AppConfigError("--realtime needs --artifacts: realtime state refines a build")
        if self.consume and not self.realtime_url:
            raise AppConfigError("--consume needs --realtime URL: the Redis the consumer writes to")
        if self.events_url and not self.consume:
            raise AppConfigError("--events is what --consume reads: give --consume too (or run dubbo-recsys consume)")
        if self.realtime_url:
            from dubbo_recsys.realtime.effects import RealtimeConfig, RealtimeConfigError
            from dubbo_recsys.realtime.source import EventsConfig

            try:
                RealtimeConfig(
                    last_n=self.last_n, bucket_seconds=self.bucket_seconds, trend_window_seconds=self.trend_window
                )
                if self.consume:
                    EventsConfig.parse(self.events_url or self.realtime_url)
            except RealtimeConfigError as exc:
                raise AppConfigError(str(exc)) from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pipeline")
    group.add_argument(
        "--artifacts",
        type=Path,
        default=_env_path("DUBBO_RECSYS_ARTIFACTS"),
        metavar="DIR",
        help="artifact directory from `dubbo-recsys build` (env DUBBO_RECSYS_ARTIFACTS); "
        "without it the provider answers from a fixed popularity list",
    )
    group.add_argument(
        "--redis",
        dest="redis_url",
        default=os.environ.get("DUBBO_RECSYS_REDIS") or None,
        metavar="URL",
        help="read features and the seen filter from Redis: redis://HOST:PORT/DB, or "
        "redis+cluster://HOST:PORT,HOST:PORT for a Redis Cluster (env DUBBO_RECSYS_REDIS; "
        "--redis '' for none); load them first with `dubbo-recsys load`",
    )
    group.add_argument("--redis-prefix", default=None, help="key prefix used by `dubbo-recsys load`")
    group.add_argument(
        "--scenes",
        default=os.environ.get("DUBBO_RECSYS_SCENES") or None,
        metavar="DIR|URL",
        help="per-scene configs: a directory of <dataId>.json files, or nacos://HOST:PORT?... "
        "(env DUBBO_RECSYS_SCENES)",
    )
    group.add_argument("--budget-ms", type=float, default=100.0, help="per-request deadline (default 100)")
    group.add_argument(
        "--light-budget-ms",
        type=float,
        default=50.0,
        help="deadline of the light pipeline after the full one failed (default 50)",
    )
    group.add_argument(
        "--full-concurrency",
        type=int,
        default=16,
        metavar="N",
        help="requests inside the full pipeline at once, per worker; more are shed to the light "
        "pipeline instead of queueing (default 16, 0 = no bound)",
    )
    group.add_argument(
        "--light-concurrency",
        type=int,
        default=32,
        metavar="N",
        help="requests inside the light pipeline at once, per worker; more get the popular list "
        "(default 32, 0 = no bound)",
    )
    realtime = parser.add_argument_group("realtime events")
    realtime.add_argument(
        "--realtime",
        dest="realtime_url",
        default=os.environ.get("DUBBO_RECSYS_REALTIME") or None,
        metavar="URL",
        help="read the realtime state (lastN, seen, trending, live items) that `dubbo-recsys consume` writes "
        "to this Redis (env DUBBO_RECSYS_REALTIME); key prefix: --redis-prefix",
    )
    realtime.add_argument(
        "--consume", action="store_true", help="also run a consumer of --events in this process (needs --realtime)"
    )
    realtime.add_argument(
        "--events",
        dest="events_url",
        default=None,
        metavar="URL",
        help="what --consume reads: kafka://HOST:PORT?... or redis://HOST:PORT/DB?partitions=N "
        "(default: Redis Streams on the --realtime Redis)",
    )
    from dubbo_recsys.realtime.consume_command import add_realtime_arguments  # cheap: no redis or kafka import

    add_realtime_arguments(parser)


def options_from_args(args: argparse.Namespace) -> PipelineOptions:
    # Our own variable, not the common REDIS_URL: a provider must not switch its feature source
    # because some other tool's variable happens to be set (the test run exports REDIS_URL).
    return PipelineOptions(
        artifacts=args.artifacts,
        redis_url=args.redis_url or None,
        redis_prefix=args.redis_prefix,
        scenes=args.scenes,
        budget_ms=args.budget_ms,
        light_budget_ms=args.light_budget_ms,
        full_concurrency=args.full_concurrency,
        light_concurrency=args.light_concurrency,
        realtime_url=args.realtime_url or None,
        events_url=args.events_url or None,
        consume=args.consume,
        last_n=args.last_n,
        bucket_seconds=args.bucket_seconds,
        trend_window=args.trend_window,
    )


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


class PipelineApp:
    """The shared ``Recommender``: the funnel over the artifacts, or the popularity list."""

    def __init__(self, options: PipelineOptions) -> None:
        self.options = options
        self._scenes: Any = None
        self._features: Any = None
        self._config_center: Any = None
        self._scene_stores: Any = None
        self.resources: Any = None
        self.realtime: Any = None  # provider.realtime.RealtimeBeside with --realtime
        self._popular: list[tuple[str, float]] = []
        self._popular_built: list[tuple[str, float]] = []
        self._fallback: Any = None
        if options.artifacts is None:
            from dubbo_recsys.provider.popular import PopularRecommender

            self._fallback = PopularRecommender()

    @property
    def pipeline_enabled(self) -> bool:
        return self.options.artifacts is not None

    async def open(self) -> None:
        """Load the artifacts, connect Redis and the config center, compile the scenes. Idempotent.

        Runs before the server listens, so blocking on array and model loading here is fine."""
        if self._fallback is not None or self._scenes is not None:
            return
        from dubbo_recsys.features.embedded import EmbeddedFeatureStore
        from dubbo_recsys.features.seen import InMemorySeenFilter, SeenConfig
        from dubbo_recsys.pipeline.assemble import Resources, load_stage_modules
        from dubbo_recsys.pipeline.resilience import InFlight
        from dubbo_recsys.pipeline.scenes import SceneRecommender
        from dubbo_recsys.recall import Recall

        for problem in load_stage_modules():
            log.warning("stage module not available: %s", problem)
        assert self.options.artifacts is not None
        root = Path(self.options.artifacts)
        local = EmbeddedFeatureStore.from_artifacts(root)
        store: Any = local
        seen: Any = InMemorySeenFilter(SeenConfig())
        primary = None
        if self.options.redis_url:
            from dubbo_recsys.features import FeatureBackend, FeaturesConfig, open_features
            from dubbo_recsys.features.redis import RedisConfig

            redis_kw: dict[str, Any] = {"url": self.options.redis_url}
            if self.options.redis_prefix:
                redis_kw["prefix"] = self.options.redis_prefix
            primary = RedisConfig(**redis_kw)
            self._features = await open_features(FeaturesConfig(backend=FeatureBackend.REDIS, redis=primary))
            store, seen = self._features.store, self._features.seen
        if self.options.realtime_url:
            from dubbo_recsys.provider.realtime import RealtimeBeside, RealtimeOptions

            self.realtime = RealtimeBeside(
                RealtimeOptions(
                    url=self.options.realtime_url,
                    prefix=self.options.redis_prefix or "recsys",
                    events=self.options.events_url,
                    consume=self.options.consume,
                    last_n=self.options.last_n,
                    bucket_seconds=self.options.bucket_seconds,
                    trend_window=self.options.trend_window,
                )
            )
            store, seen = await self.realtime.open(store)
        self._popular = self._popular_built = _popular_from_artifacts(root)
        recall = Recall.load(root, store, seen=seen)
        self.resources = Resources(
            popular=lambda _request: self._popular,
            features=store,
            local_features=local,
            seen=seen,
            recall=recall,
            light_recall=_local_recall(recall, local) if store is not local else None,
            artifacts=root,
            budget_seconds=self.options.budget_ms / 1000.0,
            light_budget_seconds=self.options.light_budget_ms / 1000.0,
            full_inflight=InFlight(self.options.full_concurrency),
            light_inflight=InFlight(self.options.light_concurrency),
        )
        if self.options.scenes:
            from dubbo_recsys.registry.config_center import open_config_center

            target = self.options.scenes
            if target.startswith("nacos://"):
                self._config_center = await open_config_center(target)
            else:
                self._config_center = await open_config_center(None, local_dir=target)
        from dubbo_recsys.provider.scene_stores import SceneStores

        self._scene_stores = SceneStores(self.resources, self.options.redis_prefix, primary)
        self._scenes = SceneRecommender(
            self.resources, self._config_center, resources_for=self._scene_stores.resources_for
        )
        if self.realtime is not None:
            await self.realtime.start(recall, _built_at_ms(root), self._refresh_popular)
        known = next(iter(self.resources.recall.user_rows), None)
        await self._scenes.warm_up([u for u in (known, "warm-up-unknown-user") if u is not None])
        # TensorFlow, the artifacts and the models leave millions of long-lived objects; a full
        # collection walking them paused serving for 1.7 s (measured under load). Move them out
        # of the collector's sight; what requests allocate is still collected.
        gc.collect()
        gc.freeze()

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        fallback: Recommender | None = self._fallback
        if fallback is not None:
            return await fallback.recommend(request)
        if self._scenes is None:
            await self.open()
        scenes: Recommender = self._scenes  # open() sets the scenes or raises
        response = await scenes.recommend(request)
        realtime = self.realtime
        if realtime is not None and response.items and realtime.catalog.removed:  # never serve a removed item
            response.items = [item for item in response.items if not realtime.is_removed(item.itemId)]
        return response

    def _refresh_popular(self, trending: Sequence[tuple[str, float]]) -> None:
        """The popular answer: the trending items first (realtime's hot list), then the build's; no removed item."""
        realtime = self.realtime
        top = trending[0][1] if trending else 1.0
        ranked = [(item, round(2.0 + score / top, 6)) for item, score in trending]  # above every built score (<= 1)
        seen = {item for item, _ in ranked}
        ranked += [(item, score) for item, score in self._popular_built if item not in seen]
        self._popular = [pair for pair in ranked if realtime is None or not realtime.is_removed(pair[0])]

    def realtime_state(self) -> dict[str, Any]:
        """What the console and /metrics show about realtime (empty without --realtime)."""
        return self.realtime.snapshot() if self.realtime is not None else {}

    def scene_versions(self) -> dict[str, str]:
        """The versions of the scene configs in force (empty before ``open`` or without artifacts)."""
        return self._scenes.scene_versions() if self._scenes is not None else {}

    async def close(self) -> None:
        if self.realtime is not None:
            await self.realtime.close()
            self.realtime = None
        if self._config_center is not None:
            await self._config_center.close()
            self._config_center = None
        if self._scene_stores is not None:
            await self._scene_stores.close()
            self._scene_stores = None
        if self._features is not None:
            await self._features.close()
            self._features = None


def _local_recall(recall: Any, local: Any) -> Any:
    """The light pipeline's recall: the same channels over the embedded store, without the seen
    filter (on Redis too); the request's exposure list and removed items are still filtered."""
    from dubbo_recsys.recall import Recall
    from dubbo_recsys.recall.merger import Merger, SeenBloomFilter

    filters = tuple(f for f in recall.merger.filters if not isinstance(f, SeenBloomFilter))
    merger = Merger(recall.merger.channels, filters, offset=recall.merger.offset)
    return Recall(
        recall.catalog,
        recall.user_rows,
        merger,
        local,
        recall.config,
        recall.new_items,
        recall.user_vectors,
        removed=recall.removed,
        trending=recall.trending,
    )


def _built_at_ms(root: Path) -> int:
    """The build time of an artifact directory (manifest ``built_at``), epoch ms; 0 when unknown."""
    import json
    from datetime import datetime

    try:
        built_at = json.loads((root / "manifest.json").read_text(encoding="utf-8")).get("built_at", "")
        return int(datetime.fromisoformat(str(built_at).replace("Z", "+00:00")).timestamp() * 1000)
    except (OSError, ValueError, TypeError):
        return 0


def _popular_from_artifacts(root: Path, limit: int = 500) -> list[tuple[str, float]]:
    """The scene's cached popular list: the artifact's global hot list, scored by rank."""
    import json

    with open(root / "hot.json", encoding="utf-8") as handle:
        hot = json.load(handle).get("global", [])[:limit]
    return [(str(item), round(1.0 / (1.0 + rank), 6)) for rank, item in enumerate(hot)]
