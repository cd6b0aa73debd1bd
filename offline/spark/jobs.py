"""The Spark jobs of split, lastN, regional hot lists and training examples, and their read-back.

Each job computes what its embedded counterpart defines (``offline.split``,
``offline.features.last_n_items``, ``offline.hot``, ``offline.examples``) on the
canonical log of ``offline.spark.source``, and writes Parquet into the build's work
directory, range-partitioned and sorted so that the part files in name order are the
rows in artifact order. The driver then reads those files in batches
(``read_batches``): it never collects the log.

Per-user jobs range-partition their *input* by user (``by_user``): sampling the range
bounds then scans a Parquet file, and every window, aggregation and sort on the user
after it runs inside those partitions with no further shuffle. Range-partitioning a
computed frame instead makes Spark compute it twice (once to sample the bounds).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dubbo_recsys.offline.context import LastN

__all__ = [
    "by_user",
    "hot_by_region",
    "last_n",
    "leave_last_out",
    "part_files",
    "read_batches",
    "write_examples",
    "write_sorted",
]

ORDER = ("ts", "fidx", "pos")  # a user's events in time, ties by source order


def part_files(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob("part-*.parquet"))


def read_batches(directory: Path, columns: list[str], batch_rows: int = 262_144) -> Iterator:
    """Record batches of the part files in name order (= artifact order)."""
    import pyarrow.parquet as pq

    for path in part_files(directory):
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=columns)


def by_user(frame, partitions: int):
    """``frame`` range-partitioned by user: partition ``n`` holds lower users than partition ``n + 1``."""
    return frame.repartitionByRange(partitions, "user")


def write_sorted(frame, directory: Path, *order: str) -> None:
    """``frame`` (range-partitioned on ``order[0]``) as Parquet part files whose name order is ``order``."""
    frame.sortWithinPartitions(*order).write.mode("overwrite").parquet(Path(directory).as_posix())


def leave_last_out(spark, log, work: Path, partitions: int):
    """Write train (sorted by user, time) to ``work/train``; return (train frame, test arrays, popularity rows).

    A user's last event (by ``ORDER``) is the test row when the user has at least two.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    per_user = Window.partitionBy("user")
    newest = Window.partitionBy("user").orderBy(*(F.col(c).desc() for c in ORDER))
    marked = by_user(log, partitions).withColumn("_last", F.row_number().over(newest) == 1)
    marked = marked.withColumn("_n", F.count("*").over(per_user))
    is_test = F.col("_last") & (F.col("_n") >= 2)
    marked = marked.persist()
    try:
        write_sorted(marked.filter(~is_test).select(*log.columns), work / "train", "user", *ORDER)
        test = marked.filter(is_test).select("user", "item", "ts").orderBy("user").toArrow()
    finally:
        marked.unpersist()
    train = spark.read.parquet((work / "train").as_posix())
    counts = train.groupBy("item").count().toArrow()
    test_arrays = tuple(test.column(c).to_numpy() for c in ("user", "item", "ts"))
    return train, test_arrays, (counts.column("item").to_numpy(), counts.column("count").to_numpy())


def last_n(train, n: int, n_users: int, work: Path, partitions: int) -> LastN:
    """Each user's ``n`` most recent distinct items (a re-watched item at its latest place), newest first."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    latest = by_user(train, partitions).groupBy("user", "item").agg(F.max(F.struct(*ORDER)).alias("_at"))
    ranked = latest.withColumn("rank", F.row_number().over(Window.partitionBy("user").orderBy(F.col("_at").desc())))
    write_sorted(ranked.filter(F.col("rank") <= n).select("user", "rank", "item"), work / "last_n", "user", "rank")
    users, items = [], []
    for batch in read_batches(work / "last_n", ["user", "item"]):
        users.append(batch.column(0).to_numpy())
        items.append(batch.column(1).to_numpy())
    user = np.concatenate(users) if users else np.empty(0, np.int32)
    ptr = np.searchsorted(user, np.arange(n_users + 1)).astype(np.int64)
    return LastN(ptr, (np.concatenate(items) if items else np.empty(0)).astype(np.int32))


def hot_by_region(spark, train, user_region: np.ndarray, n_regions: int, k: int, work: Path) -> list[list[int]]:
    """Each region's ``k`` most watched train items (ties: lower item)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # The users' regions go to Spark as a file (a 5M-row createDataFrame would sit in the plan) and are broadcast:
    # a sort-merge join of the log with them ran out of execution memory at 50M events on local[2] with a 2g heap
    # (the join's sort and the count's hash map in one task), while the broadcast map of 5M int pairs is ~100 MB.
    work.mkdir(parents=True, exist_ok=True)
    users = pa.table({"user": np.arange(len(user_region), dtype=np.int32), "region": user_region.astype(np.int32)})
    pq.write_table(users, work / "part-00000.parquet")
    regions = F.broadcast(spark.read.parquet(work.as_posix()))
    counts = train.join(regions, "user").groupBy("region", "item").count()
    best = Window.partitionBy("region").orderBy(F.col("count").desc(), F.col("item").asc())
    top = counts.withColumn("rank", F.row_number().over(best)).filter(F.col("rank") <= k)
    rows = top.select("region", "rank", "item").orderBy("region", "rank").toArrow()
    out: list[list[int]] = [[] for _ in range(n_regions)]
    for region, item in zip(rows.column("region").to_pylist(), rows.column("item").to_pylist(), strict=True):
        out[region].append(item)
    return out


def write_examples(train, directory: Path, history_len: int, partitions: int) -> None:
    """``offline.examples`` files: each train row with the user's previous ``history_len`` items, newest first."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    before = Window.partitionBy("user").orderBy(*ORDER).rowsBetween(-history_len, -1)
    examples = by_user(train, partitions).select(
        F.col("user").cast("int").alias("user"),
        F.col("item").cast("int").alias("item"),
        F.reverse(F.collect_list(F.col("item").cast("int")).over(before)).alias("history"),
        *ORDER,
    )
    (
        examples.sortWithinPartitions("user", *ORDER)
        .select("user", "item", "history")
        .write.mode("overwrite")
        .parquet(Path(directory).as_posix())
    )
