"""The build as a list of small step objects.

A step reads what earlier steps left on the ``BuildContext`` and writes its
files under ``ctx.root``. ``default_steps()`` is the straight recipe that
``offline.build`` runs; adding a stage (say, the ranking model) is one class
with ``enabled(config)`` and ``run(ctx)``, appended to that list
(model steps live in ``offline.model_steps``). A step's name
is its class name, used in progress output and in the manifest's timings.

Steps never print: progress goes through ``ctx.progress`` (tqdm, or nothing).
Steps that need TensorFlow or Faiss import them inside ``run``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from dubbo_recsys.offline.config import BuildConfig, Source
from dubbo_recsys.offline.dataset import SourceData, Split
from dubbo_recsys.offline.errors import OfflineError

__all__ = [
    "BuildContext",
    "BuildStep",
    "HotItems",
    "ItemCFTable",
    "LoadSource",
    "SplitInteractions",
    "SwingTable",
    "UserCFTable",
    "WriteFeatures",
    "default_steps",
]

Progress = Callable[[int], None]


@dataclass
class BuildContext:
    config: BuildConfig
    root: Path
    show_progress: bool = False
    source: SourceData | None = None
    split: Split | None = None
    popularity: np.ndarray | None = None
    last_n: list[np.ndarray] | None = None
    matrix: sp.csr_matrix | None = None  # capped binary user x item train matrix
    item_embeddings: np.ndarray | None = None
    user_embeddings: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)  # documented choices added to manifest params
    metrics: dict[str, float] = field(default_factory=dict)  # quick quality checks, manifest "metrics"

    def path(self, relative: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def progress(self, total: int, desc: str) -> Iterator[Progress]:
        from tqdm import tqdm

        with tqdm(total=total, desc=desc, unit="row", disable=not self.show_progress, leave=False) as bar:

            def update(rows: int) -> None:
                bar.update(rows)

            yield update

    def require(self, name: str) -> Any:
        value = getattr(self, name)
        if value is None:
            raise OfflineError(f"build step order: {name} is needed before it is produced")
        return value

    def write_json(self, relative: str, value: Any) -> None:
        self.path(relative).write_text(json.dumps(value, ensure_ascii=False) + "\n", encoding="utf-8")


class BuildStep(Protocol):
    def enabled(self, config: BuildConfig) -> bool: ...

    def run(self, ctx: BuildContext) -> None: ...


class _Always:
    def enabled(self, config: BuildConfig) -> bool:
        return True


class LoadSource(_Always):
    def run(self, ctx: BuildContext) -> None:
        if ctx.config.source is Source.ML100K:
            from dubbo_recsys.offline.movielens import load_ml100k

            ctx.source = load_ml100k(ctx.config.data_dir)
        else:
            from dubbo_recsys.offline.synthetic import generate

            with ctx.progress(ctx.config.synthetic.users, "synthetic users") as update:
                ctx.source = generate(ctx.config.synthetic, progress=update)
        ctx.params["source_notes"] = dict(ctx.source.notes)


class SplitInteractions(_Always):
    """ids/*.txt and interactions/{train,test}.npz."""

    def run(self, ctx: BuildContext) -> None:
        from dubbo_recsys.offline.hot import item_popularity
        from dubbo_recsys.offline.split import SPLIT_RULE, leave_last_out

        source = ctx.require("source")
        ctx.split = split = leave_last_out(source)
        ctx.popularity = item_popularity(split)
        ctx.params["split"] = SPLIT_RULE
        for name, ids in (("users", source.user_ids), ("items", source.item_ids)):
            with ctx.path(f"ids/{name}.txt").open("w", encoding="utf-8") as out:
                for value in ids.tolist():
                    out.write(f"{value}\n")
        t = split.train
        np.savez(ctx.path("interactions/train.npz"), user=t.user, item=t.item, ts=t.ts, rating=t.rating)
        np.savez(ctx.path("interactions/test.npz"), user=split.test.user, item=split.test.item, ts=split.test.ts)


class WriteFeatures(_Always):
    """features/users.jsonl and features/items.jsonl."""

    def run(self, ctx: BuildContext) -> None:
        from dubbo_recsys.offline.features import last_n_items, write_item_features, write_user_features

        source, split = ctx.require("source"), ctx.require("split")
        ctx.last_n = last_n_items(split, ctx.config.neighbors.last_n)
        with (
            ctx.path("features/users.jsonl").open("w", encoding="utf-8") as out,
            ctx.progress(source.n_users, "user features") as update,
        ):
            write_user_features(out, source, ctx.last_n, update)
        with (
            ctx.path("features/items.jsonl").open("w", encoding="utf-8") as out,
            ctx.progress(source.n_items, "item features") as update,
        ):
            write_item_features(out, source, ctx.require("popularity"), update)


class HotItems(_Always):
    def run(self, ctx: BuildContext) -> None:
        from dubbo_recsys.offline.hot import hot_lists

        ctx.write_json("hot.json", hot_lists(ctx.require("source"), ctx.require("split"), ctx.config.neighbors.hot_k))


def _save_table(ctx: BuildContext, name: str, table: Any) -> None:
    np.savez(ctx.path(f"neighbors/{name}.npz"), index=table.index, score=table.score)


def _matrix(ctx: BuildContext) -> sp.csr_matrix:
    if ctx.matrix is None:
        from dubbo_recsys.offline.neighbors import interaction_matrix

        ctx.matrix = interaction_matrix(ctx.require("split"), ctx.config.neighbors.max_user_items)
    return ctx.matrix


class ItemCFTable(_Always):
    def run(self, ctx: BuildContext) -> None:
        from dubbo_recsys.offline.neighbors import item_cf

        x = _matrix(ctx)
        with ctx.progress(x.shape[1], "item-CF") as update:
            _save_table(ctx, "itemcf", item_cf(x, ctx.config.neighbors, update))


class UserCFTable(_Always):
    def run(self, ctx: BuildContext) -> None:
        from dubbo_recsys.offline.neighbors import user_cf

        x = _matrix(ctx)
        with ctx.progress(x.shape[0], "user-CF") as update:
            _save_table(ctx, "usercf", user_cf(x, ctx.config.neighbors, ctx.config.seed, update))


class SwingTable(_Always):
    def run(self, ctx: BuildContext) -> None:
        from dubbo_recsys.offline.neighbors import swing

        x = _matrix(ctx)
        with ctx.progress(x.shape[1], "swing") as update:
            _save_table(ctx, "swing", swing(x, ctx.config.neighbors, ctx.config.seed, update))


def default_steps() -> tuple[BuildStep, ...]:
    from dubbo_recsys.offline.model_steps import FaissIndex, TwoTowerModel

    return (
        LoadSource(),
        SplitInteractions(),
        WriteFeatures(),
        HotItems(),
        ItemCFTable(),
        UserCFTable(),
        SwingTable(),
        TwoTowerModel(),
        FaissIndex(),
        __import__("dubbo_recsys.offline.rank_steps", fromlist=["RankModel"]).RankModel(),
        __import__("dubbo_recsys.offline.rank_fusion", fromlist=["RankFusion"]).RankFusion(),
    )
