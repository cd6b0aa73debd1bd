"""The feature store on the real Redis Cluster (REDIS_CLUSTER_URL: 3 masters, 3 replicas, from
tests/ci/16-redis-cluster.sh): how a batch is split, acknowledged writes, a live resharding, dead
seed nodes, the load command. (The store's answers on the cluster are checked against the embedded
store by the tests of test_redis.py, which run on both; a master killed under load is in
tests/funnel/test_cluster_failover.py.)"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from dubbo_recsys.features.artifacts import ArtifactFeatures
from dubbo_recsys.features.base import FeatureStoreError
from dubbo_recsys.features.keys import ITEM_BUCKETS, item_bucket
from dubbo_recsys.features.load import load_artifacts
from tests.features.cluster_nodes import TestCluster
from tests.features.conftest import RedisSpace
from tests.support import free_port, require_env

# --- URLs (no server) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, nodes, user, password",
    [
        ("redis+cluster://10.0.0.5:7000", [("10.0.0.5", 7000)], None, None),
        ("redis+cluster://a:1,b:2,a:1/0", [("a", 1), ("b", 2)], None, None),
        ("redis+cluster://:s%40cret@h:7000,[::1]:7001/", [("h", 7000), ("::1", 7001)], None, "s@cret"),
        ("redis+cluster://ops:pw@h:7000", [("h", 7000)], "ops", "pw"),
    ],
)
def test_cluster_urls(url: str, nodes: list[tuple[str, int]], user: str | None, password: str | None) -> None:
    from dubbo_recsys.features.cluster import parse_cluster_url

    parsed = parse_cluster_url(url)
    assert list(parsed.nodes) == nodes and parsed.username == user and parsed.password == password


@pytest.mark.parametrize(
    "url, problem",
    [
        ("redis+cluster://", "is not host:port"),
        ("redis+cluster://h", "is not host:port"),
        ("redis+cluster://h:7000,", "is not host:port"),
        ("redis+cluster://h:0", "is not host:port"),
        ("redis+cluster://h:x", "is not host:port"),
        ("redis+cluster://h:7000/1", "only database 0"),
        ("redis+cluster://h:7000?wait_replicas=one", "whole number"),
        ("redis+cluster://h:7000?wait_timeout_ms=5", "needs wait_replicas"),
        ("redis+cluster://h:7000?wait_replicas=1&wait_timeout_ms=600", "shorter than the socket timeout"),
        ("rediss+cluster://h:7000", "must start with"),
    ],
)
def test_bad_cluster_urls_say_what_is_wrong(url: str, problem: str) -> None:
    from dubbo_recsys.features.redis import RedisConfig

    with pytest.raises(FeatureStoreError, match=problem):
        RedisConfig(url=url)


def test_wait_options_are_ours_and_the_rest_is_redis_pys() -> None:
    from dubbo_recsys.features.redis import RedisConfig, WriteAck

    config = RedisConfig(url="redis://h:1/0?health_check_interval=3&wait_replicas=2&wait_timeout_ms=50")
    assert config.write_ack == WriteAck(2, 50) and not config.cluster
    assert config._client_url == "redis://h:1/0?health_check_interval=3"
    assert RedisConfig(url="redis+cluster://h:1?wait_replicas=0").write_ack is None
    assert RedisConfig(url="redis+cluster://h:1").cluster


# --- on the cluster -------------------------------------------------------------------------------


async def loaded(space: RedisSpace, artifact_dir: Path) -> Any:
    from dubbo_recsys.features.redis import RedisFeatureStore

    await load_artifacts(ArtifactFeatures.open(artifact_dir), space.client, space.layout, ttl=600, batch_size=64)
    return RedisFeatureStore(space.client, space.layout)


def spy_batches(client: Any) -> tuple[list[tuple[str, int]], list[str]]:
    """Record the per-master writes of the fast path, and the pipelines of the key-by-key fallback."""
    reader = client._batch_reader
    batches: list[tuple[str, int]] = []
    fallback: list[str] = []
    send, pipeline = reader._send, client.pipeline

    async def recording_send(batch: Any, keys: Any) -> None:
        batches.append((batch.node.name, len(batch.groups)))
        await send(batch, keys)

    def recording_pipeline(*args: Any, **options: Any) -> Any:
        fallback.append("pipeline")
        return pipeline(*args, **options)

    reader._send = recording_send
    client.pipeline = recording_pipeline
    return batches, fallback


async def mget_calls(masters: list[Any]) -> int:
    total = 0
    for node in masters:
        with node.client() as client:
            stats = await asyncio.to_thread(client.info, "commandstats")
        total += int(stats.get("cmdstat_mget", {}).get("calls", 0))
    return total


@pytest.mark.redis
@pytest.mark.asyncio
async def test_a_batch_is_one_mget_per_bucket_and_one_write_per_master(
    cluster_space: RedisSpace, artifact_dir: Path
) -> None:
    store = await loaded(cluster_space, artifact_dir)
    cluster = TestCluster.from_env()
    masters = cluster.masters()
    ids = [f"i{n}" for n in range(200)]
    buckets = {item_bucket(i) for i in ids}
    batches, fallback = spy_batches(cluster_space.client)
    before = await mget_calls(masters)
    got = await store.items(ids)
    after = await mget_calls(masters)
    assert [i.item_id for i in got if i is not None] == ids
    assert len(buckets) == ITEM_BUCKETS  # 200 random ids touch every bucket
    assert len(batches) == len({name for name, _ in batches}) == 3  # one write per master, each once
    assert sum(groups for _, groups in batches) == len(buckets) and fallback == []
    assert after - before == len(buckets)  # what the masters saw: one MGET per bucket, nothing else


@pytest.mark.redis
@pytest.mark.asyncio
async def test_acknowledged_writes_wait_for_the_replica(cluster_space: RedisSpace) -> None:
    from dubbo_recsys.features.redis import RedisConfig, RedisSeenFilter, RedisStoreError
    from dubbo_recsys.features.seen import SeenConfig

    layout, client = cluster_space.layout, cluster_space.client
    ack = RedisConfig(url=f"{cluster_space.url}?wait_replicas=1").write_ack
    acked = RedisSeenFilter(client, layout, SeenConfig(), ack=ack)
    await acked.add("ann", ["m1", "m2"])
    cluster = TestCluster.from_env()
    replica = cluster.replica_of(cluster.owner(layout.user_slot("ann")))
    with replica.client() as direct:
        direct.execute_command("READONLY")
        assert direct.get(acked.key("ann")) == await client.get(acked.key("ann"))  # the replica holds it
    too_many = RedisConfig(url=f"{cluster_space.url}?wait_replicas=2&wait_timeout_ms=50").write_ack
    with pytest.raises(RedisStoreError, match="only 1 of 2 replicas acknowledged"):
        await RedisSeenFilter(client, layout, SeenConfig(), ack=too_many).add("bob", ["m1"])
    assert await acked.might_contain("bob", ["m1"]) == [True]  # applied, just not acknowledged


@pytest.mark.redis
@pytest.mark.asyncio
async def test_a_scripts_writes_are_acknowledged_on_its_keys_master(cluster_space: RedisSpace) -> None:
    """What the realtime consumer sends: one script per user over the user's keys (one slot)."""
    from dubbo_recsys.features.redis import WriteAck, execute_writes

    layout, client = cluster_space.layout, cluster_space.client
    keys = [layout.user_key("last", "zoe"), layout.user_key("cnt", "zoe")]
    script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])"
    commands = [("EVAL", script, 2, *keys, "m9")]
    assert await execute_writes(client, commands, WriteAck(1, 200), "EVAL") == [1]
    cluster = TestCluster.from_env()
    with cluster.replica_of(cluster.owner(layout.user_slot("zoe"))).client() as direct:
        direct.execute_command("READONLY")
        assert direct.get(keys[0]) == b"m9" and direct.get(keys[1]) == b"1"


@pytest.mark.redis
@pytest.mark.asyncio
async def test_reads_follow_a_live_resharding(cluster_space: RedisSpace, artifact_dir: Path) -> None:
    """A bucket's slot moved to another master: halfway (its MGETs get TRYAGAIN, its keys one by one
    an answer or ASK) and done (MOVED), every answer stays complete; afterwards the fast path reads
    from the new owner."""
    store = await loaded(cluster_space, artifact_dir)
    cluster = TestCluster.from_env()
    ids = [f"i{n}" for n in range(400)]
    expected = await store.items(ids)
    slot = cluster_space.layout.item_slot("i1")
    source = cluster.owner(slot)
    target = next(m for m in cluster.masters() if m != source)
    rest = await asyncio.to_thread(cluster.move_slot, slot, target, halfway=True)
    finished = False
    try:
        _, fallback = spy_batches(cluster_space.client)
        assert await store.items(ids) == expected  # half of the bucket's keys on each node: TRYAGAIN, then ASK
        assert fallback, "the migrating bucket was read key by key"
        await asyncio.to_thread(cluster.finish_move, slot, source, target, rest)
        finished = True
        assert await store.items(ids) == expected  # MOVED: the client's slot table learns the owner
        batches, fallback = spy_batches(cluster_space.client)
        assert await store.items(ids) == expected
        assert fallback == [] and len(batches) == 3
    finally:  # the cluster as it was, for the tests after this one
        if not finished:
            await asyncio.to_thread(cluster.finish_move, slot, source, target, rest)
        await asyncio.to_thread(cluster.move_slot, slot, source)
    assert cluster.owner(slot) == source


@pytest.mark.redis
@pytest.mark.asyncio
async def test_dead_seeds_are_skipped_and_no_live_seed_fails_fast(
    cluster_space: RedisSpace, artifact_dir: Path
) -> None:
    from dubbo_recsys.features.redis import RedisConfig, RedisFeatureStore

    await loaded(cluster_space, artifact_dir)
    live = cluster_space.url.removeprefix("redis+cluster://").split(",")[0]
    mixed = RedisConfig(url=f"redis+cluster://127.0.0.1:{free_port()},{live}", prefix=cluster_space.prefix)
    store = RedisFeatureStore.from_config(mixed)
    try:
        [item] = await store.items(["i1"])
        assert item is not None and item.item_id == "i1"
    finally:
        await store.close()
    dead = RedisConfig(url=f"redis+cluster://127.0.0.1:{free_port()}", connect_timeout=0.5, retries=0)
    store = RedisFeatureStore.from_config(dead)
    started = time.monotonic()
    try:
        with pytest.raises(FeatureStoreError, match="MGET"):
            await store.items(["i1"])
    finally:
        await store.close()
    assert time.monotonic() - started < 5


@pytest.mark.redis
def test_load_command_writes_to_the_cluster(artifact_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dubbo_recsys.features import load
    from dubbo_recsys.features.config import FeatureBackend, FeaturesConfig, open_features
    from dubbo_recsys.features.redis import RedisConfig

    url = require_env("REDIS_CLUSTER_URL")
    prefix = f"test-load-{free_port()}"
    parser = argparse.ArgumentParser()
    load.add_arguments(parser)
    args = parser.parse_args(
        ["--artifacts", str(artifact_dir), "--redis", f"{url}?wait_replicas=1", "--prefix", prefix, "--ttl", "120"]
    )
    assert load.run(args) == 0
    assert "loaded 60 users and 401 items" in capsys.readouterr().out

    async def check() -> None:
        config = RedisConfig(url=url, prefix=prefix)
        features = await open_features(FeaturesConfig(backend=FeatureBackend.REDIS, redis=config))
        client = features.store._client  # type: ignore[attr-defined]  # the Redis store's client, to list its keys
        try:
            [user] = await features.store.users(["u1"])
            assert user is not None and user.user_id == "u1"
            meta = await features.store.meta()  # type: ignore[attr-defined]  # only the Redis store has meta()
            assert meta is not None and (meta["users"], meta["items"]) == (60, 401)
            keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
            assert len(keys) == 60 + 400 + 1
            await client.delete(*keys)
        finally:
            await features.close()

    asyncio.run(check())
