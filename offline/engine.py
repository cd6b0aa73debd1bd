"""The compute engine seam: one logical step, two engines (PAI-Rec's offline jobs are the model).

Every step that reads the whole interaction log asks ``ctx.engine`` for its result
in engine-neutral shapes (numpy arrays for per-entity data, row-ordered chunks for
per-log data), and the step itself writes the artifact files from them
(``offline.steps``, ``offline.artifact_files``). So the artifact format cannot know
which engine computed it, and a parity test comparing the two engines' tables is
the whole contract between them (``tests/offline/test_spark_parity.py``).

This module is the interface only (``offline.build`` picks the implementation):

- ``EmbeddedEngine`` (``offline.embedded``): numpy / scipy in this process; the default.
- ``SparkEngine`` (``offline.spark.engine``): PySpark jobs, local or on a cluster; the
  log never enters the driver, results come back as files read in chunks.

What each operation means is written once, in the embedded engine's modules
(``offline.split``, ``offline.features``, ``offline.hot``, ``offline.neighbors``,
``offline.examples``); the Spark engine computes the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from dubbo_recsys.offline.context import BuildContext, BuildStep, LastN, SplitSummary
    from dubbo_recsys.offline.dataset import Catalog, Interactions
    from dubbo_recsys.offline.examples import ExampleFiles

__all__ = ["ComputeEngine", "NeighborKind", "TableChunk"]


class NeighborKind(StrEnum):
    ITEM_CF = "itemcf"
    USER_CF = "usercf"
    SWING = "swing"


@dataclass(frozen=True, slots=True)
class TableChunk:
    """Consecutive-or-not rows of a top-K table, ``rows`` ascending; rows left out are empty (-1 / 0)."""

    rows: np.ndarray  # int64
    index: np.ndarray  # int32 len(rows) x K, -1 = padding
    score: np.ndarray  # float32 len(rows) x K


class ComputeEngine(Protocol):
    name: str

    def load(self, ctx: BuildContext) -> Catalog:
        """Read the source: the catalog into the driver, the log wherever the engine keeps it."""
        ...

    def split(self, ctx: BuildContext) -> tuple[SplitSummary, np.ndarray]:
        """Leave-last-out (``offline.split``): the summary and the train count per item row (float64)."""
        ...

    def train_chunks(self) -> Iterator[Interactions]:
        """The train rows sorted by user then time, in chunks (for ``interactions/train.npz``)."""
        ...

    def train_items_of(self, users: np.ndarray) -> list[np.ndarray]:
        """Each listed user row's train item rows (quality checks on a sample of users)."""
        ...

    def last_n(self, n: int) -> LastN: ...

    def hot_by_region(self, user_region: np.ndarray, n_regions: int, k: int) -> list[list[int]]:
        """Per region code, the ``k`` items its users interacted with most (ties: lower row)."""
        ...

    def neighbors(self, kind: NeighborKind, ctx: BuildContext) -> Iterator[TableChunk]: ...

    def write_examples(self, directory: Path, history_len: int) -> ExampleFiles: ...

    def held_out(self) -> BuildStep:
        """The first step of a validation build: this build's catalog with its train rows as the whole log."""
        ...

    def close(self) -> None: ...
