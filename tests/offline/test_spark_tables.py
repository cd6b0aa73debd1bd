"""Reading a Spark neighbour table back: part files hash-partitioned by row come out in ascending rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dubbo_recsys.offline.spark.neighbors import table_chunks


def _part(path, rows: list[int], width: int) -> None:
    index = [[r * 10 + n for n in range(width if r % 3 else 2)] for r in rows]  # every third row is short
    score = [[float(width - n) for n in range(len(i))] for i in index]
    table = pa.table(
        {
            "row": pa.array(rows, pa.int64()),
            "index": pa.array(index, pa.list_(pa.int32())),
            "score": pa.array(score, pa.list_(pa.float32())),
        }
    )
    pq.write_table(table, path, row_group_size=7)


def test_interleaved_part_files_merge_into_row_order(tmp_path):
    rng = np.random.default_rng(3)
    rows = rng.permutation(np.arange(0, 3_000, 2))[:1_200]
    owner = rng.integers(0, 4, len(rows))
    for part in range(4):
        _part(tmp_path / f"part-{part:05d}-x.parquet", sorted(rows[owner == part].tolist()), width=5)

    chunks = list(table_chunks(tmp_path, k=4))
    got = np.concatenate([c.rows for c in chunks])
    assert np.array_equal(got, np.sort(rows))
    for chunk in chunks:
        for r, index, score in zip(chunk.rows.tolist(), chunk.index, chunk.score, strict=True):
            width = 4 if r % 3 else 2  # k = 4 cuts the 5-wide rows
            assert index[:width].tolist() == [r * 10 + n for n in range(width)]
            assert (index[width:] == -1).all() and (score[width:] == 0).all()
            assert score[:width].tolist() == [5.0 - n for n in range(width)]
