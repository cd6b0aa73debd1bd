"""Every channel on its own, against the tiny fixture (see ``fixtures.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubbo_recsys.features.base import ItemFeatures, UserFeatures
from dubbo_recsys.recall.artifacts import ArtifactDir, ItemCatalog, NeighborTable
from dubbo_recsys.recall.base import Candidates, ChannelKind, RecallConfigError, RecallQuery
from dubbo_recsys.recall.cold_items import ContentEmbedder, NewItemsChannel
from dubbo_recsys.recall.hot import HotChannel, HotLists
from dubbo_recsys.recall.neighbors import I2IChannel, ItemCFChannel, SwingChannel, UserCFChannel, aggregate
from dubbo_recsys.recall.vectors import LookalikeChannel, ProfileCentroids, U2IChannel, UserVectors, VectorSearch
from tests.recall.fixtures import CATEGORIES, PER_CATEGORY, USERS_PER_CATEGORY, category_of


def query(user_row: int | None = None, history: list[int] = (), **context: str) -> RecallQuery:  # type: ignore[assignment]  # an empty tuple default, read only
    return RecallQuery(
        user_id=f"u{user_row}", user_row=user_row, history=np.array(history, dtype=np.int64), context=context
    )


def test_aggregate_sums_per_row_and_skips_padding() -> None:
    got = aggregate(np.array([3, 1, 3, -1, 2]), np.array([0.5, 0.2, 0.4, 9.0, 0.1]), 2)
    assert got.rows.tolist() == [3, 1]
    assert got.scores.tolist() == pytest.approx([0.9, 0.2])


def test_top_k_never_returns_minus_inf_and_sorts() -> None:
    got = Candidates.top_k(np.array([0.1, -np.inf, 0.7, 0.3], dtype=np.float32), 3)
    assert got.rows.tolist() == [2, 3, 0]


@pytest.mark.asyncio
async def test_itemcf_weights_recent_history_more() -> None:
    # item 0's neighbour is 10, item 1's neighbour is 11; both similarity 1.0
    index = np.full((12, 1), -1)
    score = np.zeros((12, 1), dtype=np.float32)
    index[0, 0], index[1, 0] = 10, 11
    score[0, 0] = score[1, 0] = 1.0
    channel = ItemCFChannel(NeighborTable(index, score), decay=0.5)
    assert channel.kind is ChannelKind.ITEM_CF and channel.name == "itemcf"
    got = await channel.retrieve(query(history=[1, 0]), 5)  # 1 is the most recent
    assert got.rows.tolist() == [11, 10]
    assert got.scores.tolist() == pytest.approx([1.0, 0.5])
    assert not channel.enable(query(user_row=0))  # no history, nothing to say


@pytest.mark.parametrize(
    "channel_class, name", [(ItemCFChannel, "itemcf"), (SwingChannel, "swing"), (I2IChannel, "i2i")]
)
@pytest.mark.asyncio
async def test_item_neighbour_channels_recall_the_rest_of_the_category(
    artifacts: Path, channel_class: type, name: str
) -> None:
    table = ArtifactDir(artifacts).neighbors(name if name != "i2i" else "i2i_emb", 24)
    assert table is not None
    channel = channel_class(table)
    got = await channel.retrieve(query(history=[9, 8, 7, 6]), 10)  # a Comedy fan
    assert {10, 11} <= set(got.rows.tolist())  # the Comedy items not yet seen (filtering seen ones is the merger's job)
    assert {category_of(r) for r in got.rows[:6].tolist()} == {"Comedy"}


def test_item_neighbour_channel_rejects_bad_decay() -> None:
    with pytest.raises(RecallConfigError):
        ItemCFChannel(NeighborTable(np.zeros((1, 1), np.int64), np.zeros((1, 1), np.float32)), decay=0.0)


@pytest.mark.asyncio
async def test_usercf_recalls_items_of_similar_users(artifacts: Path) -> None:
    data = ArtifactDir(artifacts)
    table = data.neighbors("usercf", 20)
    assert table is not None
    channel = UserCFChannel(table, data.train(20, 24))
    user = 2 * USERS_PER_CATEGORY  # a Drama fan
    assert channel.enable(query(user_row=user)) and not channel.enable(query(history=[1]))
    got = await channel.retrieve(query(user_row=user), 10)
    assert {category_of(r) for r in got.rows.tolist()} == {"Drama"}


def _search(artifacts: Path, *, faiss_index: bool) -> tuple[UserVectors, VectorSearch]:
    data = ArtifactDir(artifacts)
    items, users = data.embeddings("items", 24), data.embeddings("users", 20)
    return UserVectors(users, items), VectorSearch(data.faiss_index() if faiss_index else None, items)


@pytest.mark.parametrize("faiss_index", [True, False])
@pytest.mark.asyncio
async def test_u2i_from_stored_user_vector(artifacts: Path, faiss_index: bool) -> None:
    channel = U2IChannel(*_search(artifacts, faiss_index=faiss_index))
    got = await channel.retrieve(query(user_row=3 * USERS_PER_CATEGORY), 6)  # a Horror fan
    assert {category_of(r) for r in got.rows.tolist()} == {"Horror"}
    assert np.all(np.diff(got.scores) <= 1e-6)


@pytest.mark.asyncio
async def test_u2i_for_unknown_user_uses_history_mean_and_offload(artifacts: Path) -> None:
    vectors, search = _search(artifacts, faiss_index=True)
    search.offload = True
    got = await U2IChannel(vectors, search).retrieve(query(history=[0, 1]), 6)  # Action history, no user row
    assert {category_of(r) for r in got.rows.tolist()} == {"Action"}


@pytest.mark.asyncio
async def test_hot_is_never_empty_and_prefers_region_then_category(artifacts: Path) -> None:
    catalog = ItemCatalog(ArtifactDir(artifacts).item_ids())
    lists = HotLists.from_json(ArtifactDir(artifacts).hot(), catalog)
    channel = HotChannel(lists, [category_of(i) for i in range(24)])
    cold = await channel.retrieve(query(), 5)
    assert len(cold) == 5  # a brand-new user with no context still gets items
    regional = await channel.retrieve(query(region="north", category="Drama"), 8)
    # score boost**-list / (1 + position): region list, then the context category's, then global, interleaved
    assert regional.rows[:4].tolist() == [5, 11, 12, 13]
    assert 0 in regional.rows.tolist()  # the global head is still represented
    assert len(set(regional.rows.tolist())) == len(regional)  # no duplicates across lists


def test_hot_lists_refuse_an_empty_global_list(artifacts: Path) -> None:
    from dubbo_recsys.recall.base import ArtifactError

    with pytest.raises(ArtifactError):
        HotLists.from_json({"global": ["nope"]}, ItemCatalog(["a"]))


@pytest.mark.asyncio
async def test_lookalike_places_a_new_user_by_profile(artifacts: Path) -> None:
    data = ArtifactDir(artifacts)
    users = data.embeddings("users", 20)
    assert users is not None
    profiles = [{"taste": CATEGORIES[u // USERS_PER_CATEGORY], "gender": "F" if u % 2 else "M"} for u in range(20)]
    centroids = ProfileCentroids.build(profiles, users, shrink=1.0)
    channel = LookalikeChannel(centroids, _search(artifacts, faiss_index=True)[1])
    newcomer = RecallQuery(user_id="new", user=UserFeatures("new", {"taste": "Comedy", "gender": "M"}))
    assert channel.enable(newcomer)
    got = await channel.retrieve(newcomer, 6)
    assert {category_of(r) for r in got.rows.tolist()} == {"Comedy"}
    assert not channel.enable(query(user_row=1))  # known users use u2i
    stranger = RecallQuery(user_id="x", user=UserFeatures("x", {"taste": "Opera"}))
    assert len(await channel.retrieve(stranger, 6)) == 0  # nothing to place it by: no made-up answer


def test_lookalike_centroids_leave_one_out_and_ignore_rare_values() -> None:
    vectors = np.eye(4)
    profiles = [{"zip": "a", "g": "x"}, {"zip": "b", "g": "x"}, {"zip": "c", "g": "y"}, {"zip": "d", "g": "y"}]
    centroids = ProfileCentroids.build(profiles, vectors, shrink=0.0, min_count=1)
    alone = centroids.vector({"zip": "a"})
    assert alone is not None and int(np.argmax(alone)) == 0  # a segment of one is that one user
    assert centroids.vector({"zip": "a"}, minus=vectors[0]) is None  # left out, nobody remains to look like
    left_out = centroids.vector({"g": "x"}, minus=vectors[0])
    assert left_out is not None and int(np.argmax(left_out)) == 1  # the other "x" user, not the user itself
    strict = ProfileCentroids.build(profiles, vectors, min_count=3)
    assert strict.vector({"g": "x", "zip": "a"}) is None  # no value shared by 3 users: no look-alike


@pytest.mark.asyncio
async def test_new_items_become_recallable_by_content(artifacts: Path) -> None:
    data = ArtifactDir(artifacts)
    catalog = ItemCatalog(data.item_ids())
    items = data.embeddings("items", 24)
    embedder = ContentEmbedder(items.shape[1])  # type: ignore[union-attr]  # the fixture builds item vectors
    for row in range(24):
        embedder.add(ItemFeatures(f"i{row}", category=category_of(row)), items[row])  # type: ignore[index]  # the fixture builds item vectors
    vectors = UserVectors(data.embeddings("users", 20), items)
    channel = NewItemsChannel(embedder, catalog, vectors)
    assert not channel.enable(query(user_row=0))  # nothing added yet
    placed = channel.add(
        [
            ItemFeatures("fresh-drama", category="Drama"),
            ItemFeatures("fresh-comedy", category="Comedy"),
            ItemFeatures("unplaceable", category="Opera"),
            ItemFeatures("i0", category="Action"),
        ]
    )
    assert placed == ["fresh-drama", "fresh-comedy"]  # built items keep their vectors; unknown content is not placed
    drama_fan = query(user_row=2 * USERS_PER_CATEGORY)
    got = await channel.retrieve(drama_fan, 1)
    assert catalog.ids_of(got.rows) == ["fresh-drama"]
    assert catalog.row_of("fresh-drama") == 24 and catalog.built == 24
    assert PER_CATEGORY * len(CATEGORIES) == 24
