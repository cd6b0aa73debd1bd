"""The build configuration: one frozen, validated object made once from the CLI.

Each step reads only its own slice (``neighbors``, ``two_tower``, ...). Every
field that changes the output is part of the artifact ``version`` (see
``offline.manifest``), so two builds with equal configs and equal source data
have equal versions and the second can be skipped.

Validation happens here, before any data is read, so a bad parameter fails in
milliseconds with a message that names it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from dubbo_recsys.offline.errors import BuildConfigError

__all__ = [
    "BuildConfig",
    "Engine",
    "FilesSource",
    "NeighborConfig",
    "Source",
    "SparkConfig",
    "SyntheticConfig",
    "TwoTowerConfig",
]

MAX_SYNTHETIC_ENTITIES = 10_000_000


class Source(StrEnum):
    ML100K = "ml-100k"
    SYNTHETIC = "synthetic"
    FILES = "files"  # an interaction log as Parquet / CSV files (offline/README.md)


class Engine(StrEnum):
    """Who runs the steps that read the whole log; the artifact does not depend on it."""

    EMBEDDED = "embedded"  # numpy / scipy in this process
    SPARK = "spark"  # PySpark jobs (offline/spark/)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not (low <= value <= high):
        raise BuildConfigError(f"{name} must be in [{low}, {high}], got {value!r}")


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    """Shape of the generated catalog; ignored for ML-100K."""

    users: int = 2_000
    items: int = 5_000
    seed: int = 7
    mean_interactions: float = 30.0  # per user; counts are drawn from a heavy-tailed law
    zipf_exponent: float = 1.0  # item popularity ~ rank ** -zipf_exponent
    latent_dim: int = 16

    def __post_init__(self) -> None:
        _check_range("users", self.users, 10, MAX_SYNTHETIC_ENTITIES)
        _check_range("items", self.items, 10, MAX_SYNTHETIC_ENTITIES)
        _check_range("seed", self.seed, 0, 2**32 - 1)
        _check_range("mean_interactions", self.mean_interactions, 2.0, 1_000.0)
        _check_range("zipf_exponent", self.zipf_exponent, 0.1, 3.0)
        _check_range("latent_dim", self.latent_dim, 2, 256)


@dataclass(frozen=True, slots=True)
class NeighborConfig:
    """Top-K tables and the caps that keep them feasible on large catalogs."""

    k: int = 100
    hot_k: int = 200
    last_n: int = 50
    max_user_items: int = 200  # most recent train items per user fed to the co-occurrence math
    max_item_users: int = 500  # users sampled per item for user-CF and swing
    swing_alpha: float = 1.0
    block_nnz: int = 5_000_000  # bound on co-occurrence entries held at once (~400 MB peak)

    def __post_init__(self) -> None:
        _check_range("k", self.k, 1, 1_000)
        _check_range("hot_k", self.hot_k, 1, 10_000)
        _check_range("last_n", self.last_n, 1, 1_000)
        _check_range("max_user_items", self.max_user_items, 2, 100_000)
        _check_range("max_item_users", self.max_item_users, 2, 100_000)
        _check_range("swing_alpha", self.swing_alpha, 1e-6, 1e6)
        _check_range("block_nnz", self.block_nnz, 10_000, 1_000_000_000)


@dataclass(frozen=True, slots=True)
class TwoTowerConfig:
    """The DSSM recall model; ``enabled=False`` builds everything else."""

    enabled: bool = True
    dim: int = 64
    epochs: int = 12
    batch_size: int = 512
    learning_rate: float = 0.003
    temperature: float = 0.07
    logq_correction: float = 1.0  # 1 = full sampled-softmax correction, 0 = none (learns PMI, shuns popular items)
    history_len: int = 20
    user_id_dropout: float = 0.1  # share of examples trained with the unknown-user id
    seed: int = 11

    def __post_init__(self) -> None:
        _check_range("dim", self.dim, 4, 1_024)
        _check_range("epochs", self.epochs, 1, 1_000)
        _check_range("batch_size", self.batch_size, 8, 65_536)
        _check_range("learning_rate", self.learning_rate, 1e-6, 1.0)
        _check_range("temperature", self.temperature, 1e-3, 10.0)
        _check_range("logq_correction", self.logq_correction, 0.0, 2.0)
        _check_range("history_len", self.history_len, 1, 500)
        _check_range("user_id_dropout", self.user_id_dropout, 0.0, 0.9)
        _check_range("seed", self.seed, 0, 2**32 - 1)


@dataclass(frozen=True, slots=True)
class FilesSource:
    """``--source files``: the log (a directory or a glob of Parquet / CSV files) and optional entity tables."""

    interactions: str
    users: str | None = None
    items: str | None = None

    def __post_init__(self) -> None:
        if not self.interactions:
            raise BuildConfigError("--source files needs --interactions (a directory or a glob)")


@dataclass(frozen=True, slots=True)
class SparkConfig:
    """How the Spark engine gets its session; none of it changes the output."""

    master: str = "local[2]"
    driver_memory: str = "2g"  # only applies when this process starts the JVM (local mode, client mode)
    shuffle_partitions: int = 8
    conf: tuple[tuple[str, str], ...] = ()  # extra --spark-conf key=value pairs

    def __post_init__(self) -> None:
        if not self.master or not any(self.master.startswith(p) for p in ("local", "spark://", "yarn", "k8s://")):
            raise BuildConfigError(f"--master must be local[N], spark://..., yarn or k8s://..., got {self.master!r}")
        _check_range("shuffle_partitions", self.shuffle_partitions, 1, 100_000)


@dataclass(frozen=True, slots=True)
class BuildConfig:
    source: Source
    out: Path
    engine: Engine = Engine.EMBEDDED
    spark: SparkConfig = field(default_factory=SparkConfig)
    files: FilesSource | None = None
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    neighbors: NeighborConfig = field(default_factory=NeighborConfig)
    two_tower: TwoTowerConfig = field(default_factory=TwoTowerConfig)
    data_dir: Path | None = None  # ML-100K atomic files elsewhere than the recbole wheel
    seed: int = 0  # sampling in the neighbour caps
    faiss_flat_max: int = 200_000  # exact IndexFlatIP up to this many items, HNSW above (offline.ann)
    name: str = ""
    work_dir: Path | None = None  # scratch files kept here (examples, Spark output); default: a hidden sibling, removed

    def __post_init__(self) -> None:
        if not isinstance(self.source, Source):
            try:
                object.__setattr__(self, "source", Source(self.source))
            except ValueError:
                choices = ", ".join(s.value for s in Source)
                raise BuildConfigError(f"source must be one of {choices}, got {self.source!r}") from None
        if not isinstance(self.engine, Engine):
            try:
                object.__setattr__(self, "engine", Engine(self.engine))
            except ValueError:
                choices = ", ".join(e.value for e in Engine)
                raise BuildConfigError(f"engine must be one of {choices}, got {self.engine!r}") from None
        if (self.source is Source.FILES) != (self.files is not None):
            raise BuildConfigError(
                "--interactions (and --users-table / --items-table) go with --source files, and only with it"
            )
        object.__setattr__(self, "out", Path(self.out))
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.work_dir is not None:
            object.__setattr__(self, "work_dir", Path(self.work_dir))
        _check_range("seed", self.seed, 0, 2**32 - 1)
        _check_range("faiss_flat_max", self.faiss_flat_max, 1, 100_000_000)
        if not self.name:
            object.__setattr__(self, "name", self.out.name or self.source.value)

    def params(self) -> dict[str, Any]:
        """The parameters that shape the output (what the version hashes), as plain JSON."""
        params: dict[str, Any] = {
            "seed": self.seed,
            "faiss_flat_max": self.faiss_flat_max,
            "neighbors": dataclasses.asdict(self.neighbors),
            "two_tower": dataclasses.asdict(self.two_tower),
        }
        if self.source is Source.SYNTHETIC:
            params["synthetic"] = dataclasses.asdict(self.synthetic)
        if self.files is not None:
            params["files"] = dataclasses.asdict(self.files)
        return params
