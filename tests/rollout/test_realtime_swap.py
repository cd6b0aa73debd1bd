"""Live items survive a swap: realtime re-adds, to each version it loads, the items that arrived after that version's
build, and follows the new version from then on (against the real Redis; issue 13's ``RealtimeBeside.adopt``).

They are *re-added*, not carried over: the new version's recall is loaded from its own files, then the realtime
side applies every live item whose event is newer than the version's ``built_at`` (``ServingVersion.built_at_ms``)
before the version takes its first call.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from dubbo_recsys.interfaces.events import ItemEvent, ItemOp
from dubbo_recsys.provider.app import PipelineApp, PipelineOptions
from dubbo_recsys.provider.rollout.config import RolloutConfig
from dubbo_recsys.realtime.effects import Delivery, Position
from dubbo_recsys.realtime.sink import RedisEventSink
from tests.features.conftest import redis_space
from tests.recall.fixtures import write_artifacts
from tests.rollout.versions import derive, reorder_hot

__all__ = ["redis_space"]


def upsert(item: str, n: int) -> Delivery:
    event = ItemEvent(f"e-{item}", item, ItemOp.UPSERT, int(time.time() * 1000), {"category": "Horror"})
    return Delivery(Position("items:0", n), event)


async def until(check: Any, seconds: float = 30.0) -> None:
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < seconds, f"not within {seconds} s"
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_items_added_after_the_build_are_readded_to_the_next_version_before_it_serves(
    tmp_path: Path, redis_space: Any
) -> None:
    source = write_artifacts(tmp_path / "source")
    root = tmp_path / "root"
    a = derive(source, root)
    sink = RedisEventSink(redis_space.client, redis_space.layout)
    await sink.apply([upsert("before-start", 0)])
    options = PipelineOptions(
        rollout=RolloutConfig(root=root, poll_seconds=0.1),
        realtime_url=redis_space.url,
        redis_prefix=redis_space.prefix,
        budget_ms=5000,
        light_budget_ms=5000,
    )
    app = PipelineApp(options)
    await app.open()
    try:
        first = app.serving
        assert first.id == a and first.resources.recall.catalog.row_of("before-start") is not None
        await sink.apply([upsert("while-a-serves", 1)])
        await until(lambda: first.resources.recall.catalog.row_of("while-a-serves") is not None)  # followed

        b = derive(source, root, reorder_hot)  # built (in the past) without either live item
        serving: list[Any] = []

        def check_on_swap(version: Any) -> None:
            serving.append(app.serving)  # still A: hooks run before the version serves

        app.after_load.append(check_on_swap)
        await until(lambda: app.serving.id == b)
        second = app.serving
        assert serving == [first]
        catalog = second.resources.recall.catalog
        assert catalog.row_of("before-start") is not None and catalog.row_of("while-a-serves") is not None
        assert app.realtime.recall is second.resources.recall  # the follower moved with the swap

        await sink.apply([upsert("after-the-swap", 2)])
        await until(lambda: catalog.row_of("after-the-swap") is not None)
        assert app.realtime.snapshot()["liveItems"] == 3
    finally:
        await app.close()
