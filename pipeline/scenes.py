"""One recommender per scene, rebuilt when the scene's config changes.

``SceneRecommender`` is what the protocols hold. For each request it takes the
scene's *current* config object once (``request.scene`` is the config dataId;
``context["groupId"]`` its Nacos group), so a request that started on one
config finishes on it even if a new one is swapped in meanwhile. Compiled
pipelines are cached per config object; an update that does not compile is
logged and the scene keeps answering with its last good pipelines.

Without a config source every request uses the default scene.

A scene whose config names a Redis Cluster (``redis_conf``) compiles against the resources
``resources_for(config.redis)`` returns (``provider.scene_stores``: that cluster's features and
seen filter); without ``resources_for``, or for a scene naming none, it gets the process's.

``warm_up`` runs the default scene's pipelines once per given user, with a generous
budget and before the server listens: the first search of a Faiss index, the first
call of a TensorFlow function and numpy's first passes cost tens of milliseconds
each, and would otherwise push the first requests past their deadline.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from dubbo_recsys.features.base import FeatureStoreError
from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.pipeline.assemble import Resources, build_recommender, default_pipeline_conf
from dubbo_recsys.pipeline.model import Query
from dubbo_recsys.pipeline.resilience import ResilientRecommender
from dubbo_recsys.pipeline.stages import ConfigError

log = logging.getLogger(__name__)

DEFAULT_GROUP = "DEFAULT_GROUP"


class SceneSource(Protocol):
    """What ``registry.config_center.ConfigCenter`` offers."""

    async def get(self, data_id: str, group: str = DEFAULT_GROUP) -> Any: ...


class SceneRecommender:
    def __init__(
        self,
        resources: Resources,
        source: SceneSource | None = None,
        *,
        max_compiled: int = 64,
        resources_for: Callable[[Any], Awaitable[Resources]] | None = None,
    ) -> None:
        self.resources = resources
        self.source = source
        self.resources_for = resources_for
        self.default = build_recommender(default_pipeline_conf(resources), resources)
        self._compiled: OrderedDict[int, tuple[Any, ResilientRecommender]] = OrderedDict()
        self._last_good: dict[tuple[str, str], ResilientRecommender] = {}
        self._versions: dict[str, str] = {"default": "built-in"}
        self._max = max_compiled
        self.rejected_configs = 0

    async def warm_up(self, user_ids: list[str], budget_seconds: float = 30.0) -> list[str]:
        """Run the default full and light pipelines once per user; returns what failed (logged, not raised)."""
        problems = []
        for pipeline in (self.default.full, self.default.light):
            for user_id in user_ids:
                if pipeline is None:
                    continue
                try:
                    await pipeline.run(Query.start(RecommendRequest(userId=user_id, count=10), budget_seconds))
                except Exception as exc:
                    problems.append(f"{pipeline.name.value} pipeline, user {user_id!r}: {type(exc).__name__}: {exc}")
        for problem in problems:
            log.warning("warm-up: %s", problem)
        return problems

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        if not isinstance(request, RecommendRequest):
            return RecommendResponse(code=400, message=f"expected RecommendRequest, got {type(request).__name__}")
        recommender = await self._for_scene(request)
        if recommender is None:
            return RecommendResponse(code=404, message=f"unknown scene {request.scene!r}")
        return await recommender.recommend(request)

    async def _for_scene(self, request: RecommendRequest) -> ResilientRecommender | None:
        if self.source is None or not request.scene:
            return self.default
        group = (request.context or {}).get("groupId") or DEFAULT_GROUP
        key = (request.scene, group)
        try:
            config = await self.source.get(request.scene, group)
        except Exception as exc:
            log.info("scene %s/%s unavailable: %s", request.scene, group, exc)
            return self._last_good.get(key)
        steps = config.pipeline is not None and bool(config.pipeline.steps)
        named_store = self.resources_for is not None and getattr(config, "redis", None) is not None
        if not steps and not named_store:
            return self.default
        cached = self._compiled.get(id(config))
        if cached is not None and cached[0] is config:
            return cached[1]
        try:
            resources = self.resources
            if named_store:
                assert self.resources_for is not None
                resources = await self.resources_for(config.redis)
            if resources is self.resources and not steps:
                return self.default
            conf = config.pipeline if steps else default_pipeline_conf(resources)
            compiled = build_recommender(conf, resources, config.models)
        except (ConfigError, FeatureStoreError) as exc:
            self.rejected_configs += 1
            log.error(
                "scene %s/%s version %r does not compile, keeping the last good one: %s",
                request.scene,
                group,
                getattr(config, "version", ""),
                exc,
            )
            return self._last_good.get(key, self.default)
        self._compiled[id(config)] = (config, compiled)
        if len(self._compiled) > self._max:
            self._compiled.popitem(last=False)
        self._last_good[key] = compiled
        name = request.scene if group == DEFAULT_GROUP else f"{request.scene}@{group}"
        self._versions[name] = str(getattr(config, "version", "") or "unversioned")
        return compiled

    def scene_versions(self) -> dict[str, str]:
        """``{scene: config version}`` of the scenes compiled so far (for metrics and the console)."""
        return dict(self._versions)
