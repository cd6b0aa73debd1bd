"""The provider's realtime side: re-apply at start, follow changes, and adopt a newly loaded recall
(what a rollout does after loading another version), against the real Redis."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.interfaces.events import ItemEvent, ItemOp
from dubbo_recsys.provider.realtime import RealtimeBeside, RealtimeOptions
from dubbo_recsys.realtime.effects import Delivery, Position
from dubbo_recsys.realtime.sink import RedisEventSink
from dubbo_recsys.recall import Recall
from tests.features.conftest import redis_space
from tests.recall.fixtures import write_artifacts

__all__ = ["redis_space"]


def upsert(item: str, ts: int, n: int) -> Delivery:
    return Delivery(Position("items:0", n), ItemEvent(f"e{n}", item, ItemOp.UPSERT, ts, {"category": "Horror"}))


async def eventually(check: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_start_follow_and_adopt_a_new_recall(tmp_path: Path, redis_space: Any) -> None:
    root = write_artifacts(tmp_path / "artifacts")
    sink = RedisEventSink(redis_space.client, redis_space.layout)
    await sink.apply([upsert("before-start", 5_000, 0)])
    beside = RealtimeBeside(RealtimeOptions(url=redis_space.url, prefix=redis_space.prefix))
    store, _seen = await beside.open(EmbeddedFeatureStore.from_artifacts(root))
    first = Recall.load(root, store)
    trending: list[Any] = []
    try:
        await beside.start(first, built_at_ms=1_000, on_trending=trending.append)
        assert first.catalog.row_of("before-start") is not None  # re-applied at start
        await sink.apply([upsert("while-serving", 6_000, 1)])
        await eventually(lambda: first.catalog.row_of("while-serving") is not None)  # followed
        second = Recall.load(root, store)  # "another version": a fresh recall over the same build
        report = await beside.adopt(second, built_at_ms=5_500)
        assert report.placed == ["while-serving"] and second.catalog.row_of("before-start") is None
        await sink.apply([upsert("after-adopt", 7_000, 2)])
        await eventually(lambda: second.catalog.row_of("after-adopt") is not None)
        assert first.catalog.row_of("after-adopt") is None  # the old one is left alone
        assert beside.snapshot()["liveItems"] == 3 and trending  # trending was refreshed (empty here)
    finally:
        await beside.close()
