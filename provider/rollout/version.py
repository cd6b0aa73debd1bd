"""One loaded artifact version: its resources and scenes, the calls running on it, and its release.

``load_version`` builds everything a version serves with (the embedded feature store, recall, the
rank artifacts and models, the default scene's pipelines) from one directory, over the parts every
version of the process shares (``SharedParts``: the Redis store, the seen filter, the scene config
center, the in-flight bounds, the downstream guards). It blocks (files, Faiss, TensorFlow): the
controller runs it in a thread while the serving version keeps answering.

``ServingVersion.recommend`` is the request path: the caller took the version from one reference
(``PipelineApp``) and the whole call runs on it, stage after stage, whatever is swapped meanwhile.
The version counts its calls; ``retire`` (after a swap) releases it when the last one ends: the
cached models of its directory are forgotten, its stages' thread pools shut down and its objects
dropped, so the memory goes back once the collector has run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse

__all__ = ["ARTIFACTS_DEBUG_KEY", "PopularList", "ServingVersion", "SharedParts", "load_version"]

log = logging.getLogger(__name__)

#: debugInfo key of an answer's artifact version (``{"version": id}``), beside the stage traces
ARTIFACTS_DEBUG_KEY = "artifacts"


@dataclass
class SharedParts:
    """What outlives a version: connections and per-process bounds, made once by ``PipelineApp.open``."""

    store: Any = None  # the primary feature store when it is not the artifacts' own (Redis), else None
    seen: Any = None  # the seen filter (runtime state, not an artifact)
    config_center: Any = None  # scene configs (Nacos or files), or None
    scene_stores: Any = None  # provider.scene_stores.SceneStores: the Redis Clusters scene configs name
    full_inflight: Any = None
    light_inflight: Any = None
    downstreams: dict[str, Any] = field(default_factory=dict)  # one breaker per dependency, kept across swaps
    budget_seconds: float = 0.100
    light_budget_seconds: float = 0.050
    # a version's feature store as the funnel reads it: as is, or through realtime's state (``RealtimeBeside.overlay``)
    overlay: Callable[[Any], Any] = field(default=lambda store: store)


class PopularList:
    """One version's popular fallback: its build's hot list, or realtime's trending items in front of it."""

    def __init__(self, built: list[tuple[str, float]]) -> None:
        self.built = built
        self.current = built

    def __call__(self, _request: Any) -> list[tuple[str, float]]:
        return self.current

    def refresh(self, trending: Sequence[tuple[str, float]], removed: Callable[[str], bool] | None = None) -> None:
        """Trending first (scored above every built score, which are <= 1), then the build's; no removed item."""
        top = trending[0][1] if trending else 1.0
        ranked = [(item, round(2.0 + score / top, 6)) for item, score in trending]
        seen = {item for item, _ in ranked}
        ranked += [(item, score) for item, score in self.built if item not in seen]
        self.current = [pair for pair in ranked if removed is None or not removed(pair[0])]


class ServingVersion:
    """A loaded version; ``recommend`` runs a whole call on it. Built by ``load_version``."""

    def __init__(
        self, version: str, root: Path, manifest: dict[str, Any], resources: Any, scenes: Any, popular: PopularList
    ) -> None:
        self.id = version
        self.root = root
        self.manifest = manifest
        self.resources = resources
        self.scenes = scenes
        self.popular = popular
        self.load_seconds = 0.0
        self.warmup_seconds = 0.0
        self.gate_seconds = 0.0
        self.load_rss_bytes = 0  # what its load added to the process's RSS (its own memory, roughly)
        self.calls = 0
        self.retired = False
        self.released = False
        self.on_release: list[Callable[[ServingVersion], None]] = []
        self._debug = json.dumps({"version": version})

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        self.calls += 1
        try:
            response: RecommendResponse = await self.scenes.recommend(request)
        finally:
            self.calls -= 1
            if self.retired and not self.calls:  # the last call of a swapped-out version: release after it
                asyncio.get_running_loop().call_soon(self._release)
        if response.debugInfo is not None and self.id:
            response.debugInfo[ARTIFACTS_DEBUG_KEY] = self._debug
        return response

    @property
    def built_at_ms(self) -> int:
        """When its catalog was built (manifest ``built_at``, or ``catalog_as_of`` for a version ``dubbo-recsys
        refresh`` made from an older one), in epoch milliseconds: what happened after it (live items added
        between builds) is not in it, and an after-load hook re-applies it."""
        from datetime import datetime

        stamp = str(self.manifest.get("catalog_as_of") or self.manifest.get("built_at", "")).replace("Z", "+00:00")
        try:
            return int(datetime.fromisoformat(stamp).timestamp() * 1000)
        except ValueError:
            return 0

    def scene_versions(self) -> dict[str, str]:
        return self.scenes.scene_versions() if self.scenes is not None else {}

    def retire(self) -> None:
        """No new call will reach this version (the reference moved on): release it after its last call."""
        self.retired = True
        if not self.calls:
            self._release()

    def _release(self) -> None:
        if self.released or self.calls:  # a call may have started on it between the schedule and now
            return
        self.released = True
        from dubbo_recsys.rank.base import RankArtifacts
        from dubbo_recsys.rank.tf_ranker import DinModel

        DinModel.forget(self.root)
        RankArtifacts.forget(self.root)
        for stage in _stages(self.scenes):
            executor = getattr(stage, "executor", None)
            if executor is not None:
                executor.shutdown(wait=False)
        self.scenes = self.resources = None
        log.info("artifact version %s released (its last call ended)", self.id or self.root)
        for callback in self.on_release:
            try:
                callback(self)
            except Exception:
                log.exception("release callback of version %s failed", self.id)


def _stages(scenes: Any) -> list[Any]:
    default = getattr(scenes, "default", None)
    pipelines = [getattr(default, "full", None), getattr(default, "light", None)]
    return [stage for pipeline in pipelines if pipeline is not None for stage in pipeline.stages]


def load_version(
    root: Path, version: str, shared: SharedParts, manifest: dict[str, Any] | None = None
) -> ServingVersion:
    """Load one artifact directory as a version (blocking: call it in a thread once the server runs)."""
    from dubbo_recsys.features.embedded import EmbeddedFeatureStore
    from dubbo_recsys.interfaces.artifacts import read_manifest
    from dubbo_recsys.pipeline.assemble import Resources
    from dubbo_recsys.pipeline.scenes import SceneRecommender
    from dubbo_recsys.recall import Recall

    began = time.perf_counter()
    root = Path(root)
    local = EmbeddedFeatureStore.from_artifacts(root)
    store = shared.overlay(shared.store if shared.store is not None else local)
    popular = PopularList(_popular_from_artifacts(root))
    recall = Recall.load(root, store, seen=shared.seen)
    resources = Resources(
        popular=popular,
        features=store,
        local_features=local,
        seen=shared.seen,
        recall=recall,
        light_recall=_local_recall(recall, local) if store is not local else None,
        artifacts=root,
        rank=_rank_artifacts(root),  # this version's own, not the per-directory cache
        budget_seconds=shared.budget_seconds,
        light_budget_seconds=shared.light_budget_seconds,
        downstreams=shared.downstreams,
        full_inflight=shared.full_inflight,
        light_inflight=shared.light_inflight,
        version=version,
    )
    stores = shared.scene_stores.over(resources) if shared.scene_stores is not None else None
    scenes = SceneRecommender(
        resources, shared.config_center, resources_for=stores.resources_for if stores is not None else None
    )
    loaded = ServingVersion(
        version, root, manifest if manifest is not None else read_manifest(root), resources, scenes, popular
    )
    loaded.load_seconds = time.perf_counter() - began
    return loaded


def _rank_artifacts(root: Path) -> Any:
    """The rank stages' view of the version, or None when it has no rank inputs (those stages are left out)."""
    from dubbo_recsys.rank.base import RankArtifactError, RankArtifacts

    try:
        return RankArtifacts.load(root)
    except RankArtifactError as exc:
        log.info("version at %s has no rank artifacts: %s", root, exc)
        return None


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


def _popular_from_artifacts(root: Path, limit: int = 500) -> list[tuple[str, float]]:
    """The scene's cached popular list: the artifact's global hot list, scored by rank."""
    with open(root / "hot.json", encoding="utf-8") as handle:
        hot = json.load(handle).get("global", [])[:limit]
    return [(str(item), round(1.0 / (1.0 + rank), 6)) for rank, item in enumerate(hot)]
