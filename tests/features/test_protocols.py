"""Every backend has the methods of the contract it claims, with the same parameters, as coroutines."""

from __future__ import annotations

import inspect
import os

import pytest

from dubbo_recsys.features.base import FeatureStore, SeenFilter
from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.features.seen import InMemorySeenFilter


def backends() -> list[tuple[type, type]]:
    pairs: list[tuple[type, type]] = [(EmbeddedFeatureStore, FeatureStore), (InMemorySeenFilter, SeenFilter)]
    try:
        from dubbo_recsys.features.redis import RedisFeatureStore, RedisSeenFilter
    except ImportError:  # the redis extra comes from tests/ci/15-redis.sh: only a dev machine may lack it
        if os.environ.get("CI"):
            raise
        return pairs
    return [*pairs, (RedisFeatureStore, FeatureStore), (RedisSeenFilter, SeenFilter)]


@pytest.mark.parametrize("backend, protocol", backends(), ids=lambda t: t.__name__)
def test_backend_matches_protocol(backend: type, protocol: type) -> None:
    for name, member in vars(protocol).items():
        if name.startswith("_") or not callable(member):
            continue
        implementation = getattr(backend, name, None)
        assert implementation is not None, f"{backend.__name__} lacks {name}"
        assert inspect.iscoroutinefunction(implementation), f"{backend.__name__}.{name} is not async"
        assert list(inspect.signature(implementation).parameters) == list(inspect.signature(member).parameters)
