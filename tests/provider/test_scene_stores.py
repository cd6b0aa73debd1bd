"""The funnel reading from the real Redis Cluster (REDIS_CLUSTER_URL), in process over the tiny artifacts:
named by ``--redis redis+cluster://...``, and by a scene's ``redis_conf {redisCluster {addrs}}``
(``provider.scene_stores``). What shows the cluster is read: a seen-filter write on the cluster removes
the item from the answers that use it, and only from those."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.app import PipelineApp, PipelineOptions
from dubbo_recsys.provider.scene_stores import redis_config_from_scene
from dubbo_recsys.registry.scene_config import RedisConf, parse_scene_config
from tests.recall.fixtures import write_artifacts
from tests.support import require_env


def test_the_seeds_redis_conf_maps_onto_a_cluster_config() -> None:
    conf = RedisConf(addrs=("10.0.0.5:7000", "10.0.0.6:7000"), password="p@ss", read_timeout_ms=80, max_retries=3)
    config = redis_config_from_scene(conf, "shop")
    assert config is not None and config.cluster
    assert config.url == "redis+cluster://:p%40ss@10.0.0.5:7000,10.0.0.6:7000"
    assert (config.socket_timeout, config.connect_timeout, config.retries, config.prefix) == (0.1, 600.0, 3, "shop")
    assert redis_config_from_scene(RedisConf(), None) is None


def cluster_scene(data_id: str, addrs: list[str]) -> dict[str, object]:
    """The seed's layout: redis_conf.redisCluster.addrs, and no pipeline (the default one)."""
    return {
        "dataId": data_id,
        "content": {"version": "1", "config": {"redis_conf": {"redisCluster": {"addrs": addrs}}}},
    }


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_artifacts(tmp_path_factory.mktemp("cluster-app-artifacts"))


@pytest_asyncio.fixture
async def loaded_prefix(tiny: Path) -> AsyncIterator[str]:
    """The tiny artifacts loaded into the cluster under a fresh prefix (deleted afterwards)."""
    from dubbo_recsys.features.artifacts import ArtifactFeatures
    from dubbo_recsys.features.load import load_artifacts
    from dubbo_recsys.features.redis import RedisConfig, close_client

    config = RedisConfig(url=require_env("REDIS_CLUSTER_URL"), prefix=f"app-{uuid.uuid4().hex[:8]}")
    client = config.client()
    try:
        await load_artifacts(ArtifactFeatures.open(tiny), client, config.layout, ttl=300)
        yield config.prefix
    finally:
        keys = [k async for k in client.scan_iter(match=f"{config.prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await close_client(client)


async def mark_seen(prefix: str, user: str, item: str) -> None:
    from dubbo_recsys.features.redis import RedisConfig, RedisSeenFilter

    seen = RedisSeenFilter.from_config(RedisConfig(url=require_env("REDIS_CLUSTER_URL"), prefix=prefix))
    try:
        await seen.add(user, [item])
    finally:
        await seen.close()


async def top_items(app: PipelineApp, scene: str = "") -> list[str]:
    answer = await app.recommend(RecommendRequest(userId="u0", scene=scene, count=4))
    assert answer.code == 200 and answer.pipeline == "full", answer.message
    return [item.itemId for item in answer.items]


@pytest.mark.redis
@pytest.mark.asyncio
async def test_serve_with_a_cluster_url(tiny: Path, loaded_prefix: str) -> None:
    url = require_env("REDIS_CLUSTER_URL")
    app = PipelineApp(PipelineOptions(artifacts=tiny, redis_url=url, redis_prefix=loaded_prefix, budget_ms=3000))
    await app.open()
    try:
        first = await top_items(app)
        await mark_seen(loaded_prefix, "u0", first[0])
        again = await top_items(app)
        assert first[0] not in again and again
    finally:
        await app.close()


@pytest.mark.redis
@pytest.mark.asyncio
async def test_a_scene_naming_a_redis_cluster_reads_from_it(tiny: Path, loaded_prefix: str, tmp_path: Path) -> None:
    addrs = require_env("REDIS_CLUSTER_URL").removeprefix("redis+cluster://").split(",")
    document = cluster_scene("on-cluster", addrs[:2])
    assert parse_scene_config(json.dumps(document)).redis is not None  # the seed's spelling parses
    (tmp_path / "on-cluster.json").write_text(json.dumps(document))
    app = PipelineApp(PipelineOptions(artifacts=tiny, scenes=str(tmp_path), redis_prefix=loaded_prefix, budget_ms=3000))
    await app.open()  # no --redis: the process's own store is the embedded one
    try:
        default, scened = await top_items(app), await top_items(app, "on-cluster")
        assert default == scened  # same artifacts, nothing seen yet
        await mark_seen(loaded_prefix, "u0", default[0])
        assert default[0] not in await top_items(app, "on-cluster")  # the cluster's seen filter applies
        assert (await top_items(app))[0] == default[0]  # the process's in-memory one does not know it
        guards = set(app.resources.downstreams)
        assert any(name.startswith("features@127.0.0.1:") for name in guards), guards
    finally:
        await app.close()
