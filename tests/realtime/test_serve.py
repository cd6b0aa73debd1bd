"""``serve --realtime --consume`` over ML-100K: events sent to the real broker change the next dubbo:// answer.

One provider (Kafka, a consumer in process) serves the checks: a clicked item is filtered as seen,
the click's item-CF neighbours are recalled (lastN changed), a new item is retrievable by the vector
and cold-start channels, a removed item is never served; /metrics and the console show the consumer.
A second provider, restarted on the same Redis with Redis Streams as its event source, serves the
items added before it started (``reapply_live_items`` at start) and applies a stream event.
Needs ARTIFACTS_ML100K, REDIS_URL and KAFKA_BOOTSTRAP (tests/ci).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from dubbo_recsys.features.codec import KeyLayout
from dubbo_recsys.interfaces.events import Action, ItemEvent, ItemOp, UserEvent, encode_event
from dubbo_recsys.interfaces.recommend import RecommendRequest
from dubbo_recsys.provider.client import DubboClient
from dubbo_recsys.realtime.source import EventKind, EventsConfig
from dubbo_recsys.realtime.streams import publish
from tests.funnel.peers import funnel_command, recommend
from tests.java_sample.provider_process import started
from tests.realtime.peers import produce, topics_on
from tests.support import require_env

pytestmark = [pytest.mark.kafka, pytest.mark.redis]
PROBE = {  # recall only, so a test sees what recall retrieves and by which channels
    "dataId": "probe",
    "content": {
        "version": "1",
        "config": {
            "pipeline_conf": {
                "pipeline": ["('recall_sample','recallSample')", "('recall','multi_channel')"],
                "recallNum": 1000,
                "preRankingNum": 200,
            }
        },
    },
}


async def poll(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 15.0) -> float:
    """Seconds until ``check`` held (it is retried every 50 ms)."""
    began = time.monotonic()
    while not await check():
        if time.monotonic() - began > seconds:
            raise AssertionError(f"not within {seconds:.0f}s: {what}")
        await _sleep(0.05)
    return time.monotonic() - began


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def now_ms() -> int:
    return int(time.time() * 1000)


def event(user: str, item: str, action: Action = Action.CLICK) -> tuple[bytes, bytes]:
    return user.encode(), encode_event(UserEvent(uuid.uuid4().hex, user, item, action, now_ms()))


def item_event(item: str, op: ItemOp, features: dict[str, Any] | None = None) -> tuple[bytes, bytes]:
    return item.encode(), encode_event(ItemEvent(uuid.uuid4().hex, item, op, now_ms(), features or {}))


async def answer(client: DubboClient, user: str, *, scene: str = "", count: int = 10) -> dict[str, str]:
    response = await recommend(client, RecommendRequest(userId=user, scene=scene, count=count))
    assert response.code == 200, response.message
    return {item.itemId: item.channel for item in response.items}


def closest_user(artifacts: Path, categories: tuple[str, ...]) -> str:
    """The known user whose stored two-tower vector ranks a new item of ``categories`` highest."""
    from dubbo_recsys.recall.tower import ItemTower

    tower = ItemTower.load(artifacts)
    assert tower is not None
    vector = tower.encode([("rt-new-1", categories)])[0]
    users = np.load(artifacts / "embeddings/users.npy")
    items = np.load(artifacts / "embeddings/items.npy")
    rank = ((users @ items.T) > (users @ vector)[:, None]).sum(axis=1)
    return (artifacts / "ids/users.txt").read_text().split()[int(np.argmin(rank))]


@pytest.fixture(scope="module")
def artifacts() -> Path:
    return Path(require_env("ARTIFACTS_ML100K"))


@pytest.mark.asyncio
async def test_events_change_the_next_answer_and_survive_a_restart(artifacts: Path, tmp_path: Path) -> None:
    redis_url, bootstrap = require_env("REDIS_URL"), require_env("KAFKA_BOOTSTRAP")
    prefix = f"serve-{uuid.uuid4().hex[:8]}"
    topics = topics_on("kafka", bootstrap, prefix, partitions=2)
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "probe.json").write_text(json.dumps(PROBE))
    realtime = ["--realtime", redis_url, "--redis-prefix", prefix, "--consume", "--scenes", str(scenes)]
    common = ["--budget-ms", "3000", "--light-budget-ms", "1500", "--rest-port", "0"]
    itemcf = np.load(artifacts / "neighbors/itemcf.npz")["index"]
    item_ids = (artifacts / "ids/items.txt").read_text().split()
    user = "7"
    kafka = ["--events", topics.url]
    with started(funnel_command(artifacts, *realtime, *kafka, *common), tmp_path / "kafka.log", 180) as provider:
        async with await DubboClient.connect(provider.host, provider.port) as client:
            # seen: the first recommended item, once clicked, is never recommended again
            first = next(iter(await answer(client, user)))
            produce(bootstrap, topics.events.users_topic, [event(user, first)])

            async def filtered() -> bool:
                return first not in await answer(client, user)

            await poll(filtered, f"{first} filtered as seen")
            # lastN: after a click on an item far from the user's taste, its item-CF neighbour is recalled by item-CF
            recalled = await answer(client, user, scene="probe", count=1000)
            far = next(
                row
                for row in range(len(item_ids))
                if item_ids[itemcf[row][0]] not in recalled and item_ids[row] not in recalled and itemcf[row][0] >= 0
            )
            neighbour = item_ids[itemcf[far][0]]
            produce(bootstrap, topics.events.users_topic, [event(user, item_ids[far], Action.PLAY)])

            async def follows_the_click() -> bool:
                return "itemcf" in (await answer(client, user, scene="probe", count=1000)).get(neighbour, "")

            await poll(follows_the_click, f"item-CF neighbour {neighbour} of {item_ids[far]} recalled")
            # a new item: retrievable by the vector index and cold start, without a rebuild; u2i asked for
            # by the user whose two-tower vector ranks the item's (the item tower's) highest
            fan = closest_user(artifacts, ("Horror", "Thriller"))
            produce(
                bootstrap,
                topics.events.items_topic,
                [item_event("rt-new-1", ItemOp.UPSERT, {"category": "Horror", "categories": ["Horror", "Thriller"]})],
            )

            async def retrievable() -> bool:
                channel = (await answer(client, fan, scene="probe", count=1000)).get("rt-new-1", "")
                return "new_items" in channel and "u2i" in channel

            await poll(retrievable, "rt-new-1 recalled by u2i and new_items")
            # removal: the user's current first item disappears from every answer
            top = next(iter(await answer(client, "13")))
            produce(bootstrap, topics.events.items_topic, [item_event(top, ItemOp.REMOVE)])

            async def removed() -> bool:
                return top not in await answer(client, "13") and top not in await answer(
                    client, "13", scene="probe", count=1000
                )

            await poll(removed, f"{top} removed")
            # malformed and unknown events: dead-lettered with their reasons, counted, the consumer goes on
            bad = [
                (b"7", b"{not json"),
                (b"7", json.dumps({**json.loads(event(user, "1")[1]), "action": "like"}).encode()),
            ]
            produce(bootstrap, topics.events.users_topic, bad)
        http_port = int(provider.log().split("listening http://127.0.0.1:")[1].split()[0])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as http:

            async def counted() -> bool:
                text = (await http.get("/metrics")).text
                return 'reason="not_json"} 1.0' in text and 'reason="unknown_action"} 1.0' in text

            await poll(counted, "dead letters on /metrics")
            metrics = (await http.get("/metrics")).text
            state = (await http.get("/console/state")).json()
    assert "dubbo_recsys_realtime_events_total{consumer=" in metrics and 'outcome="applied"' in metrics
    assert f'partition="{topics.events.users_topic}:0"' in metrics
    assert "dubbo_recsys_realtime_freshness_seconds_bucket" in metrics
    assert 'dubbo_recsys_realtime_live_items{state="removed"} 1.0' in metrics
    [row] = state["realtime"]["rows"]
    assert row["source"] == "kafka" and row["applied"] >= 2 and row["partitions"] >= 2 and row["deadLettered"] == 2
    # a provider started later, on Redis Streams, serves what realtime added before it started
    streams = ["--realtime", redis_url, "--redis-prefix", prefix, "--consume", "--scenes", str(scenes)]
    with started(funnel_command(artifacts, *streams, *common), tmp_path / "streams.log", 180) as provider:
        async with await DubboClient.connect(provider.host, provider.port) as client:
            probe = await answer(client, user, scene="probe", count=1000)
            assert "rt-new-1" in probe and top not in await answer(client, "13")
            layout = KeyLayout(prefix)
            from dubbo_recsys.features.redis import RedisConfig, close_client

            redis = RedisConfig(url=redis_url, prefix=prefix).client()
            try:
                second = next(iter(await answer(client, user)))
                value = event(user, second)[1]
                await publish(redis, layout, EventsConfig.parse(redis_url), EventKind.USER, user, value)

                async def filtered_again() -> bool:
                    return second not in await answer(client, user)

                await poll(filtered_again, f"{second} filtered after a Redis Streams event")
            finally:
                await close_client(redis)
