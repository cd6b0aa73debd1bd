"""The funnel on the real Redis Cluster (REDIS_CLUSTER_URL, 3 masters + 3 replicas): load, serve,
and a master killed under load.

``dubbo-recsys load`` writes ML-100K to the cluster (each batch acknowledged by a replica),
``dubbo-recsys serve --redis redis+cluster://...`` answers a scene that reads the user's features
and the 200 ranked items' features from it, while a bounded concurrent load of ``recommend`` calls
runs and, beside it, a writer adds to users' seen filters and applies realtime events through the
consumer's sink, both with ``?wait_replicas=1``. Then one master is SIGKILLed:

- no call fails or goes missing and p99 stays within ``P99_BOUND_MS``;
- while its replica is being promoted the answers are degraded (the features breaker sends them
  to the light pipeline over the local store), and once it is promoted they are full again;
- nothing acknowledged is lost: every seen-filter write and realtime event whose ``WAIT`` counted
  the replica is there after the failover, and so is every loaded item;
- the killed node is started again and rejoins as a replica, so the cluster is whole for the
  tests after this one.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from dubbo_recsys.features.base import FeatureStoreError
from tests.features.cluster_nodes import TestCluster
from tests.funnel.conftest import BUDGET_MS, FEATURES_RECOVERY_SECONDS, LIGHT_BUDGET_MS
from tests.funnel.peers import LoadReport, cli_entry, funnel_command, known_users, run_load
from tests.funnel.test_faults import CONCURRENCY, MAX_CALLS, assert_sound, share, since, until_full
from tests.java_sample.provider_process import REPO_ROOT, RunningProvider, started
from tests.support import require_env

pytestmark = [pytest.mark.redis, pytest.mark.timeout(300)]

SCENE = "cluster-items"


def write_scene(scenes_dir: Path) -> None:
    """The default funnel plus ``rankingSample``: every full answer reads the user and its 200
    pre-ranked items from the cluster, so every master takes part in every request."""
    document = {
        "dataId": SCENE,
        "content": {
            "version": "1",
            "config": {
                "pipeline_conf": {
                    "pipeline": [
                        "('recall_sample','recallSample')",
                        "('recall','multi_channel')",
                        "('pre_ranking','dssmRank')",
                        "('ranking_sample','rankingSample')",
                        "('ranking','deepfm')",
                        "('re_rank','mmr')",
                    ],
                    "pipeline_light": ["('recall','multi_channel')", "('light_ranking','fmRank')"],
                    "recallNum": 1000,
                    "preRankingNum": 200,
                }
            },
        },
    }
    (scenes_dir / f"{SCENE}.json").write_text(json.dumps(document))


@pytest.fixture(scope="module")
def cluster_prefix(artifacts: Path) -> Iterator[str]:
    """ML-100K loaded into the cluster under a prefix of this module's own, with replica acks;
    its keys (and the writer's) are deleted afterwards."""
    url = require_env("REDIS_CLUSTER_URL")
    prefix = f"funnel-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [
            *cli_entry(),
            "load",
            "--artifacts",
            str(artifacts),
            "--redis",
            f"{url}?wait_replicas=1",
            "--prefix",
            prefix,
            "--ttl",
            "3600",
            "--quiet",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    yield prefix
    asyncio.run(delete_prefix(url, prefix))


async def delete_prefix(url: str, prefix: str) -> None:
    from dubbo_recsys.features.redis import RedisConfig, close_client

    client = RedisConfig(url=url, prefix=prefix, socket_timeout=5.0).client()
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
    finally:
        await close_client(client)


@pytest.fixture(scope="module")
def cluster_funnel(
    artifacts: Path, cluster_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProvider]:
    scenes = tmp_path_factory.mktemp("cluster-scenes")
    write_scene(scenes)
    command = funnel_command(
        artifacts,
        "--redis-prefix",
        cluster_prefix,
        "--scenes",
        str(scenes),
        "--budget-ms",
        str(BUDGET_MS),
        "--light-budget-ms",
        str(LIGHT_BUDGET_MS),
        redis_url=require_env("REDIS_CLUSTER_URL"),
    )
    with started(command, tmp_path_factory.mktemp("cluster-serve") / "provider.log", ready_timeout=180) as provider:
        yield provider


class Writer:
    """Writes every few ms, users spread over every slot, with ``?wait_replicas=1``: in turn one item
    added to a user's seen filter (``RedisSeenFilter.add``), and one realtime exposure event applied
    by the consumer's sink (``RedisEventSink``: the user's Lua script over its ``{u:<id>}`` keys). Keeps
    what was acknowledged (WAIT counted the replica) and how many writes were refused."""

    def __init__(self, url: str, prefix: str) -> None:
        from dubbo_recsys.features.redis import RedisConfig, RedisSeenFilter
        from dubbo_recsys.realtime.sink import RedisEventSink

        self.config = RedisConfig(url=f"{url}?wait_replicas=1&wait_timeout_ms=200", prefix=prefix)
        self.client = self.config.client()
        ack = self.config.write_ack
        self.seen = RedisSeenFilter(self.client, self.config.layout, ack=ack, owns_client=True)
        self.sink = RedisEventSink(self.client, self.config.layout, ack=ack)
        self.acknowledged: list[tuple[str, str]] = []  # (user, item) seen-filter adds
        self.events: Counter[str] = Counter()  # user -> exposure events acknowledged
        self.refused = 0

    async def run(self, stop: asyncio.Event, max_writes: int = 20_000) -> None:
        from dubbo_recsys.interfaces.events import Action, UserEvent
        from dubbo_recsys.realtime.effects import Delivery, Position

        for n in range(max_writes):
            if stop.is_set():
                return
            user, item = f"writer-{n % 500}", f"item-{n}"
            event = UserEvent(f"w-{n}", user, item, Action.EXPOSURE, int(time.time() * 1000))
            write = self.seen.add(user, [item]) if n % 2 else self.sink.apply([Delivery(Position("w", n), event)])
            try:
                await asyncio.wait_for(write, timeout=2.0)
            except (FeatureStoreError, TimeoutError):
                self.refused += 1
            else:
                if n % 2:
                    self.acknowledged.append((user, item))
                else:
                    self.events[user] += 1
            await asyncio.sleep(0.005)

    async def lost(self) -> list[str]:
        """What was acknowledged and is not there: seen-filter items, and users with fewer exposures
        counted than acknowledged (an event refused after it was applied may count too: more is fine)."""
        from dubbo_recsys.features.realtime import RealtimeReader

        missing = []
        for user, item in self.acknowledged:
            if not (await self.seen.might_contain(user, [item]))[0]:
                missing.append(f"seen {user} {item}")
        reader = RealtimeReader(self.client, self.config.layout)
        for user, count in self.events.items():
            counted = (await reader.counters(user)).get("exposure", 0)
            if counted < count:
                missing.append(f"events {user}: {counted} counted of {count} acknowledged")
        return missing


@pytest.mark.asyncio
async def test_master_killed_under_load(cluster_funnel: RunningProvider, cluster_prefix: str, artifacts: Path) -> None:
    from dubbo_recsys.features.redis import RedisConfig, RedisFeatureStore

    url = require_env("REDIS_CLUSTER_URL")
    cluster = TestCluster.from_env()
    cluster.wait_healthy()
    writer = Writer(url, cluster_prefix)
    stop, began, watched = asyncio.Event(), time.monotonic(), LoadReport()
    load = asyncio.create_task(
        run_load(
            cluster_funnel.host,
            cluster_funnel.port,
            known_users(artifacts),
            seconds=120,
            max_calls=MAX_CALLS,
            concurrency=CONCURRENCY,
            scene=SCENE,
            stop=stop,
            began=began,
            report=watched,
        )
    )
    writing = asyncio.create_task(writer.run(stop))
    victim = cluster.masters()[0]
    try:
        await asyncio.sleep(4)
        slot = min(await asyncio.to_thread(cluster.slots_of, victim))
        killed = since(began)
        await asyncio.to_thread(cluster.kill, victim)
        promoted_to = await asyncio.to_thread(cluster.wait_promoted, slot, victim)
        promoted = since(began)
        back = await until_full(watched, began, promoted, FEATURES_RECOVERY_SECONDS + 20)
        await asyncio.to_thread(cluster.restart, victim)
        await asyncio.to_thread(cluster.wait_healthy)
        whole = since(began)
        await asyncio.sleep(1)
    finally:
        stop.set()
        report = await load
        await writing
    lost = await writer.lost()
    store = RedisFeatureStore.from_config(RedisConfig(url=url, prefix=cluster_prefix))
    try:
        item_ids = (artifacts / "ids/items.txt").read_text().split()
        items = await store.items(item_ids)
    finally:
        await store.close()
        await writer.seen.close()
    print(
        f"\ncluster failover: killed {victim.name} at {killed:.1f} s, {promoted_to.name} promoted at "
        f"{promoted:.1f} s ({promoted - killed:.1f} s), full again {back:.1f} s, whole again {whole:.1f} s; "
        f"{report.summary()}; writer: {len(writer.acknowledged)} seen adds and {sum(writer.events.values())} "
        f"realtime events acknowledged, {writer.refused} refused, {len(lost)} acknowledged lost"
    )

    assert_sound(report)
    before, during = report.pipelines(0, killed), report.pipelines(killed + 1.0, promoted)
    assert share(before, "full") >= 0.8, before
    assert sum(during.values()) > 0 and share(during, "light") >= 0.9, during
    assert report.pipelines(back)["full"] > 0
    assert lost == [] and len(writer.acknowledged) > 100 and sum(writer.events.values()) > 100
    assert writer.refused > 0  # the dead master's users were refused, not silently lost
    assert sum(i is not None for i in items) == len(item_ids)  # every loaded item survived the failover
