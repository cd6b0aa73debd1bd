"""The embedded engine: the whole log in this process as numpy arrays (the default).

Each operation is a thin call into the module that defines it (``offline.split``,
``offline.features``, ``offline.hot``, ``offline.neighbors``, ``offline.examples``);
this class only keeps the state between them (the source, its split and the capped
interaction matrix the three neighbour tables share).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from dubbo_recsys.offline.config import Source
from dubbo_recsys.offline.context import BuildContext, LastN, SplitSummary
from dubbo_recsys.offline.dataset import Catalog, Interactions, SourceData, Split
from dubbo_recsys.offline.engine import NeighborKind, TableChunk
from dubbo_recsys.offline.errors import OfflineError
from dubbo_recsys.offline.examples import ExampleFiles, write_example_files

__all__ = ["EmbeddedEngine", "load_source"]


def load_source(ctx: BuildContext) -> SourceData:
    config = ctx.config
    if config.source is Source.ML100K:
        from dubbo_recsys.offline.movielens import load_ml100k

        return load_ml100k(config.data_dir)
    if config.files is not None:
        from dubbo_recsys.offline.logfiles import read_source

        return read_source(config.files)
    from dubbo_recsys.offline.synthetic import generate

    with ctx.progress(config.synthetic.users, "synthetic users") as update:
        return generate(config.synthetic, progress=update)


class _HeldOut:
    """Validation build's first step: the outer build's catalog with only its train rows as the log."""

    def __init__(self, source: SourceData, split: Split) -> None:
        self.source, self.split = source, split

    def enabled(self, config: Any) -> bool:
        return True

    def run(self, ctx: BuildContext) -> None:
        engine = ctx.require("engine")
        if not isinstance(engine, EmbeddedEngine):
            raise OfflineError("an embedded validation build needs the embedded engine")
        engine.source = dataclasses.replace(self.source, interactions=self.split.train)
        ctx.catalog = engine.source.catalog()
        ctx.params["source_notes"] = {**dict(self.source.notes), "validation": "training interactions only"}


class EmbeddedEngine:
    name = "embedded"

    def __init__(self) -> None:
        self.source: SourceData | None = None
        self.split_: Split | None = None
        self._matrix: sp.csr_matrix | None = None

    def load(self, ctx: BuildContext) -> Catalog:
        self.source = load_source(ctx)
        return self.source.catalog()

    def _split(self) -> Split:
        if self.split_ is None:
            raise OfflineError("build step order: the split is needed before it is made")
        return self.split_

    def split(self, ctx: BuildContext) -> tuple[SplitSummary, np.ndarray]:
        from dubbo_recsys.offline.hot import item_popularity
        from dubbo_recsys.offline.split import leave_last_out

        if self.source is None:
            raise OfflineError("build step order: the source is needed before the split")
        self.split_ = split = leave_last_out(self.source)
        summary = SplitSummary(len(split.train), split.test.user, split.test.item, split.test.ts)
        return summary, item_popularity(split)

    def train_chunks(self) -> Iterator[Interactions]:
        yield self._split().train

    def train_items_of(self, users: np.ndarray) -> list[np.ndarray]:
        train = self._split().train
        bounds = np.searchsorted(train.user, np.arange(self._split().n_users + 1))
        return [train.item[bounds[u] : bounds[u + 1]] for u in users.tolist()]

    def last_n(self, n: int) -> LastN:
        from dubbo_recsys.offline.features import last_n_items

        return last_n_items(self._split(), n)

    def hot_by_region(self, user_region: np.ndarray, n_regions: int, k: int) -> list[list[int]]:
        from dubbo_recsys.offline.hot import region_top_items

        return region_top_items(self._split(), user_region, n_regions, k)

    def neighbors(self, kind: NeighborKind, ctx: BuildContext) -> Iterator[TableChunk]:
        from dubbo_recsys.offline import neighbors

        config = ctx.config.neighbors
        if self._matrix is None:
            self._matrix = neighbors.interaction_matrix(self._split(), config.max_user_items)
        x = self._matrix
        rows = x.shape[1] if kind is not NeighborKind.USER_CF else x.shape[0]
        with ctx.progress(rows, kind.value) as update:
            if kind is NeighborKind.ITEM_CF:
                table = neighbors.item_cf(x, config, update)
            elif kind is NeighborKind.USER_CF:
                table = neighbors.user_cf(x, config, ctx.config.seed, update)
            else:
                table = neighbors.swing(x, config, ctx.config.seed, update)
        yield TableChunk(np.arange(len(table.index), dtype=np.int64), table.index, table.score)

    def write_examples(self, directory: Path, history_len: int) -> ExampleFiles:
        train = self._split().train
        return write_example_files(directory, train.user, train.item, history_len)

    def held_out(self) -> _HeldOut:
        if self.source is None:
            raise OfflineError("build step order: the source is needed before a validation build")
        return _HeldOut(self.source, self._split())

    def close(self) -> None:
        self.source, self.split_, self._matrix = None, None, None
