"""``Recall`` loaded from an artifact directory with the embedded feature store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dubbo_recsys.features.base import ItemFeatures, UserFeatures
from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.features.seen import InMemorySeenFilter
from dubbo_recsys.recall import (
    ArtifactError,
    ChannelKind,
    ChannelPolicy,
    Recall,
    RecallConfig,
    RecallConfigError,
    RecallInputError,
)
from tests.recall.fixtures import USERS_PER_CATEGORY, category_of


def load(artifacts: Path, **kw: object) -> Recall:
    return Recall.load(artifacts, EmbeddedFeatureStore.from_artifacts(artifacts), **kw)


def category(item_id: str) -> str:
    return category_of(int(item_id[1:]))


@pytest.mark.asyncio
async def test_known_user_gets_unseen_items_of_their_taste_with_provenance(artifacts: Path) -> None:
    recall = load(artifacts)
    assert set(recall.channel_kinds) == set(ChannelKind)
    result = await recall.retrieve("u0", 4, exposure=["i0", "i1", "i2", "i3"])  # an Action fan; shown the seen ones
    ids = [item.item_id for item in result.items]
    assert ids[:2] == ["i4", "i5"] or ids[:2] == ["i5", "i4"]
    assert not {"i0", "i1", "i2", "i3"} & set(ids)
    assert {ChannelKind.ITEM_CF, ChannelKind.U2I} <= set(result.items[0].channels)
    assert result.dropped == {}
    assert [i.score for i in result.items] == sorted((i.score for i in result.items), reverse=True)


@pytest.mark.asyncio
async def test_seen_filter_applies_through_the_facade(artifacts: Path) -> None:
    seen = InMemorySeenFilter()
    recall = load(artifacts, seen=seen)
    await seen.add("u0", ["i4"])
    ids = [item.item_id for item in (await recall.retrieve("u0", 3, exposure=["i0", "i1", "i2", "i3"])).items]
    assert "i4" not in ids and ids[0] == "i5"


@pytest.mark.asyncio
async def test_new_user_gets_hot_and_lookalike_items(artifacts: Path) -> None:
    recall = load(artifacts)
    result = await recall.retrieve("nobody", 6, context={"taste": "Drama", "region": "north"})
    assert len(result.items) == 6
    kinds = {kind for item in result.items for kind in item.channels}
    assert kinds == {ChannelKind.HOT, ChannelKind.LOOKALIKE}
    # region "north" holds only Action fans, so look-alike mixes a little Action into a Drama profile
    # (hot lists every fixture item, so items carry both kinds; look-alike's order decides)
    assert ChannelKind.LOOKALIKE in result.items[0].channels and category(result.items[0].item_id) == "Drama"
    assert sum(category(item.item_id) == "Drama" for item in result.items) >= 4


@pytest.mark.asyncio
async def test_new_items_are_recalled_after_add_items(artifacts: Path) -> None:
    recall = load(artifacts)
    assert recall.add_items([ItemFeatures("brand-new", category="Horror")]) == ["brand-new"]
    horror_fan = f"u{3 * USERS_PER_CATEGORY}"
    result = await recall.retrieve(horror_fan, 30)
    new = [item for item in result.items if item.item_id == "brand-new"]
    # cold start's own channel, and u2i: the new vector went into the shared vector index too
    assert new and set(new[0].channels) == {ChannelKind.NEW_ITEMS, ChannelKind.U2I}
    assert recall.catalog.row_of("brand-new") == recall.catalog.built


class DownStore:
    async def users(self, user_ids: list[str]) -> list[UserFeatures | None]:
        raise ConnectionError("redis down")

    async def items(self, item_ids: list[str]) -> list[None]:
        raise ConnectionError("redis down")

    async def close(self) -> None:
        pass


@pytest.mark.asyncio
async def test_feature_store_outage_degrades_to_what_artifacts_know(artifacts: Path) -> None:
    recall = Recall.load(artifacts, DownStore())
    result = await recall.retrieve("u0", 5)
    kinds = {kind for item in result.items for kind in item.channels}
    assert ChannelKind.U2I in kinds and ChannelKind.ITEM_CF not in kinds  # no lastN without the store
    assert len(result.items) == 5


@pytest.mark.asyncio
@pytest.mark.parametrize("k", [0, -3, 10**9, 2.5, True, "10"])
async def test_bad_k_is_a_clear_error(artifacts: Path, k: object) -> None:
    with pytest.raises(RecallInputError):
        await load(artifacts).retrieve("u0", k)


@pytest.mark.asyncio
async def test_bad_user_id_exposure_or_context_is_a_clear_error(artifacts: Path) -> None:
    recall = load(artifacts)
    with pytest.raises(RecallInputError):
        await recall.retrieve(42, 5)  # not a string
    with pytest.raises(RecallInputError):
        await recall.retrieve("u0", 5, exposure="i1")
    with pytest.raises(RecallInputError):
        await recall.retrieve("u0", 5, exposure=[1, 2])  # not strings
    with pytest.raises(RecallInputError):
        await recall.retrieve("u0", 5, context={"region": 3})  # not a string
    unknown = await recall.retrieve("u0", 5, exposure=["not-an-item"])  # unknown ids are simply not there
    assert len(unknown.items) == 5


@pytest.mark.asyncio
async def test_config_leaves_channels_out(artifacts: Path) -> None:
    config = RecallConfig(channels={ChannelKind.HOT: ChannelPolicy(quota=3), ChannelKind.U2I: ChannelPolicy()})
    recall = load(artifacts, config=config)
    assert set(recall.channel_kinds) == {ChannelKind.HOT, ChannelKind.U2I}


def test_config_validation() -> None:
    with pytest.raises(RecallConfigError):
        RecallConfig(channels={ChannelKind.U2I: ChannelPolicy()})  # no hot floor
    with pytest.raises(RecallConfigError):
        RecallConfig(decay=1.5)
    with pytest.raises(RecallConfigError):
        RecallConfig.from_mapping({"channels": {"bogus": {}}})
    with pytest.raises(RecallConfigError):
        RecallConfig.from_mapping({"history": 10, "typo": 1})
    config = RecallConfig.from_mapping({"channels": {"hot": {"quota": 7}, "itemcf": {"weight": 2.0}}, "history": 10})
    assert config.channels[ChannelKind.HOT].quota == 7 and config.history == 10


def test_broken_artifacts_are_clear_errors(artifacts: Path, tmp_path: Path) -> None:
    store = EmbeddedFeatureStore.from_artifacts(artifacts)
    with pytest.raises(ArtifactError, match="manifest"):
        Recall.load(tmp_path, store)
    broken = tmp_path / "broken"
    shutil.copytree(artifacts, broken)
    np.savez(broken / "neighbors/itemcf.npz", index=np.zeros((3, 2), np.int32), score=np.zeros((3, 2), np.float32))
    with pytest.raises(ArtifactError, match="itemcf"):
        Recall.load(broken, store)
    shutil.copytree(artifacts, broken, dirs_exist_ok=True)
    (broken / "hot.json").write_text(json.dumps({"global": []}))
    with pytest.raises(ArtifactError, match=r"hot\.json"):
        Recall.load(broken, store)
    (broken / "manifest.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(ArtifactError, match="format"):
        Recall.load(broken, store)
