"""Read the parts of an artifact directory that recall needs (``offline/ARTIFACTS.md``).

``ArtifactDir`` opens files on demand and checks them against the contract
(row counts agree with ``ids/*.txt``, neighbour tables are ``rows x K``); each
reader raises ``ArtifactError`` naming the file, never a bare ``KeyError`` or
numpy message. It does not decide which channels to build (the facade does)
and it does not read the JSONL feature files (``features.artifacts`` streams those).

Also here: ``ItemCatalog`` (item id <-> row, growing when new items arrive
after the build) and ``UserItems`` (the training interactions as a CSR table,
what user-CF reads and what evaluation removes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dubbo_recsys.recall.base import ArtifactError

FORMAT = 1


@dataclass(frozen=True, slots=True)
class NeighborTable:
    """Top-K neighbours per row: ``index`` (rows x K, -1 = padding) and ``score``, best first."""

    index: np.ndarray
    score: np.ndarray

    def __post_init__(self) -> None:
        if self.index.ndim != 2 or self.index.shape != self.score.shape:
            raise ArtifactError(
                f"neighbour table needs two equal rows x K arrays, got {self.index.shape} {self.score.shape}"
            )

    @property
    def rows(self) -> int:
        return int(self.index.shape[0])


@dataclass(frozen=True, slots=True)
class UserItems:
    """Training interactions grouped by user row: ``items[indptr[u]:indptr[u+1]]``, oldest first."""

    indptr: np.ndarray  # int64, users + 1
    items: np.ndarray  # int32
    ts: np.ndarray  # int64

    def of(self, user_row: int) -> np.ndarray:
        return self.items[self.indptr[user_row] : self.indptr[user_row + 1]]

    @property
    def users(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @classmethod
    def from_arrays(cls, user: np.ndarray, item: np.ndarray, ts: np.ndarray, users: int) -> UserItems:
        order = np.lexsort((np.arange(len(user)), ts, user))  # by user, then time, then file order
        user, item, ts = user[order], item[order], ts[order]
        indptr = np.zeros(users + 1, dtype=np.int64)
        np.cumsum(np.bincount(user, minlength=users), out=indptr[1:])
        return cls(indptr, item.astype(np.int32, copy=False), ts.astype(np.int64, copy=False))


class ItemCatalog:
    """Item id <-> row. Rows ``0..built-1`` are the build's; later ones are new items."""

    def __init__(self, ids: Sequence[str]) -> None:
        self._ids = list(ids)
        self._rows = {item_id: row for row, item_id in enumerate(self._ids)}
        if len(self._rows) != len(self._ids):
            raise ArtifactError("ids/items.txt lists an item id twice")
        self.built = len(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def id_of(self, row: int) -> str:
        return self._ids[row]

    def ids_of(self, rows: np.ndarray) -> list[str]:
        ids = self._ids
        return [ids[r] for r in rows.tolist()]

    def row_of(self, item_id: str) -> int | None:
        return self._rows.get(item_id)

    def rows_of(self, item_ids: Sequence[str]) -> np.ndarray:
        """Rows of the known ids, in order; unknown ids are skipped."""
        get = self._rows.get
        found = [r for r in (get(i) for i in item_ids) if r is not None]
        return np.asarray(found, dtype=np.int64)

    def add(self, item_id: str) -> int:
        row = self._rows.get(item_id)
        if row is None:
            row = len(self._ids)
            self._ids.append(item_id)
            self._rows[item_id] = row
        return row


class ArtifactDir:
    """One built artifact directory; every reader validates what it returns."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        manifest_path = self.path / "manifest.json"
        try:
            self.manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ArtifactError(f"{manifest_path}: not an artifact directory (no manifest.json)") from exc
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{manifest_path}: unreadable manifest: {exc}") from exc
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise ArtifactError(f"{manifest_path}: format {self.manifest.get('format')!r}, expected {FORMAT}")

    def has(self, relative: str) -> bool:
        return (self.path / relative).exists()

    def _lines(self, relative: str) -> list[str]:
        try:
            text = (self.path / relative).read_text(encoding="utf-8")
        except OSError as exc:
            raise ArtifactError(f"{relative}: {exc}") from exc
        return text.splitlines()

    def item_ids(self) -> list[str]:
        return self._lines("ids/items.txt")

    def user_ids(self) -> list[str]:
        return self._lines("ids/users.txt")

    def _npz(self, relative: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path / relative, allow_pickle=False) as data:
                missing = [k for k in keys if k not in data.files]
                if missing:
                    raise ArtifactError(f"{relative}: missing arrays {missing}")
                return {k: data[k] for k in keys}
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{relative}: {exc}") from exc

    def neighbors(self, name: str, rows: int) -> NeighborTable | None:
        """``neighbors/<name>.npz`` or ``None`` when the build did not write it."""
        relative = f"neighbors/{name}.npz"
        if not self.has(relative):
            return None
        arrays = self._npz(relative, ("index", "score"))
        table = NeighborTable(
            arrays["index"].astype(np.int64, copy=False), arrays["score"].astype(np.float32, copy=False)
        )
        if table.rows != rows:
            raise ArtifactError(f"{relative}: {table.rows} rows, expected {rows}")
        return table

    def embeddings(self, kind: str, rows: int) -> np.ndarray | None:
        """``embeddings/<kind>.npy`` memory-mapped, or ``None`` when absent."""
        relative = f"embeddings/{kind}.npy"
        if not self.has(relative):
            return None
        try:
            matrix: np.ndarray = np.load(self.path / relative, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{relative}: {exc}") from exc
        if matrix.ndim != 2 or matrix.shape[0] != rows or matrix.dtype != np.float32:
            raise ArtifactError(f"{relative}: shape {matrix.shape} {matrix.dtype}, expected ({rows}, d) float32")
        return matrix

    def train(self, users: int, items: int) -> UserItems:
        arrays = self._npz("interactions/train.npz", ("user", "item", "ts"))
        return self._user_items("interactions/train.npz", arrays, users, items)

    def test(self) -> dict[str, np.ndarray]:
        return self._npz("interactions/test.npz", ("user", "item", "ts"))

    @staticmethod
    def _user_items(relative: str, arrays: dict[str, np.ndarray], users: int, items: int) -> UserItems:
        user, item = arrays["user"].astype(np.int64), arrays["item"].astype(np.int64)
        if len(user) and (user.min() < 0 or user.max() >= users or item.min() < 0 or item.max() >= items):
            raise ArtifactError(f"{relative}: user or item row out of range")
        return UserItems.from_arrays(user, item, arrays["ts"], users)

    def hot(self) -> dict[str, Any]:
        try:
            hot = json.loads((self.path / "hot.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"hot.json: {exc}") from exc
        if not isinstance(hot, dict) or not isinstance(hot.get("global"), list):
            raise ArtifactError("hot.json: needs a 'global' list")
        return hot

    def faiss_index(self) -> Any | None:
        """The Faiss index of ``faiss/items.index`` or ``None`` when absent."""
        relative = "faiss/items.index"
        if not self.has(relative):
            return None
        import faiss  # heavy; only when an index exists

        try:
            return faiss.read_index(str(self.path / relative))
        except RuntimeError as exc:
            raise ArtifactError(f"{relative}: {exc}") from exc
