"""``SparkEngine``: the ``offline.engine.ComputeEngine`` whose log-wide steps are PySpark jobs.

State: the session, the canonical log (``offline.spark.source``), the train split written
to ``work/spark/train`` (every later job reads it back from there) and the capped
interaction matrix the neighbour jobs share (persisted while they run). The driver holds
the catalog and per-entity arrays only; per-event results come back as Parquet read in
chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dubbo_recsys.offline.config import BuildConfig, SparkConfig
from dubbo_recsys.offline.context import BuildContext, LastN, SplitSummary
from dubbo_recsys.offline.dataset import Catalog, Interactions
from dubbo_recsys.offline.engine import NeighborKind, TableChunk
from dubbo_recsys.offline.errors import OfflineError
from dubbo_recsys.offline.examples import ExampleFiles

__all__ = ["SparkEngine"]


class _HeldOut:
    """Validation build's first step: the outer build's train rows (Parquet) as the whole log."""

    def __init__(self, train_dir: Path, catalog: Catalog) -> None:
        self.train_dir, self.catalog = train_dir, catalog

    def enabled(self, config: BuildConfig) -> bool:
        return True

    def run(self, ctx: BuildContext) -> None:
        engine = ctx.require("engine")
        if not isinstance(engine, SparkEngine):
            raise OfflineError("a Spark validation build needs the Spark engine")
        engine.use_log(engine.session.read.parquet(self.train_dir.as_posix()), self.catalog, ctx)
        ctx.catalog = self.catalog
        ctx.params["source_notes"] = {**dict(self.catalog.notes), "validation": "training interactions only"}


class SparkEngine:
    name = "spark"

    def __init__(self, config: SparkConfig) -> None:
        from dubbo_recsys.offline.spark.session import spark_session

        self.config = config
        self.session, self._owns_session = spark_session(config)
        self.log = None
        self.train = None
        self._matrix = None
        self._work: Path | None = None
        self._catalog: Catalog | None = None

    @property
    def partitions(self) -> int:
        return self.config.shuffle_partitions

    def _dir(self, name: str) -> Path:
        if self._work is None:
            raise OfflineError("build step order: the Spark engine has no source yet")
        return self._work / name

    def use_log(self, log, catalog: Catalog, ctx: BuildContext) -> None:
        """Take ``log`` (canonical columns) and its catalog as this build's source."""
        self.log, self._catalog = log, catalog
        self._work = ctx.scratch("spark/.keep").parent

    def load(self, ctx: BuildContext) -> Catalog:
        from dubbo_recsys.offline.spark.source import read_source

        self._work = ctx.scratch("spark/.keep").parent
        self.log, self._catalog = read_source(self.session, ctx.config, self._work)
        ctx.params["spark"] = {"master": self.config.master, "version": self.session.version}
        return self._catalog

    def split(self, ctx: BuildContext) -> tuple[SplitSummary, np.ndarray]:
        from dubbo_recsys.offline.spark.jobs import leave_last_out

        if self.log is None:
            raise OfflineError("build step order: the source is needed before the split")
        catalog = ctx.require("catalog")
        self.train, test, (items, counts) = leave_last_out(self.session, self.log, self._dir(""), self.partitions)
        popularity = np.zeros(catalog.n_items, dtype=np.float64)
        popularity[items] = counts
        summary = SplitSummary(
            int(popularity.sum()),
            test[0].astype(np.int32),
            test[1].astype(np.int32),
            test[2].astype(np.int64),
        )
        return summary, popularity

    def train_chunks(self) -> Iterator[Interactions]:
        from dubbo_recsys.offline.spark.jobs import read_batches

        for batch in read_batches(self._dir("train"), ["user", "item", "ts", "rating"]):
            user, item, ts, rating = (batch.column(i).to_numpy() for i in range(4))
            yield Interactions(
                user.astype(np.int32), item.astype(np.int32), ts.astype(np.int64), rating.astype(np.float32)
            )

    def train_items_of(self, users: np.ndarray) -> list[np.ndarray]:
        import pyarrow.compute as pc
        import pyarrow.dataset as ds

        from dubbo_recsys.offline.spark.jobs import part_files

        table = ds.dataset([p.as_posix() for p in part_files(self._dir("train"))], format="parquet").to_table(
            columns=["user", "item"], filter=pc.field("user").isin(np.unique(users).tolist())
        )
        user, item = table.column("user").to_numpy(), table.column("item").to_numpy()
        order = np.argsort(user, kind="stable")
        user, item = user[order], item[order].astype(np.int32)
        return [item[np.searchsorted(user, u) : np.searchsorted(user, u, side="right")] for u in users.tolist()]

    def last_n(self, n: int) -> LastN:
        from dubbo_recsys.offline.spark.jobs import last_n

        return last_n(self.train, n, self._require_catalog().n_users, self._dir("last_n"), self.partitions)

    def _require_catalog(self) -> Catalog:
        if self._catalog is None:
            raise OfflineError("build step order: the catalog is needed first")
        return self._catalog

    def hot_by_region(self, user_region: np.ndarray, n_regions: int, k: int) -> list[list[int]]:
        from dubbo_recsys.offline.spark.jobs import hot_by_region

        return hot_by_region(self.session, self.train, user_region, n_regions, k, self._dir("user_regions"))

    def neighbors(self, kind: NeighborKind, ctx: BuildContext) -> Iterator[TableChunk]:
        from dubbo_recsys.offline.spark import neighbors

        config = ctx.config.neighbors
        if self._matrix is None:
            self._matrix = neighbors.capped_matrix(self.train, config.max_user_items).persist()
        directory = self._dir(f"neighbors/{kind.value}")
        if kind is NeighborKind.ITEM_CF:
            neighbors.item_cf(self._matrix, config, directory, self.partitions)
        elif kind is NeighborKind.USER_CF:
            neighbors.user_cf(self._matrix, config, ctx.config.seed, directory, self.partitions)
        else:
            neighbors.swing(self._matrix, config, ctx.config.seed, directory, self.partitions)
        return neighbors.table_chunks(directory, config.k)

    def write_examples(self, directory: Path, history_len: int) -> ExampleFiles:
        from dubbo_recsys.offline.spark.jobs import write_examples

        write_examples(self.train, directory, history_len, self.partitions)
        return ExampleFiles.open(directory, history_len)

    def held_out(self) -> _HeldOut:
        return _HeldOut(self._dir("train"), self._require_catalog())

    def close(self) -> None:
        if self._matrix is not None:
            self._matrix.unpersist()
        self.log = self.train = self._matrix = None
        if self._owns_session:
            self.session.stop()
