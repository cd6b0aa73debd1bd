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

With ``--artifact-root`` (``provider.rollout``) it serves the versions under that root
instead of one fixed directory, and swaps to a new one while serving; each call runs on the
version it started on. Realtime's live items are re-applied to each version before it serves
(``RealtimeBeside.adopt``, run as the last after-load hook).

``PipelineApp(options)`` only validates; ``await app.open()`` loads the arrays,
indexes and models, connects Redis and the config center, runs each default
pipeline once (warm-up) and freezes what it loaded out of the garbage
collector's generations (``gc.freeze``), and must finish before the server
listens. ``await app.close()`` releases them after it closed.
"""

from __future__ import annotations

import argparse
import gc
import inspect
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
    rollout: Any = None  # provider.rollout.RolloutConfig: serve an artifact root's versions (--artifact-root)

    def __post_init__(self) -> None:
        if self.artifacts is not None and not (Path(self.artifacts) / "manifest.json").is_file():
            raise AppConfigError(
                f"{self.artifacts} is not an artifact directory (no manifest.json): build one with `dubbo-recsys build`"
            )
        if self.artifacts is not None and self.rollout is not None:
            raise AppConfigError("give --artifacts DIR or --artifact-root ROOT, not both")
        has_artifacts = self.artifacts is not None or self.rollout is not None
        if self.redis_url and not has_artifacts:
            raise AppConfigError("--redis needs --artifacts too (the light pipeline's local copy)")
        if self.scenes and not has_artifacts:
            raise AppConfigError("--scenes needs --artifacts: scenes configure the pipeline over them")
        if not 1 <= self.budget_ms <= 60_000 or not 1 <= self.light_budget_ms <= 60_000:
            raise AppConfigError("budgets must be between 1 and 60000 ms")
        if not 0 <= self.full_concurrency <= 100_000 or not 0 <= self.light_concurrency <= 100_000:
            raise AppConfigError("--full-concurrency and --light-concurrency must be between 0 and 100000")
        if self.realtime_url and not has_artifacts:
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
    from dubbo_recsys.provider.rollout import options as rollout_options  # cheap: flags only

    rollout_options.add_arguments(parser)


def options_from_args(args: argparse.Namespace) -> PipelineOptions:
    # Our own variable, not the common REDIS_URL: a provider must not switch its feature source
    # because some other tool's variable happens to be set (the test run exports REDIS_URL).
    from dubbo_recsys.provider.rollout import options as rollout_options

    try:
        rollout = rollout_options.config_from_args(args)
    except ValueError as exc:  # RolloutConfigError
        raise AppConfigError(str(exc)) from exc
    return PipelineOptions(
        rollout=rollout,
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
    """The shared ``Recommender``: the funnel over the serving artifact version, or the popularity list.

    The request path reads ``self._serving`` once per call and runs the whole call on that
    ``ServingVersion``; a swap (``_install``) is one assignment of that reference, made by the
    rollout controller outside any call. ``after_load`` hooks run on every version loaded (the
    first one too) before it serves; realtime's re-apply of live items runs after them."""

    def __init__(self, options: PipelineOptions) -> None:
        self.options = options
        self._serving: Any = None  # provider.rollout.version.ServingVersion
        self._adopted: Any = None  # the version whose recall and popular list realtime follows
        self._features: Any = None
        self._config_center: Any = None
        self._scene_stores: Any = None  # provider.scene_stores.SceneStores: clusters scene configs name
        self.realtime: Any = None  # provider.realtime.RealtimeBeside with --realtime
        self.rollout: Any = None  # provider.rollout.controller.RolloutController with --artifact-root
        self.after_load: list[Any] = []  # provider.rollout.controller.AfterLoad callables
        self._fallback: Any = None
        if options.artifacts is None and options.rollout is None:
            from dubbo_recsys.provider.popular import PopularRecommender

            self._fallback = PopularRecommender()

    @property
    def pipeline_enabled(self) -> bool:
        return self._fallback is None

    @property
    def serving(self) -> Any:
        """The ``ServingVersion`` new calls run on (None before ``open`` or without artifacts)."""
        return self._serving

    @property
    def resources(self) -> Any:
        """The serving version's ``pipeline.assemble.Resources`` (breakers and in-flight bounds for metrics)."""
        serving = self._serving
        return serving.resources if serving is not None else None

    @property
    def artifacts_dir(self) -> Path | None:
        """The directory of the version serving now."""
        serving = self._serving
        return serving.root if serving is not None else self.options.artifacts

    def _install(self, version: Any) -> None:
        self._serving = version  # the swap: calls that already took the old reference finish on it

    async def open(self) -> None:
        """Connect Redis, realtime and the config center, load the first version, compile its scenes. Idempotent.

        Runs before the server listens, so blocking on array and model loading here is fine."""
        if self._fallback is not None or self._serving is not None:
            return
        from dubbo_recsys.pipeline.assemble import load_stage_modules

        for problem in load_stage_modules():
            log.warning("stage module not available: %s", problem)
        shared = await self._shared_parts()
        if self.options.rollout is not None:
            from dubbo_recsys.provider.rollout.controller import RolloutController

            self.rollout = RolloutController(
                self.options.rollout, shared, self._install, self.after_load, last_hook=self._adopt_live_items
            )
            await self.rollout.start()
        else:
            from dubbo_recsys.provider.rollout.version import load_version

            assert self.options.artifacts is not None
            version = load_version(Path(self.options.artifacts), "", shared)
            known = next(iter(version.resources.recall.user_rows), None)
            await version.scenes.warm_up([u for u in (known, "warm-up-unknown-user") if u is not None])
            for hook in [*self.after_load, self._adopt_live_items]:  # realtime last: it starts following
                result = hook(version)
                if inspect.isawaitable(result):
                    await result
            self._install(version)
        # TensorFlow, the artifacts and the models leave millions of long-lived objects; a full
        # collection walking them paused serving for 1.7 s (measured under load). Move them out
        # of the collector's sight; what requests allocate is still collected. Versions loaded
        # later are not frozen: when one is released, its reference cycles can then be collected.
        gc.collect()
        gc.freeze()

    async def _shared_parts(self) -> Any:
        """What every version of this process shares: Redis, realtime, the seen filter, scene configs, bounds."""
        from dubbo_recsys.features.seen import InMemorySeenFilter, SeenConfig
        from dubbo_recsys.pipeline.resilience import InFlight
        from dubbo_recsys.provider.rollout.version import SharedParts

        shared = SharedParts(
            seen=InMemorySeenFilter(SeenConfig()),
            full_inflight=InFlight(self.options.full_concurrency),
            light_inflight=InFlight(self.options.light_concurrency),
            budget_seconds=self.options.budget_ms / 1000.0,
            light_budget_seconds=self.options.light_budget_ms / 1000.0,
        )
        primary = None  # features.redis.RedisConfig of --redis
        if self.options.redis_url:
            from dubbo_recsys.features import FeatureBackend, FeaturesConfig, open_features
            from dubbo_recsys.features.redis import RedisConfig

            redis_kw: dict[str, Any] = {"url": self.options.redis_url}
            if self.options.redis_prefix:
                redis_kw["prefix"] = self.options.redis_prefix
            primary = RedisConfig(**redis_kw)
            self._features = await open_features(FeaturesConfig(backend=FeatureBackend.REDIS, redis=primary))
            shared.store, shared.seen = self._features.store, self._features.seen
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
            _overlay, shared.seen = await self.realtime.open(shared.store)
            shared.overlay = self.realtime.overlay  # each version's store read through realtime's state
        if self.options.scenes:
            from dubbo_recsys.registry.config_center import open_config_center

            target = self.options.scenes
            if target.startswith("nacos://"):
                self._config_center = await open_config_center(target)
            else:
                self._config_center = await open_config_center(None, local_dir=target)
            shared.config_center = self._config_center
        from dubbo_recsys.provider.scene_stores import SceneStores

        self._scene_stores = shared.scene_stores = SceneStores(None, self.options.redis_prefix, primary)
        return shared

    async def _adopt_live_items(self, version: Any) -> None:
        """The last after-load hook: realtime re-applies its live items to the version's recall and follows it
        (and its popular list) from now on. Undone if it fails: the version is then refused."""
        realtime = self.realtime
        if realtime is None:
            return
        recall, adopted = realtime.recall, self._adopted
        self._adopted = version
        try:
            if recall is None:  # the first version: start following (and consuming)
                await realtime.start(version.resources.recall, version.built_at_ms, self._refresh_popular)
            else:
                await realtime.adopt(version.resources.recall, version.built_at_ms)
        except BaseException:
            realtime.recall, self._adopted = recall, adopted
            raise

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        fallback: Recommender | None = self._fallback
        if fallback is not None:
            return await fallback.recommend(request)
        version = self._serving  # the call's version, read once: the whole call runs on it
        if version is None:
            await self.open()
            version = self._serving
        response: RecommendResponse = await version.recommend(request)
        realtime = self.realtime
        if realtime is not None and response.items and realtime.catalog.removed:  # never serve a removed item
            response.items = [item for item in response.items if not realtime.is_removed(item.itemId)]
        return response

    def _refresh_popular(self, trending: Sequence[tuple[str, float]]) -> None:
        """Realtime's trending items in front of the followed version's popular list."""
        adopted, realtime = self._adopted, self.realtime
        if adopted is not None:
            adopted.popular.refresh(trending, realtime.is_removed if realtime is not None else None)

    def realtime_state(self) -> dict[str, Any]:
        """What the console and /metrics show about realtime (empty without --realtime)."""
        return self.realtime.snapshot() if self.realtime is not None else {}

    def scene_versions(self) -> dict[str, str]:
        """The versions of the scene configs in force (empty before ``open`` or without artifacts)."""
        serving = self._serving
        return serving.scene_versions() if serving is not None else {}

    async def close(self) -> None:
        if self.rollout is not None:
            await self.rollout.close()
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
