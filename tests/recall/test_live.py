"""Items that arrive or leave after the build, and trending, applied to a loaded ``Recall``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dubbo_recsys.features.base import ItemFeatures
from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.features.realtime import LiveCatalog, LiveItem
from dubbo_recsys.recall import ChannelKind, Recall
from dubbo_recsys.recall.live import apply_live_items, reapply_live_items
from tests.recall.fixtures import USERS_PER_CATEGORY
from tests.support import require_env

HORROR_FAN = f"u{3 * USERS_PER_CATEGORY}"


def load(artifacts: Path) -> Recall:
    return Recall.load(artifacts, EmbeddedFeatureStore.from_artifacts(artifacts))


async def ids(recall: Recall, user: str, k: int = 30) -> dict[str, tuple[ChannelKind, ...]]:
    return {item.item_id: item.channels for item in (await recall.retrieve(user, k)).items}


@pytest.mark.asyncio
async def test_a_new_item_is_retrievable_by_cold_start_and_the_vector_index(artifacts: Path) -> None:
    recall = load(artifacts)
    index_size = recall.new_items.search.count
    catalog = LiveCatalog()
    report = await apply_live_items(recall, [LiveItem(ItemFeatures("fresh", category="Horror"), 10, seq=1)], catalog)
    assert report.placed == ["fresh"] and report.cursor == 1 and catalog.get("fresh") is not None
    assert recall.new_items.search.count == index_size + 1
    assert set((await ids(recall, HORROR_FAN))["fresh"]) == {ChannelKind.NEW_ITEMS, ChannelKind.U2I}
    again = await apply_live_items(recall, [LiveItem(ItemFeatures("fresh", category="Horror"), 11, seq=2)])
    assert again.placed == ["fresh"] and recall.new_items.search.count == index_size + 1
    await apply_live_items(recall, [LiveItem(ItemFeatures("fresh"), 12, removed=True, seq=3)])
    assert recall.new_items.vector_of(recall.catalog.row_of("fresh")) is None
    assert "fresh" not in await ids(recall, HORROR_FAN)


@pytest.mark.asyncio
async def test_an_item_without_any_known_content_is_not_placed(artifacts: Path) -> None:
    recall = load(artifacts)
    report = await apply_live_items(recall, [LiveItem(ItemFeatures("odd", category="Opera"), 10, seq=1)])
    assert report.placed == [] and report.unplaced == ["odd"]
    assert "odd" not in await ids(recall, HORROR_FAN)


@pytest.mark.asyncio
async def test_a_removed_item_is_never_recalled_until_it_comes_back(artifacts: Path) -> None:
    recall = load(artifacts)
    before = await ids(recall, HORROR_FAN, 50)
    victim = next(iter(before))
    catalog = LiveCatalog()
    await apply_live_items(recall, [LiveItem(ItemFeatures(victim), 20, removed=True, seq=1)], catalog)
    assert victim not in await ids(recall, HORROR_FAN, 50) and catalog.is_removed(victim)
    for user in ("u0", "u7", "nobody"):  # whatever channel would have brought it
        assert victim not in await ids(recall, user, 50)
    await apply_live_items(recall, [LiveItem(ItemFeatures(victim, category="Horror"), 30, seq=2)], catalog)
    assert victim in await ids(recall, HORROR_FAN, 50) and not catalog.is_removed(victim)


@pytest.mark.asyncio
async def test_trending_items_are_recalled_when_there_are_some(artifacts: Path) -> None:
    recall = load(artifacts)
    assert recall.trending is not None and not recall.trending.enable(await recall.query(HORROR_FAN))
    recall.trending.update([("i1", 9.0), ("unknown", 5.0), ("i2", 3.0)])
    assert len(recall.trending) == 2
    found = await ids(recall, HORROR_FAN, 60)
    assert ChannelKind.TRENDING in found["i1"] and ChannelKind.TRENDING in found["i2"]


@pytest.mark.asyncio
async def test_reapply_gives_a_fresh_recall_the_items_added_since_its_build(artifacts: Path, redis_space: Any) -> None:
    from dubbo_recsys.features.realtime import RealtimeReader
    from dubbo_recsys.interfaces.events import ItemEvent, ItemOp
    from dubbo_recsys.realtime.effects import Delivery, Position
    from dubbo_recsys.realtime.sink import RedisEventSink

    sink = RedisEventSink(redis_space.client, redis_space.layout)
    events = [
        ItemEvent("a", "before-build", ItemOp.UPSERT, 1_000, {"category": "Horror"}),
        ItemEvent("b", "after-build", ItemOp.UPSERT, 3_000, {"category": "Horror"}),
        ItemEvent("c", "i18", ItemOp.REMOVE, 3_500),
    ]
    await sink.apply([Delivery(Position("items:0", n), e) for n, e in enumerate(events)])
    recall, catalog = load(artifacts), LiveCatalog()
    report = await reapply_live_items(recall, RealtimeReader(redis_space.client, redis_space.layout), 2_000, catalog)
    assert report.placed == ["after-build"] and report.removed == 1 and report.cursor == 3 == catalog.cursor
    found = await ids(recall, HORROR_FAN, 60)
    assert "after-build" in found and "before-build" not in found and "i18" not in found


@pytest.mark.asyncio
async def test_the_item_tower_places_a_new_ml100k_item_among_its_category(tmp_path: Path) -> None:
    """On the real ML-100K build: the exported item tower embeds an unseen id by its categories."""
    root = Path(require_env("ARTIFACTS_ML100K"))
    store = EmbeddedFeatureStore.from_artifacts(root)
    recall = Recall.load(root, store)
    channel = recall.new_items
    assert channel is not None and channel.tower is not None
    [vector] = channel.embed([ItemFeatures("film-of-tomorrow", category="Horror", categories=("Horror",))])
    assert vector is not None and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    items = (root / "features/items.jsonl").read_text().splitlines()
    categories = np.array([json.loads(line)["category"] for line in items])
    built = np.load(root / "embeddings/items.npy")
    nearest = np.argsort(-(built @ vector))[:20]
    assert (categories[nearest] == "Horror").mean() >= 0.5  # most of its neighbours are horror films
    started = time.perf_counter()
    report = await apply_live_items(
        recall, [LiveItem(ItemFeatures("film-of-tomorrow", category="Horror", categories=("Horror",)), 1, seq=1)]
    )
    assert report.placed == ["film-of-tomorrow"] and time.perf_counter() - started < 5.0
    assert recall.new_items.search.count == len(items) + 1


@pytest.mark.asyncio
async def test_a_user_whose_history_changed_gets_a_fresh_tower_vector() -> None:
    """On ML-100K: the stored user vector serves the build's history; realtime items in lastN make u2i and
    pre-rank use the user tower on the new history instead (``Recall.refreshed_user_vector``)."""
    from dubbo_recsys.features.base import UserFeatures

    root = Path(require_env("ARTIFACTS_ML100K"))
    store = EmbeddedFeatureStore.from_artifacts(root)
    recall = Recall.load(root, store)
    [user] = await store.users(["1"])
    assert user is not None and recall.vectors is not None
    assert await recall.refreshed_user_vector("1", user) is None  # as built: the stored vector is right
    recent = ("183", "185", "200")  # items realtime events put in front of the user's lastN
    changed = UserFeatures(user.user_id, user.profile, (*recent, *user.last_n))
    vector = await recall.refreshed_user_vector("1", changed)
    stored = recall.vectors.user_embeddings[recall.user_rows["1"]]
    assert vector is not None and vector.shape == stored.shape and not np.allclose(vector, stored)
    again = await recall.refreshed_user_vector("1", changed)
    assert again is vector  # remembered: recall and pre-rank of one request ask once
