"""Item-CF, user-CF and swing as Spark jobs (the formulas are ``offline.neighbors``').

- The capped matrix: each user's last ``max_user_items`` train events (by time), distinct items.
- item-CF and user-CF: a self-join on the shared user (item) emits one row per co-occurring
  pair ``i < j`` with its weight (both formulas are symmetric, so half the pairs carry all
  the sums), partial sums are combined before the shuffle, each summed pair is emitted in
  both directions, and a window keeps each row's top K (ties: lower column). Sums are
  float64, as in the embedded engine. Pairs per user are bounded by the capped matrix
  (``max_user_items``), pairs per item by the user sample (``max_item_users``).
- The user sample of a capped item: the ``cap`` users of lowest ``sample_priority``, the
  same splitmix64 hash written as SQL on 64-bit longs (ANSI off: they wrap like numpy's).
- swing: each item's (sampled) users are shipped, with their capped item rows, to the
  embedded engine's kernel ``offline.neighbors.swing_row`` in the executors' Python
  (``mapInArrow`` over partitions sorted by item), so both engines' swing tables are
  computed by the same numpy code.

Every job writes ``(row, index array, score array)`` into the work directory,
hash-partitioned by row and sorted by row inside each part file (a range partitioning
would compute the pair table twice, once to sample its bounds); ``table_chunks`` merges
the part files back into ascending rows as ``TableChunk``s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dubbo_recsys.offline.config import NeighborConfig
from dubbo_recsys.offline.engine import TableChunk
from dubbo_recsys.offline.neighbors import GOLDEN, MIX_1, MIX_2
from dubbo_recsys.offline.spark.jobs import ORDER, part_files

__all__ = ["capped_matrix", "item_cf", "priority_column", "swing", "table_chunks", "user_cf"]


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _mix(z):
    from pyspark.sql import functions as F

    z = (z.bitwiseXOR(F.shiftrightunsigned(z, 30))) * F.lit(_signed(MIX_1))
    z = (z.bitwiseXOR(F.shiftrightunsigned(z, 27))) * F.lit(_signed(MIX_2))
    return z.bitwiseXOR(F.shiftrightunsigned(z, 31))


def priority_column(seed: int, user: str = "user", item: str = "item"):
    """``offline.neighbors.sample_priority`` as a Spark column (long)."""
    from pyspark.sql import functions as F

    first = _mix(F.col(user).cast("long") * F.lit(_signed(GOLDEN)) + F.lit(seed).cast("long"))
    return _mix(first + F.col(item).cast("long"))


def capped_matrix(train, max_user_items: int):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    newest = Window.partitionBy("user").orderBy(*(F.col(c).desc() for c in ORDER))
    recent = train.withColumn("_r", F.row_number().over(newest)).filter(F.col("_r") <= max_user_items)
    return recent.select("user", "item").distinct()


def _sampled(x, cap: int, seed: int):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    lowest = Window.partitionBy("item").orderBy(F.col("_p").asc(), F.col("user").asc())
    ranked = x.withColumn("_p", priority_column(seed)).withColumn("_r", F.row_number().over(lowest))
    return ranked.filter(F.col("_r") <= cap).select("user", "item")


def _top_k(pairs, row: str, col: str, k: int, directory: Path, partitions: int) -> None:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    best = Window.partitionBy(row).orderBy(F.col("score").desc(), F.col(col).asc())
    top = pairs.withColumn("_r", F.row_number().over(best)).filter(F.col("_r") <= k)
    rows = top.groupBy(row).agg(F.array_sort(F.collect_list(F.struct("_r", col, "score"))).alias("_t"))
    out = rows.select(
        F.col(row).cast("long").alias("row"),
        F.col(f"_t.{col}").cast("array<int>").alias("index"),
        F.col("_t.score").cast("array<float>").alias("score"),
    )
    out.sortWithinPartitions("row").write.mode("overwrite").parquet(Path(directory).as_posix())


def _both_ways(pairs, row: str, col: str):
    """Summed pairs ``row < col`` as rows in both directions (a symmetric score)."""
    from pyspark.sql import functions as F

    there = F.struct(F.col(row).alias(row), F.col(col).alias(col), "score")
    back = F.struct(F.col(col).alias(row), F.col(row).alias(col), "score")
    return pairs.select(F.inline(F.array(there, back)))


def item_cf(x, config: NeighborConfig, directory: Path, partitions: int) -> None:
    from pyspark.sql import functions as F

    user_weight = x.groupBy("user").agg((1.0 / F.log(2.0 + F.count("*"))).alias("w"))
    item_scale = x.groupBy("item").agg((1.0 / F.sqrt(F.greatest(F.count("*"), F.lit(1)))).alias("s"))
    a = x.join(user_weight, "user").select("user", F.col("item").alias("i"), "w")
    b = x.select("user", F.col("item").alias("j"))
    sums = a.join(b, "user").filter(F.col("i") < F.col("j")).groupBy("i", "j").agg(F.sum("w").alias("co"))
    # per-entity scales are small next to the pair table: broadcast them instead of shuffling the pairs twice
    si = F.broadcast(item_scale.select(F.col("item").alias("i"), F.col("s").alias("si")))
    sj = F.broadcast(item_scale.select(F.col("item").alias("j"), F.col("s").alias("sj")))
    pairs = sums.join(si, "i").join(sj, "j").select("i", "j", (F.col("co") * F.col("si") * F.col("sj")).alias("score"))
    _top_k(_both_ways(pairs.filter(F.col("score") > 0), "i", "j"), "i", "j", config.k, directory, partitions)


def user_cf(x, config: NeighborConfig, seed: int, directory: Path, partitions: int) -> None:
    from pyspark.sql import functions as F

    user_scale = x.groupBy("user").agg((1.0 / F.sqrt(F.greatest(F.count("*"), F.lit(1)))).alias("s"))
    item_weight = x.groupBy("item").agg((1.0 / F.log(2.0 + F.count("*"))).alias("w"))
    # no broadcast of per-user values (5M users at 50M events did not fit the 2g driver heap): each sampled row
    # carries its user's scale, and the pair groups by (u, v, su, sv), the scales being functions of u and v
    sampled = _sampled(x, config.max_item_users, seed).join(user_scale, "user")
    a = sampled.join(item_weight, "item").select("item", F.col("user").alias("u"), F.col("s").alias("su"), "w")
    b = sampled.select("item", F.col("user").alias("v"), F.col("s").alias("sv"))
    pairs = (
        a.join(b, "item")
        .filter(F.col("u") < F.col("v"))
        .groupBy("u", "v", "su", "sv")
        .agg(F.sum("w").alias("co"))
        .select("u", "v", (F.col("co") * F.col("su") * F.col("sv")).alias("score"))
    )
    _top_k(_both_ways(pairs.filter(F.col("score") > 0), "u", "v"), "u", "v", config.k, directory, partitions)


def _swing_partition(k: int, alpha: float):
    """The executor side: runs of one item's users (sorted) -> that item's top-K swing row."""

    def run(batches: Iterator) -> Iterator:
        import pyarrow as pa

        from dubbo_recsys.offline.neighbors import swing_row, swing_user_weight

        rows_out: list[int] = []
        index_out: list[list[int]] = []
        score_out: list[list[float]] = []
        pending: tuple[int, list[np.ndarray]] | None = None

        def finish(item: int, rows: list[np.ndarray]) -> None:
            if len(rows) < 2:
                return
            weight = swing_user_weight(np.array([len(r) for r in rows]))
            best, values = swing_row(item, rows, weight, alpha, k)
            rows_out.append(item)
            index_out.append(best.tolist())
            score_out.append(values.tolist())

        for batch in batches:
            items = batch.column(0).to_numpy()
            lists = batch.column(1)
            offsets, values = lists.offsets.to_numpy(), lists.values.to_numpy()
            for r, item in enumerate(items.tolist()):
                row = values[offsets[r] : offsets[r + 1]]
                if pending is not None and pending[0] == item:
                    pending[1].append(row)
                    continue
                if pending is not None:
                    finish(*pending)
                pending = (item, [row])
            if len(rows_out) >= 4096:
                yield pa.RecordBatch.from_pydict(
                    {"row": rows_out, "index": index_out, "score": score_out}, schema=_SWING_SCHEMA()
                )
                rows_out, index_out, score_out = [], [], []
        if pending is not None:
            finish(*pending)
        if rows_out:
            yield pa.RecordBatch.from_pydict(
                {"row": rows_out, "index": index_out, "score": score_out}, schema=_SWING_SCHEMA()
            )

    return run


def _SWING_SCHEMA():  # a constant built lazily: pyarrow is imported in the executor
    import pyarrow as pa

    return pa.schema([("row", pa.int64()), ("index", pa.list_(pa.int32())), ("score", pa.list_(pa.float32()))])


def swing(x, config: NeighborConfig, seed: int, directory: Path, partitions: int) -> None:
    from pyspark.sql import functions as F

    user_rows = x.groupBy("user").agg(F.array_sort(F.collect_list(F.col("item").cast("int"))).alias("items"))
    sampled = _sampled(x, config.max_item_users, seed)
    crowded = sampled.groupBy("item").count().filter(F.col("count") >= 2).select("item")
    shipped = sampled.join(crowded, "item").join(user_rows, "user").select(F.col("item").cast("long"), "items", "user")
    ordered = shipped.repartition(partitions, "item").sortWithinPartitions("item", "user").select("item", "items")
    out = ordered.mapInArrow(
        _swing_partition(config.k, config.swing_alpha), "row long, index array<int>, score array<float>"
    )
    # mapInArrow keeps each partition's order by item: every part file is sorted by row, as table_chunks needs
    out.write.mode("overwrite").parquet(Path(directory).as_posix())


def _merged_by_row(directory: Path, batch_rows: int) -> Iterator:
    """The part files (each sorted by its ``row`` column, rows distinct across files) as tables in ascending row.

    A k-way merge in chunks: the rows up to the smallest last row buffered from a file that is
    not finished are safe to emit. Memory: one batch per part file, ``batch_rows`` rows in all.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = part_files(directory)
    batch_rows = max(256, batch_rows // max(len(files), 1))  # a merged chunk holds at most ~batch_rows rows
    readers = [pq.ParquetFile(p) for p in files]
    streams = [reader.iter_batches(batch_size=batch_rows) for reader in readers]
    buffers = [reader.schema_arrow.empty_table() for reader in readers]
    live = [True] * len(streams)
    while True:
        for n, stream in enumerate(streams):
            while live[n] and buffers[n].num_rows == 0:
                batch = next(stream, None)
                if batch is None:
                    live[n] = False
                else:
                    buffers[n] = pa.Table.from_batches([batch])
        held = [n for n, b in enumerate(buffers) if b.num_rows]
        if not held:
            return
        open_ends = [buffers[n].column("row")[-1].as_py() for n in held if live[n]]
        bound = min(open_ends) if open_ends else None
        taken = []
        for n in held:
            rows = buffers[n].column("row").to_numpy()
            cut = len(rows) if bound is None else int(np.searchsorted(rows, bound, side="right"))
            taken.append(buffers[n].slice(0, cut))
            buffers[n] = buffers[n].slice(cut)
        table = pa.concat_tables(taken)
        yield table.take(np.argsort(table.column("row").to_numpy(), kind="stable"))


def table_chunks(directory: Path, k: int) -> Iterator[TableChunk]:
    import pyarrow.compute as pc

    for table in _merged_by_row(directory, batch_rows=65_536):
        rows = table.column("row").to_numpy().astype(np.int64)
        index = np.full((len(rows), k), -1, dtype=np.int32)
        score = np.zeros((len(rows), k), dtype=np.float32)
        for name, out in (("index", index), ("score", score)):
            column = table.column(name).combine_chunks()
            values = pc.list_flatten(column).to_numpy()
            lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False).astype(np.int64)
            starts = np.cumsum(lengths) - lengths
            kept = np.minimum(lengths, k)
            at = np.repeat(np.arange(len(rows)), kept)
            slot = np.arange(len(at)) - np.repeat(np.cumsum(kept) - kept, kept)
            out[at, slot] = values[starts[at] + slot]
        yield TableChunk(rows, index, score)
