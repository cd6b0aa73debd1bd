"""The realtime overlay of the feature store: lastN in front of the build's, live items, and degrading
to the build when Redis is away (the state is written by the real consumer's sink, on the real Redis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dubbo_recsys.features.base import ItemFeatures, UserFeatures
from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.features.realtime import LiveCatalog, LiveItem, RealtimeFeatureStore, RealtimeReader, merge_last_n
from dubbo_recsys.features.redis import RedisConfig, close_client
from dubbo_recsys.interfaces.events import Action, UserEvent
from dubbo_recsys.realtime.effects import Delivery, Position
from dubbo_recsys.realtime.sink import RedisEventSink
from tests.support import free_port


def test_realtime_items_go_first_and_each_item_once() -> None:
    built = UserFeatures("u", {"age": "30"}, ("a", "b", "c"))
    merged = merge_last_n("u", built, ["x", "b"], 4)
    assert merged == UserFeatures("u", {"age": "30"}, ("x", "b", "a", "c"))
    assert merge_last_n("u", built, [], 4) is built
    assert merge_last_n("new", None, ["x"], 4) == UserFeatures("new", {}, ("x",))  # a user the build never saw
    latest = merge_last_n("u", built, ["p", "q", "r", "s", "t"], 4)
    assert latest is not None and latest.last_n == ("p", "q", "r", "s")


@pytest.mark.asyncio
async def test_the_overlay_serves_realtime_last_n_and_live_items(artifact_dir: Path, redis_space: Any) -> None:
    base = EmbeddedFeatureStore.from_artifacts(artifact_dir)
    reader = RealtimeReader(redis_space.client, redis_space.layout, last_n=50)
    store = RealtimeFeatureStore(base, reader)
    [user] = await base.users(["u1"])
    assert user is not None
    clicks = [UserEvent(f"e{n}", "u1", f"fresh-{n}", Action.CLICK, 1_000 + n) for n in range(2)]
    await RedisEventSink(redis_space.client, redis_space.layout).apply(
        [Delivery(Position("users:0", n), e) for n, e in enumerate(clicks)]
    )
    [served] = await store.users(["u1"])
    assert served is not None and served.profile == user.profile
    assert served.last_n[:2] == ("fresh-1", "fresh-0") and served.last_n[2:] == user.last_n[: len(served.last_n) - 2]
    store.catalog.apply(LiveItem(ItemFeatures("i3", category="Renamed"), 5, seq=1))
    store.catalog.apply(LiveItem(ItemFeatures("i4"), 6, removed=True, seq=2))
    store.catalog.apply(LiveItem(ItemFeatures("brand-new", category="Comedy"), 7, seq=3))
    i3, i4, new, i5 = await store.items(["i3", "i4", "brand-new", "i5"])
    assert i3 is not None and i3.category == "Renamed"
    assert i4 is None and new is not None and new.category == "Comedy"
    assert i5 == (await base.items(["i5"]))[0]


@pytest.mark.asyncio
async def test_without_redis_the_build_is_served(artifact_dir: Path) -> None:
    client = RedisConfig(url=f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.2, retries=0).client()
    base = EmbeddedFeatureStore.from_artifacts(artifact_dir)
    store = RealtimeFeatureStore(base, RealtimeReader(client, RedisConfig().layout), LiveCatalog())
    try:
        assert await store.users(["u1", "nobody"]) == await base.users(["u1", "nobody"])
        assert store.failures == 1
    finally:
        await close_client(client)
