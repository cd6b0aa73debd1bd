"""Streaming writers for the artifact's array files, shared by both engines.

An engine hands over its results in chunks (one chunk for the embedded engine, many
for Spark); these functions write the ``.npz`` / ``.txt`` files of
``offline/ARTIFACTS.md`` from them without ever holding a whole column: each column
is spilled to a raw scratch file as chunks arrive, then copied into the zip member
behind its ``.npy`` header (``np.load`` reads the result like any ``np.savez`` file).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from dubbo_recsys.offline.engine import TableChunk
from dubbo_recsys.offline.errors import OfflineError

__all__ = ["dense_table_chunks", "write_ids", "write_npz_chunks", "write_table"]

_COPY = 1 << 20


def write_ids(path: Path, ids: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for value in ids:
            out.write(f"{value}\n")


def write_npz_chunks(path: Path, chunks: Iterable[dict[str, np.ndarray]], scratch: Path) -> dict[str, int]:
    """``np.savez``-compatible file of the concatenated chunks; returns rows per column."""
    scratch.mkdir(parents=True, exist_ok=True)
    spills: dict[str, tuple] = {}
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        for chunk in chunks:
            for name, values in chunk.items():
                if name not in spills:
                    spills[name] = (open(Path(tmp) / name, "wb"), values.dtype, values.shape[1:], [0])  # noqa: SIM115 - spill files stay open across chunks, closed below
                handle, dtype, tail, rows = spills[name]
                if values.dtype != dtype or values.shape[1:] != tail:
                    raise OfflineError(f"{path.name}: column {name} changed shape or type between chunks")
                handle.write(np.ascontiguousarray(values).tobytes())
                rows[0] += len(values)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, (handle, dtype, tail, rows) in spills.items():
                handle.close()
                header: dict[str, object] = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
                header["shape"] = (rows[0], *tail)
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array_header_2_0(member, header)
                    with open(Path(tmp) / name, "rb") as spilled:
                        shutil.copyfileobj(spilled, member, _COPY)
    return {name: rows[0] for name, (_, _, _, rows) in spills.items()}


def dense_table_chunks(chunks: Iterable[TableChunk], n_rows: int, k: int) -> Iterator[dict[str, np.ndarray]]:
    """Every row 0..n_rows-1 in order, rows an engine left out filled with -1 / 0."""
    done = 0
    for chunk in chunks:
        if len(chunk.rows) == 0:
            continue
        if chunk.rows[0] < done or np.any(np.diff(chunk.rows) <= 0) or chunk.rows[-1] >= n_rows:
            raise OfflineError("neighbour table chunks must come in ascending, distinct, in-range rows")
        stop = int(chunk.rows[-1]) + 1
        index = np.full((stop - done, k), -1, dtype=np.int32)
        score = np.zeros((stop - done, k), dtype=np.float32)
        width = min(k, chunk.index.shape[1])
        index[chunk.rows - done, :width] = chunk.index[:, :width]
        score[chunk.rows - done, :width] = chunk.score[:, :width]
        yield {"index": index, "score": score}
        done = stop
    if done < n_rows:
        yield {"index": np.full((n_rows - done, k), -1, np.int32), "score": np.zeros((n_rows - done, k), np.float32)}


def write_table(path: Path, chunks: Iterable[TableChunk], n_rows: int, k: int, scratch: Path) -> None:
    """``neighbors/<name>.npz``: ``index`` int32 and ``score`` float32, ``n_rows`` x ``k``."""
    write_npz_chunks(path, dense_table_chunks(chunks, n_rows, k), scratch)
