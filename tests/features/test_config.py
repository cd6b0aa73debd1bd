"""open_features: one config slice picks the backend; bad setups fail at startup, not on the first request."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubbo_recsys.features.artifacts import ArtifactFeatures
from dubbo_recsys.features.base import FeatureStoreError
from dubbo_recsys.features.config import FeatureBackend, FeaturesConfig, open_features
from dubbo_recsys.features.load import load_artifacts
from tests.features.conftest import RedisSpace

pytestmark = pytest.mark.asyncio


async def test_embedded_is_the_default(artifact_dir: Path) -> None:
    features = await open_features(FeaturesConfig(artifacts=artifact_dir))
    try:
        [item] = await features.store.items(["i3"])
        assert item is not None and item.item_id == "i3"
        await features.seen.add("u", ["i3"])
        assert (await features.seen.might_contain("u", ["i3"])) == [True]
        assert features.backend is FeatureBackend.EMBEDDED
    finally:
        await features.close()


async def test_embedded_needs_artifacts(tmp_path: Path) -> None:
    with pytest.raises(FeatureStoreError, match="artifact directory"):
        FeaturesConfig()
    with pytest.raises(FeatureStoreError):
        await open_features(FeaturesConfig(artifacts=tmp_path / "absent"))
    with pytest.raises(FeatureStoreError):
        FeaturesConfig(backend="redis")  # type: ignore[arg-type]  # a wrong value on purpose


@pytest.mark.redis
async def test_redis_backend_shares_one_pool_and_checks_the_load(redis_space: RedisSpace, artifact_dir: Path) -> None:
    from dubbo_recsys.features.redis import RedisConfig

    config = FeaturesConfig(
        backend=FeatureBackend.REDIS, redis=RedisConfig(url=redis_space.url, prefix=redis_space.prefix)
    )
    with pytest.raises(FeatureStoreError, match="dubbo-recsys load"):
        await open_features(config)
    await load_artifacts(ArtifactFeatures.open(artifact_dir), redis_space.client, redis_space.layout, ttl=300)
    features = await open_features(config)
    try:
        [user] = await features.store.users(["u7"])
        assert user is not None and user.user_id == "u7"
        await features.seen.add("u7", ["i1"])
        assert await features.seen.might_contain("u7", ["i1"]) == [True]
    finally:
        await features.close()


@pytest.mark.redis
async def test_redis_backend_down_fails_at_open() -> None:
    from dubbo_recsys.features.redis import RedisConfig
    from tests.support import free_port

    config = FeaturesConfig(
        backend=FeatureBackend.REDIS, redis=RedisConfig(url=f"redis://127.0.0.1:{free_port()}/0", retries=0)
    )
    with pytest.raises(FeatureStoreError, match="PING"):
        await open_features(config)
