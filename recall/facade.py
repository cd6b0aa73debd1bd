"""``Recall``: everything recall needs, loaded once from an artifact directory.

What the pipeline calls::

    recall = Recall.load("artifacts/ml-100k", store, seen=bloom)
    result = await recall.retrieve("196", 500, exposure=["242"], context={"region": "CA"})
    for item in result.items:
        item.item_id, item.score, item.channels   # channels: tuple of ChannelKind

``load`` builds each channel whose artifact exists and whose kind the config
lists; ``retrieve`` hydrates the query (one feature store call for the user's
profile and lastN), runs the ``Merger`` and turns rows back into item ids
(``merge`` stops before that last step and returns the merger's arrays). A
feature store failure degrades the query to what the artifacts know (the user
row, hence u2i, user-CF and hot still answer), it does not fail the request.
``add_items`` makes items created after the build recallable (cold start); ``recall.live``
applies the realtime live catalog (new items, removals) and feeds ``trending``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dubbo_recsys.features.artifacts import ArtifactFeatures
from dubbo_recsys.features.base import FeatureStore, FeatureStoreError, ItemFeatures, SeenFilter, UserFeatures
from dubbo_recsys.recall.artifacts import ArtifactDir, ItemCatalog
from dubbo_recsys.recall.base import ArtifactError, Channel, ChannelKind, RecallInputError, RecallQuery
from dubbo_recsys.recall.cold_items import ContentEmbedder, NewItemsChannel
from dubbo_recsys.recall.config import RecallConfig
from dubbo_recsys.recall.hot import HotChannel, HotLists
from dubbo_recsys.recall.live import RemovedItems, TrendingChannel
from dubbo_recsys.recall.merger import CandidateFilter, Merger, MergeResult, SeenBloomFilter
from dubbo_recsys.recall.neighbors import I2IChannel, ItemCFChannel, SwingChannel, UserCFChannel
from dubbo_recsys.recall.tower import ItemTower, UserTower
from dubbo_recsys.recall.vectors import LookalikeChannel, ProfileCentroids, U2IChannel, UserVectors, VectorSearch

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecalledItem:
    item_id: str
    score: float  # fused rank score, comparable within one answer only
    channels: tuple[ChannelKind, ...]


@dataclass(frozen=True, slots=True)
class RecallResult:
    items: list[RecalledItem]
    dropped: Mapping[ChannelKind, str] = field(default_factory=dict)  # channels that failed or were late


class Recall:
    """The recall facade: hydrate, merge channels, translate rows to ids."""

    def __init__(
        self,
        catalog: ItemCatalog,
        user_rows: Mapping[str, int],
        merger: Merger,
        store: FeatureStore,
        config: RecallConfig,
        new_items: NewItemsChannel | None = None,
        user_vectors: np.ndarray | None = None,
        *,
        removed: RemovedItems | None = None,
        trending: TrendingChannel | None = None,
    ) -> None:
        self.catalog = catalog
        self.user_rows = user_rows
        self.merger = merger
        self.store = store
        self.config = config
        self.new_items = new_items
        self.user_vectors = user_vectors  # stored two-tower user vectors (evaluation leaves users out of look-alike)
        self.removed = removed if removed is not None else RemovedItems(catalog)  # items realtime removed
        self.trending = trending  # fed by the provider's realtime follower (recall.live)

    @classmethod
    def load(
        cls,
        path: str | Path,
        store: FeatureStore,
        seen: SeenFilter | None = None,
        config: RecallConfig | None = None,
    ) -> Recall:
        """Build every configured channel whose artifacts exist; ``ArtifactError`` names a bad file."""
        config = config or RecallConfig()
        try:
            artifacts, features = ArtifactDir(path), ArtifactFeatures.open(path)
            catalog = ItemCatalog(artifacts.item_ids())
            user_ids = artifacts.user_ids()
            channels, new_items, user_vectors = _build_channels(artifacts, features, catalog, len(user_ids), config)
        except FeatureStoreError as exc:  # the feature files' reader has its own error tree
            raise ArtifactError(str(exc)) from exc
        removed = RemovedItems(catalog)  # first: a removed item costs no seen-filter lookup
        filters: list[CandidateFilter] = [removed]
        if seen is not None:
            filters.append(SeenBloomFilter(seen, catalog))
        trending = TrendingChannel(catalog) if ChannelKind.TRENDING in config.channels else None
        if trending is not None:
            channels.append(trending)
        merger = Merger(
            [(channel, config.channels[channel.kind]) for channel in channels], filters, offset=config.fusion_offset
        )
        log.info("recall loaded from %s: %s", path, ", ".join(channel.name for channel in channels))
        user_rows = {user_id: row for row, user_id in enumerate(user_ids)}
        return cls(
            catalog, user_rows, merger, store, config, new_items, user_vectors, removed=removed, trending=trending
        )

    @property
    def channel_kinds(self) -> tuple[ChannelKind, ...]:
        return tuple(channel.kind for channel, _ in self.merger.channels)

    @property
    def vectors(self) -> UserVectors | None:
        """The two-tower user vectors the vector channels use (None without embeddings)."""
        return next((c.vectors for c, _ in self.merger.channels if isinstance(c, U2IChannel)), None)

    async def refreshed_user_vector(self, user_id: str, user: UserFeatures | None) -> np.ndarray | None:
        """The user tower's vector for a known user whose history changed since the build (realtime events),
        else None: the stored vector is still right. Pre-rank asks, so it ranks by the same vector as u2i."""
        vectors = self.vectors
        if vectors is None or user is None:
            return None
        query = RecallQuery(user_id=user_id, user=user, user_row=self.user_rows.get(user_id))
        if not vectors.changed_since_build(query):
            return None
        return await vectors.vector(query)

    def add_items(self, items: Iterable[ItemFeatures]) -> list[str]:
        """Make items created after the build recallable; returns the ids that could be placed."""
        if self.new_items is None:
            return []
        return self.new_items.add(items)

    async def query(
        self, user_id: str, context: Mapping[str, str] | None = None, user: UserFeatures | None = None
    ) -> RecallQuery:
        """Hydrate one request: the user's features (one store call unless the caller already has
        them, e.g. the pipeline's user hydration step), row and lastN rows."""
        if not isinstance(user_id, str):
            raise RecallInputError(f"user id must be a string, got {type(user_id).__name__}")
        if user is not None and user.user_id != user_id:
            raise RecallInputError(f"features of user {user.user_id!r} given for user {user_id!r}")
        if user is None:
            try:
                user = (await self.store.users([user_id]))[0]
            except Exception as exc:  # degrade to what the artifacts know; the store's outage is not ours
                log.warning("feature store failed for user %r, recalling without features: %s", user_id, exc)
        history = self.catalog.rows_of(list(user.last_n)) if user is not None else np.empty(0, dtype=np.int64)
        return RecallQuery(
            user_id=user_id,
            user=user,
            user_row=self.user_rows.get(user_id),
            history=history,
            context=dict(context or {}),
        )

    async def retrieve(
        self,
        user_id: str,
        k: int,
        *,
        exposure: Sequence[str] = (),
        context: Mapping[str, str] | None = None,
        user: UserFeatures | None = None,
    ) -> RecallResult:
        return self.result(await self.merge(user_id, k, exposure=exposure, context=context, user=user))

    async def merge(
        self,
        user_id: str,
        k: int,
        *,
        exposure: Sequence[str] = (),
        context: Mapping[str, str] | None = None,
        user: UserFeatures | None = None,
    ) -> MergeResult:
        """``retrieve`` without the last step: the merger's rows, fused scores and provenance bits
        (``catalog.ids_of(rows)`` are the ids); the pipeline's recall stage builds its candidates
        from these arrays directly."""
        if not isinstance(k, int) or isinstance(k, bool) or not 0 < k <= self.config.max_k:
            raise RecallInputError(f"k must be an int in 1..{self.config.max_k}, got {k!r}")
        if isinstance(exposure, (str, bytes)) or not all(isinstance(item, str) for item in exposure):
            raise RecallInputError("exposure must be a sequence of item id strings")
        if context is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in context.items()):
            raise RecallInputError("context must map strings to strings")
        query = await self.query(user_id, context, user)
        exclude = self.catalog.rows_of(list(exposure))
        return await self.merger.run(query, k, exclude)

    def result(self, merged: MergeResult) -> RecallResult:
        ids = self.catalog.ids_of(merged.rows)
        items = [
            RecalledItem(item_id, float(score), MergeResult.channels_of(int(bits)))
            for item_id, score, bits in zip(ids, merged.scores.tolist(), merged.sources.tolist(), strict=True)
        ]
        return RecallResult(items, dict(merged.dropped))


def _build_channels(
    artifacts: ArtifactDir, features: ArtifactFeatures, catalog: ItemCatalog, users: int, config: RecallConfig
) -> tuple[list[Channel], NewItemsChannel | None, np.ndarray | None]:
    """The configured channels whose artifacts exist (hot first: it is always there), the new-items
    channel, and the stored user vectors."""
    wanted, items = config.channels, catalog.built
    item_vectors = artifacts.embeddings("items", items)
    user_vectors = artifacts.embeddings("users", users)
    embedder = None
    if item_vectors is not None and ChannelKind.NEW_ITEMS in wanted:
        embedder = ContentEmbedder(item_vectors.shape[1])
    categories: list[str] = []
    for row, item in enumerate(features.items()):  # streamed: one pass, nothing kept but categories
        categories.append(item.category)
        if embedder is not None and row < items:
            embedder.add(item, item_vectors[row])  # type: ignore[index]  # item_vectors is set whenever embedder is
    if len(categories) != items:
        raise ArtifactError(f"features/items.jsonl has {len(categories)} lines, ids/items.txt {items}")
    channels: list[Channel] = [HotChannel(HotLists.from_json(artifacts.hot(), catalog), categories)]
    for kind, table_name, channel_class in (
        (ChannelKind.ITEM_CF, "itemcf", ItemCFChannel),
        (ChannelKind.SWING, "swing", SwingChannel),
        (ChannelKind.I2I, "i2i_emb", I2IChannel),
    ):
        table = artifacts.neighbors(table_name, items) if kind in wanted else None
        if table is not None:
            channels.append(channel_class(table, history=config.history, decay=config.decay))
    table = artifacts.neighbors("usercf", users) if ChannelKind.USER_CF in wanted else None
    if table is not None:
        train = artifacts.train(users, items)
        channels.append(UserCFChannel(table, train, per_user=config.user_cf_items, decay=config.user_cf_decay))
    new_items = None
    if item_vectors is not None:
        search = VectorSearch(artifacts.faiss_index(), item_vectors, offload=config.offload_search)
        tower = UserTower.load(artifacts.path) if config.user_tower else None
        vectors = UserVectors(user_vectors, item_vectors, tower=tower)
        if tower is not None and user_vectors is not None:  # to tell a history realtime changed from the built one
            built = np.fromiter((vectors.history_key(user.last_n) for user in features.users()), dtype=np.int64)
            vectors.built_history = built if len(built) == users else None
        if ChannelKind.U2I in wanted:
            channels.append(U2IChannel(vectors, search))
        if ChannelKind.LOOKALIKE in wanted and user_vectors is not None:
            profiles = (user.profile for user in features.users())
            channels.append(LookalikeChannel(ProfileCentroids.build(profiles, user_vectors), search))
        if embedder is not None:
            item_tower = ItemTower.load(artifacts.path) if config.item_tower else None
            new_items = NewItemsChannel(embedder, catalog, vectors, tower=item_tower, search=search)
            channels.append(new_items)
    return channels, new_items, user_vectors
