"""Training examples as Parquet files, written by either engine and streamed from disk by the trainers.

One example per train interaction, in the order of ``interactions/train.npz`` (user,
then time)::

    user     int32         user row
    item     int32         item row
    history  list<int32>   the user's previous train items (rows), most recent first, at most H

The two-tower and the ranker read the same files (H is the larger of their history
lengths; each takes its first ``history_len``). Files are named ``part-NNNNN*.parquet``
and read in name order, so a Spark job's output directory is a valid example set as it
is. The files live in the build's work directory, never in the artifact.

``ExampleFiles.batches`` streams an epoch in windows of at most ``window_rows`` rows:
the windows' row groups are visited in a random order, each window is shuffled and
cut into batches. Data that fits one window gets one full permutation, as an
in-memory trainer would. Memory stays at one window whatever the example count.
``dataset`` wraps that generator in ``tf.data`` for the training loops.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubbo_recsys.offline.errors import SourceDataError

__all__ = ["ExampleFiles", "dataset", "history_windows", "write_example_files"]

ROWS_PER_FILE = 1_000_000
ROW_GROUP = 65_536
WINDOW_ROWS = 1 << 20


def history_windows(user: np.ndarray, item: np.ndarray, history_len: int) -> np.ndarray:
    """examples x history_len int32: each row's previous items of the same user (rows), most recent first,
    -1-filled; ``user``/``item`` sorted by user then time."""
    history = np.full((len(user), history_len), -1, dtype=np.int32)
    for back in range(1, history_len + 1):
        same = np.zeros(len(user), dtype=bool)
        same[back:] = user[back:] == user[:-back]
        history[back:, back - 1] = np.where(same[back:], item[:-back], -1)
    return history


def _table(user: np.ndarray, item: np.ndarray, history: np.ndarray):
    import pyarrow as pa

    valid = history >= 0
    lengths = valid.sum(axis=1)
    offsets = np.zeros(len(user) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    values = history[valid]  # row-major: each row's valid prefix, most recent first
    return pa.table(
        {
            "user": pa.array(user.astype(np.int32)),
            "item": pa.array(item.astype(np.int32)),
            "history": pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.astype(np.int32))),
        }
    )


def write_example_files(
    directory: Path,
    user: np.ndarray,
    item: np.ndarray,
    history_len: int,
    rows_per_file: int = ROWS_PER_FILE,
    keep: np.ndarray | None = None,
) -> ExampleFiles:
    """The embedded engine's examples: ``user``/``item`` sorted by user then time (``Split.train``).

    ``keep`` (bool per row) writes only those rows as examples, each with its history over all rows
    (``offline.refresh``: the new interactions and a replay sample of the old ones)."""
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    for part, start in enumerate(range(0, max(len(user), 1), rows_per_file)):
        stop = min(start + rows_per_file, len(user))
        # a window must not cross a user boundary it cannot see: recompute history over the whole user
        first = start
        while first > 0 and user[first - 1] == user[start]:
            first -= 1
        history = history_windows(user[first:stop], item[first:stop], history_len)[start - first :]
        rows = slice(None) if keep is None else keep[start:stop]
        table = _table(user[start:stop][rows], item[start:stop][rows], history[rows])
        pq.write_table(table, directory / f"part-{part:05d}.parquet", row_group_size=ROW_GROUP)
    return ExampleFiles.open(directory, history_len)


@dataclass(frozen=True, slots=True)
class ExampleFiles:
    paths: tuple[Path, ...]
    count: int
    history_len: int

    @classmethod
    def open(cls, directory: Path, history_len: int) -> ExampleFiles:
        import pyarrow.parquet as pq

        paths = tuple(sorted(Path(directory).glob("part-*.parquet")))
        if not paths:
            raise SourceDataError(f"no example files (part-*.parquet) in {directory}")
        count = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
        return cls(paths, count, history_len)

    def _groups(self) -> list[tuple[int, int, int]]:
        """(file index, row group, rows) of every row group, in file order."""
        import pyarrow.parquet as pq

        groups: list[tuple[int, int, int]] = []
        for f, path in enumerate(self.paths):
            meta = pq.ParquetFile(path).metadata
            groups.extend((f, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups))
        return groups

    def read_all(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every example in file order (tests and small data only)."""
        return self._read(self._groups())

    def _read(self, groups: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        files: dict[int, pq.ParquetFile] = {}
        tables = []
        for f, g, _ in groups:
            handle = files.setdefault(f, pq.ParquetFile(self.paths[f]))
            tables.append(handle.read_row_group(g, columns=["user", "item", "history"]))
        if not tables:
            return np.empty(0, np.int32), np.empty(0, np.int32), np.empty((0, self.history_len), np.int32)
        table = pa.concat_tables(tables).combine_chunks()
        history = table.column("history").chunk(0) if table.num_rows else None
        user = table.column("user").to_numpy().astype(np.int32)
        item = table.column("item").to_numpy().astype(np.int32)
        out = np.full((len(user), self.history_len), -1, dtype=np.int32)
        if history is not None:
            offsets = history.offsets.to_numpy()
            values = history.values.to_numpy()
            lengths = np.minimum(np.diff(offsets), self.history_len)
            rows = np.repeat(np.arange(len(user)), lengths)
            slot = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            out[rows, slot] = values[offsets[:-1][rows] + slot]
        return user, item, out

    def batches(
        self, batch_size: int, rng: np.random.Generator, window_rows: int = WINDOW_ROWS
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """One shuffled epoch of (user rows, item rows, history rows -1-padded) batches."""
        groups = self._groups()
        if sum(n for *_, n in groups) > window_rows:
            groups = [groups[i] for i in rng.permutation(len(groups))]
        window: list[tuple[int, int, int]] = []
        filled = 0
        for group in [*groups, None]:
            if group is not None and (not window or filled + group[2] <= window_rows):
                window.append(group)
                filled += group[2]
                continue
            user, item, history = self._read(window)
            order = rng.permutation(len(user))
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                yield user[rows], item[rows], history[rows]
            window, filled = ([group], group[2]) if group is not None else ([], 0)


def dataset(examples: ExampleFiles, batch_size: int, rng: np.random.Generator, history_len: int):
    """A ``tf.data.Dataset`` of one epoch: (user, item, history[:, :history_len]) int32 batches, prefetched."""
    import tensorflow as tf

    def generate():
        for user, item, history in examples.batches(batch_size, rng):
            yield user, item, history[:, :history_len]

    signature = (
        tf.TensorSpec([None], tf.int32),
        tf.TensorSpec([None], tf.int32),
        tf.TensorSpec([None, history_len], tf.int32),
    )
    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)
