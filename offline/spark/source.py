"""Read a source into the Spark engine's canonical log DataFrame, with the catalog in the driver.

Canonical log (every job in ``offline.spark`` reads only this)::

    user int (row), item int (row), ts long (epoch s), rating float, fidx int, pos long

``(ts, fidx, pos)`` orders a user's events: ``fidx`` is the file's place among the input
files in path order and ``pos`` rises with the row's place in its file (Spark's
monotonically increasing id, which follows file offsets within a file), so timestamp ties
break by file order exactly as the embedded engine's stable sort does.

Sources: ``files`` (Parquet / CSV, schema of ``offline.logfiles`` checked on the Spark
schema), ML-100K (its ``.inter`` atomic file read as tab-separated CSV; the small entity
files go through ``offline.movielens`` in the driver) and ``synthetic`` (generated in the
driver, then handed over as Parquet: for big synthetic logs write files first with
``python -m dubbo_recsys.offline.synthetic`` and build ``--source files``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dubbo_recsys.offline.config import BuildConfig, FilesSource, Source
from dubbo_recsys.offline.dataset import Catalog
from dubbo_recsys.offline.errors import SourceDataError
from dubbo_recsys.offline.logfiles import LOG_SCHEMA, check_schema, read_catalog, resolve

__all__ = ["CANONICAL", "read_source", "spark_kind"]

CANONICAL = ("user", "item", "ts", "rating", "fidx", "pos")


def spark_kind(data_type: Any) -> str:
    from pyspark.sql import types as T

    if isinstance(data_type, T.StringType):
        return "string"
    if isinstance(data_type, T.ByteType | T.ShortType | T.IntegerType | T.LongType):
        return "integer"
    if isinstance(data_type, T.FloatType | T.DoubleType | T.DecimalType):
        return "floating"
    if isinstance(data_type, T.TimestampType | T.TimestampNTZType | T.DateType):
        return "timestamp"
    return data_type.simpleString()


def _table(spark, columns: dict[str, np.ndarray]):
    import pyarrow as pa

    return spark.createDataFrame(pa.table(columns))


def _raw_log(spark, paths: list[Path], fmt: str, tab_separated: bool = False):
    from pyspark.sql import functions as F

    names = [p.as_posix() for p in paths]
    if fmt == "parquet":
        frame = spark.read.parquet(*names)
    else:
        frame = spark.read.csv(names, header=True, inferSchema=True, sep="\t" if tab_separated else ",")
    return frame.select("*", F.col("_metadata.file_path").alias("_file"), F.monotonically_increasing_id().alias("pos"))


def _canonical(spark, raw, catalog: Catalog):
    """Ids to rows (unknown ids are an error), timestamps to seconds, files to their path-order index."""
    from pyspark.sql import functions as F

    kind = spark_kind(raw.schema["ts"].dataType)
    ts = F.col("ts")
    seconds = F.unix_timestamp(ts) if kind == "timestamp" else F.floor(ts) if kind == "floating" else ts
    rating = F.coalesce(F.col("rating").cast("float"), F.lit(1.0).cast("float")) if "rating" in raw.columns else None
    files = sorted(r[0] for r in raw.select("_file").distinct().collect())
    log = raw.select(
        F.col("user_id").cast("string").alias("user_id"),
        F.col("item_id").cast("string").alias("item_id"),
        seconds.cast("long").alias("ts"),
        (rating if rating is not None else F.lit(1.0).cast("float")).alias("rating"),
        "_file",
        "pos",
    )
    users = _table(
        spark, {"user_id": catalog.user_ids.astype(object), "user": np.arange(catalog.n_users, dtype=np.int32)}
    )
    items = _table(
        spark, {"item_id": catalog.item_ids.astype(object), "item": np.arange(catalog.n_items, dtype=np.int32)}
    )
    file_index = _table(spark, {"_file": np.array(files, dtype=object), "fidx": np.arange(len(files), dtype=np.int32)})
    joined = (
        log.join(users, "user_id", "left").join(items, "item_id", "left").join(F.broadcast(file_index), "_file", "left")
    )
    return joined.select(*CANONICAL, "user_id", "item_id")  # the ids stay for the error message


def _files_source(spark, files: FilesSource):
    from pyspark.sql import functions as F

    paths, fmt = resolve(files.interactions, "interactions")
    raw = _raw_log(spark, paths, fmt)
    check_schema("interactions", {f.name: spark_kind(f.dataType) for f in raw.schema.fields}, LOG_SCHEMA)

    def distinct(column: str) -> np.ndarray:
        values = raw.select(F.col(column).cast("string")).distinct().toArrow().column(0)
        return np.sort(np.asarray(values.to_pylist(), dtype=str))

    catalog = read_catalog(
        files, None if files.users else distinct("user_id"), None if files.items else distinct("item_id")
    )
    return _canonical(spark, raw, catalog), catalog


def _ml100k_source(spark, config: BuildConfig):
    from dubbo_recsys.offline.movielens import FILES, load_ml100k, locate_ml100k

    directory = config.data_dir or locate_ml100k()
    catalog = load_ml100k(directory).catalog()  # the entity files are small; the log is read by Spark below
    raw = _raw_log(spark, [Path(directory) / FILES[0]], "csv", tab_separated=True)
    renamed = {
        "user_id:token": "user_id",
        "item_id:token": "item_id",
        "rating:float": "rating",
        "timestamp:float": "ts",
    }
    for old, new in renamed.items():
        if old not in raw.columns:
            raise SourceDataError(f"{FILES[0]}: missing column {old!r}")
        raw = raw.withColumnRenamed(old, new)
    return _canonical(spark, raw, catalog), catalog


def _synthetic_source(spark, config: BuildConfig, work: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dubbo_recsys.offline.synthetic import generate

    source = generate(config.synthetic)
    inter = source.interactions
    path = work / "synthetic-log"
    path.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "user": inter.user,
            "item": inter.item,
            "ts": inter.ts,
            "rating": inter.rating,
            "fidx": np.zeros(len(inter), np.int32),
            "pos": np.arange(len(inter), dtype=np.int64),
        }
    )
    pq.write_table(table, path / "part-00000.parquet")
    return spark.read.parquet(path.as_posix()).select(*CANONICAL), source.catalog()


def read_source(spark, config: BuildConfig, work: Path):
    """(canonical log DataFrame, catalog); the log is materialised once as Parquet in ``work/log``."""
    from pyspark.sql import functions as F

    if config.source is Source.SYNTHETIC:
        return _synthetic_source(spark, config, work)
    log, catalog = _files_source(spark, config.files) if config.files is not None else _ml100k_source(spark, config)
    log.write.mode("overwrite").parquet((work / "log").as_posix())  # the id joins run once, not per job
    log = spark.read.parquet((work / "log").as_posix())
    bad = log.filter(F.col("user").isNull() | F.col("item").isNull() | F.col("ts").isNull()).first()
    if bad is not None:
        column = "user_id" if bad["user"] is None else "item_id" if bad["item"] is None else "ts"
        shown, table = (bad[column] if column != "ts" else None), column.split("_")[0] + "s"
        raise SourceDataError(
            f"interactions: column {column!r} holds {shown!r}, which is null or not in the {table} table"
        )
    return log.select(*CANONICAL), catalog
