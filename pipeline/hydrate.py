"""Hydration steps: fetch the user's and the candidates' features once per request.

These are the seed's ``*_sample`` steps (``recallSample``, ``preRankingSample``,
``rankingSample``). The heavy pipeline reads the primary store (Redis in
production) through a ``Downstream`` guard, so a slow or dead Redis fails the
step fast and the resilient recommender moves on to the light pipeline. The
light pipeline's hydration (``light: true``) reads the local store built from
the artifacts instead, so it keeps answering while Redis is away.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dubbo_recsys.features.base import FeatureStore
from dubbo_recsys.pipeline.model import Candidate, Query, StageKind
from dubbo_recsys.pipeline.resilience import Downstream
from dubbo_recsys.pipeline.stages import ConfigError, Stage


def _store_and_guard(resources: Any, params: Mapping[str, Any], what: str) -> tuple[FeatureStore, Downstream | None]:
    unknown = set(params) - {"light"}
    if unknown:
        raise ConfigError(f"{what}: unknown parameters {sorted(unknown)}")
    if params.get("light") and getattr(resources, "local_features", None) is not None:
        return resources.local_features, None
    store = getattr(resources, "features", None)
    if store is None:
        raise ConfigError(f"{what} needs resources.features, a feature store")
    return store, resources.downstream(getattr(resources, "features_guard", "features"))


class UserHydrator(Stage, kind=StageKind.HYDRATE, names=("recallSample", "user_features")):
    """Loads the requesting user's profile and lastN into ``query.user`` (None for a new user)."""

    def __init__(self, store: FeatureStore, guard: Downstream | None) -> None:
        self.store, self.guard = store, guard

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> UserHydrator:
        return cls(*_store_and_guard(resources, params, "user hydration"))

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        ids = [query.request.userId]
        if self.guard is None:
            found = await self.store.users(ids)
        else:
            found = await self.guard.call(lambda: self.store.users(ids), query.remaining())
        query.user = found[0]
        return candidates


class ItemHydrator(Stage, kind=StageKind.HYDRATE, names=("preRankingSample", "rankingSample", "item_features")):
    """Attaches ``ItemFeatures`` to candidates that lack them, in one store call."""

    def __init__(self, store: FeatureStore, guard: Downstream | None) -> None:
        self.store, self.guard = store, guard

    @classmethod
    def from_config(cls, resources: Any, params: Mapping[str, Any]) -> ItemHydrator:
        return cls(*_store_and_guard(resources, params, "item hydration"))

    async def run(self, query: Query, candidates: list[Candidate]) -> list[Candidate]:
        missing = [c for c in candidates if c.item is None]
        if not missing:
            return candidates
        ids = [c.item_id for c in missing]
        if self.guard is None:
            found = await self.store.items(ids)
        else:
            found = await self.guard.call(lambda: self.store.items(ids), query.remaining())
        for candidate, item in zip(missing, found, strict=True):
            candidate.item = item
        return candidates
