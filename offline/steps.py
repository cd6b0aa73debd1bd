"""The data steps of the build: each asks the engine for its result and writes the artifact files.

A step reads what earlier steps left on the ``BuildContext`` and writes its files
under ``ctx.root``; what it computes over the log comes from ``ctx.engine``
(``offline.engine``: embedded numpy or Spark), so each step here is one logical step
with two engines behind it, and the files are written in one place whatever the
engine. The recipe that orders these steps (and the model steps) is
``offline.recipe.default_steps``. A step's name is its class name, used in the log
lines and in the manifest's timings.

Steps never print: progress goes through ``ctx.progress`` (a bar on a terminal only).
"""

from __future__ import annotations

from dubbo_recsys.offline.artifact_files import write_ids, write_npz_chunks, write_table
from dubbo_recsys.offline.config import BuildConfig
from dubbo_recsys.offline.context import BuildContext
from dubbo_recsys.offline.engine import NeighborKind
from dubbo_recsys.offline.errors import OfflineError

__all__ = [
    "HotItems",
    "ItemCFTable",
    "LoadSource",
    "SplitInteractions",
    "SwingTable",
    "TrainingExamples",
    "UserCFTable",
    "WriteFeatures",
]


class _Always:
    def enabled(self, config: BuildConfig) -> bool:
        return True


class LoadSource(_Always):
    """The catalog into ``ctx.catalog``; the log stays with the engine."""

    def run(self, ctx: BuildContext) -> None:
        ctx.catalog = catalog = ctx.require("engine").load(ctx)
        ctx.params["source_notes"] = dict(catalog.notes)


class SplitInteractions(_Always):
    """ids/*.txt and interactions/{train,test}.npz (leave-last-out, ``offline.split``)."""

    def run(self, ctx: BuildContext) -> None:
        from dubbo_recsys.offline.split import SPLIT_RULE

        engine, catalog = ctx.require("engine"), ctx.require("catalog")
        ctx.split, ctx.popularity = split = engine.split(ctx)
        ctx.params["split"] = SPLIT_RULE
        write_ids(ctx.path("ids/users.txt"), catalog.user_ids.tolist())
        write_ids(ctx.path("ids/items.txt"), catalog.item_ids.tolist())
        columns = ({"user": t.user, "item": t.item, "ts": t.ts, "rating": t.rating} for t in engine.train_chunks())
        rows = write_npz_chunks(ctx.path("interactions/train.npz"), columns, ctx.scratch("npz"))
        if rows.get("user", 0) != split[0].n_train:
            raise OfflineError(f"{engine.name} engine: {rows} train rows written, the split has {split[0].n_train}")
        s = split[0]
        test = [{"user": s.test_user, "item": s.test_item, "ts": s.test_ts}]
        write_npz_chunks(ctx.path("interactions/test.npz"), test, ctx.scratch("npz"))


class WriteFeatures(_Always):
    """features/users.jsonl (with ``last_n``) and features/items.jsonl."""

    def run(self, ctx: BuildContext) -> None:
        from dubbo_recsys.offline.features import write_item_features, write_user_features

        catalog = ctx.require("catalog")
        ctx.last_n = ctx.require("engine").last_n(ctx.config.neighbors.last_n)
        users, items = ctx.path("features/users.jsonl"), ctx.path("features/items.jsonl")
        with users.open("w", encoding="utf-8") as out, ctx.progress(catalog.n_users, "user features") as update:
            write_user_features(out, catalog, ctx.last_n, update)
        with items.open("w", encoding="utf-8") as out, ctx.progress(catalog.n_items, "item features") as update:
            write_item_features(out, catalog, ctx.require("popularity"), update)


class HotItems(_Always):
    """hot.json: global and per-category lists from popularity, per-region lists from the engine."""

    def run(self, ctx: BuildContext) -> None:
        from dubbo_recsys.offline.hot import hot_lists, user_regions

        catalog, k = ctx.require("catalog"), ctx.config.neighbors.hot_k
        regions = user_regions(catalog)
        names: list[str] = []
        by_region: list[list[int]] = []
        if regions is not None:
            names, codes = regions
            by_region = ctx.require("engine").hot_by_region(codes, len(names), k)
        ctx.write_json("hot.json", hot_lists(catalog, ctx.require("popularity"), names, by_region, k))


class _NeighborStep(_Always):
    kind: NeighborKind

    def run(self, ctx: BuildContext) -> None:
        catalog = ctx.require("catalog")
        rows = catalog.n_users if self.kind is NeighborKind.USER_CF else catalog.n_items
        chunks = ctx.require("engine").neighbors(self.kind, ctx)
        path = ctx.path(f"neighbors/{self.kind.value}.npz")
        write_table(path, chunks, rows, ctx.config.neighbors.k, ctx.scratch("npz"))


class ItemCFTable(_NeighborStep):
    kind = NeighborKind.ITEM_CF


class UserCFTable(_NeighborStep):
    kind = NeighborKind.USER_CF


class SwingTable(_NeighborStep):
    kind = NeighborKind.SWING


class TrainingExamples:
    """The two-tower's and the ranker's training examples as Parquet files in the work directory."""

    def __init__(self, history_len: int = 20, always: bool = False) -> None:
        self.history_len, self.always = history_len, always

    def enabled(self, config: BuildConfig) -> bool:
        return self.always or config.two_tower.enabled  # the models are their only reader

    def run(self, ctx: BuildContext) -> None:
        history = max(self.history_len, ctx.config.two_tower.history_len)
        ctx.examples = ctx.require("engine").write_examples(ctx.scratch("examples"), history)
