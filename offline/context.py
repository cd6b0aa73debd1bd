"""What the build steps share: the ``BuildContext`` they read and fill, and the ``BuildStep`` protocol.

This module sits below every step module (``steps``, ``model_steps``, ``rank_steps``,
``rank_fusion``) and below ``recipe`` and ``build``; it imports none of them, which is
what keeps the offline package free of import cycles. A step never imports the
runner: the validation build of ``rank_fusion`` asks for a nested build through
``ctx.sub_build``, which ``offline.build.run_build`` fills in.

Engine-neutral state lives here (the catalog, the split's summary, popularity,
``last_n``, the example files, the embeddings); the engine's own state (the numpy
log, or the Spark session and its DataFrames) lives on ``ctx.engine``.

Progress bars appear only on a terminal (``show_progress`` and ``stderr.isatty()``);
logs get one line per step from ``offline.build``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from dubbo_recsys.offline.config import BuildConfig
from dubbo_recsys.offline.errors import OfflineError

__all__ = ["BuildContext", "BuildStep", "LastN", "Progress", "SplitSummary"]

Progress = Callable[[int], None]


class BuildStep(Protocol):
    def enabled(self, config: BuildConfig) -> bool: ...

    def run(self, ctx: BuildContext) -> None: ...


@dataclass(frozen=True, slots=True)
class LastN:
    """Per user row, up to ``n`` distinct train item rows, most recent first, as CSR (``ptr``, ``items``)."""

    ptr: np.ndarray  # int64, users + 1
    items: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def __getitem__(self, row: int) -> np.ndarray:
        return self.items[self.ptr[row] : self.ptr[row + 1]]

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self[row] for row in range(len(self)))

    def window(self, length: int) -> np.ndarray:
        """users x ``length`` int32 of item rows, most recent first, -1 = padding."""
        out = np.full((len(self), length), -1, dtype=np.int32)
        counts = np.minimum(np.diff(self.ptr), length)
        rows = np.repeat(np.arange(len(self)), counts)
        slot = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        out[rows, slot] = self.items[self.ptr[:-1][rows] + slot]
        return out


@dataclass(frozen=True, slots=True)
class SplitSummary:
    """What every engine reports about its leave-last-out split (the train rows stay with the engine)."""

    n_train: int
    test_user: np.ndarray  # int32, one row per user with >= 2 interactions, sorted
    test_item: np.ndarray  # int32
    test_ts: np.ndarray  # int64

    @property
    def n_test(self) -> int:
        return len(self.test_user)


@dataclass
class BuildContext:
    config: BuildConfig
    root: Path  # the staging directory every artifact file goes to (``path``)
    work: Path | None = None  # scratch files of this build (example files, engine output); never published
    show_progress: bool = False
    engine: Any = None  # an ``offline.engine.Engine``
    steps: Sequence[BuildStep] = ()  # the recipe being run (a validation build reruns it)
    sub_build: Callable[..., Any] | None = None  # ``run_build`` for nested builds, set by ``offline.build``
    catalog: Any = None  # ``offline.dataset.Catalog``
    split: SplitSummary | None = None
    popularity: np.ndarray | None = None  # float64 train interactions per item row
    last_n: LastN | None = None
    examples: Any = None  # ``offline.examples.ExampleFiles``
    item_embeddings: np.ndarray | None = None
    user_embeddings: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)  # documented choices added to manifest params
    metrics: dict[str, float] = field(default_factory=dict)  # quick quality checks, manifest "metrics"

    def path(self, relative: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def scratch(self, relative: str) -> Path:
        if self.work is None:
            raise OfflineError("this build has no work directory")
        path = self.work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def progress(self, total: int, desc: str) -> Iterator[Progress]:
        from tqdm import tqdm

        on_terminal = self.show_progress and sys.stderr.isatty()
        with tqdm(total=total, desc=desc, unit="row", disable=not on_terminal, leave=False) as bar:

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
