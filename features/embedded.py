"""The in-process feature store: the default for the demo and for single-node serving.

Loaded once from an artifact directory (``features.artifacts``). Memory is kept
close to the size of the data: every entity is one packed row (msgpack when
installed, else compact JSON; the bytes never leave the process) appended to
a single ``bytearray``, and lookups go through three flat arrays instead of a dict
of dataclasses (a dict entry plus a dataclass with its own dict and tuple costs
several hundred bytes per item before any feature data)::

    hashes  array('q')  hash(id) of every row, sorted            8 bytes/entity
    rows    array('I')  the row behind each sorted hash           4 bytes/entity
    offsets array('Q')  where row r's bytes start (r + 1: end)    8 bytes/entity

A lookup bisects ``hashes``, decodes the row(s) with that hash and keeps the one
whose id matches, so hash collisions cost a decode, never a wrong answer. When
an id appears twice in a file the later line wins, as it does when the same file
is loaded into Redis. Values are decoded on every read: callers get fresh frozen
dataclasses and the store holds no Python objects per entity.

What it does not do: it never changes after loading (reload = build a new store
and swap it), and it does no I/O after ``from_artifacts``.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from dubbo_recsys.features.artifacts import ArtifactFeatures
from dubbo_recsys.features.base import ItemFeatures, UserFeatures
from dubbo_recsys.features.codec import (
    Encoding,
    RowCodec,
    check_ids,
    item_from_row,
    item_to_row,
    row_codec,
    user_from_row,
    user_to_row,
)

T = TypeVar("T")


def _private_encoding() -> Encoding:
    """msgpack when installed (3x faster to decode), else JSON: the bytes never leave this process."""
    try:
        import msgpack  # noqa: F401 - only whether it is installed
    except ImportError:
        return Encoding.JSON
    return Encoding.MSGPACK


_CODEC = row_codec(_private_encoding())


class PackedTable(Generic[T]):
    """Immutable id -> packed row table; ``get`` decodes on demand."""

    __slots__ = ("_codec", "_data", "_decode", "_hash", "_hashes", "_offsets", "_rows")

    def __init__(
        self,
        data: bytearray,
        offsets: array[int],
        ids_hashes: array[int],
        decode: Callable[[Any], T],
        key_hash: Callable[[str], int] = hash,
        codec: RowCodec = _CODEC,
    ) -> None:
        order = sorted(range(len(ids_hashes)), key=ids_hashes.__getitem__)
        self._data = data
        self._offsets = offsets
        self._hashes = array("q", (ids_hashes[r] for r in order))
        self._rows = array("I", order)
        self._decode = decode
        self._hash = key_hash
        self._codec = codec

    @classmethod
    def build(
        cls,
        entities: Iterable[Any],
        to_row: Callable[[Any], list[Any]],
        decode: Callable[[Any], T],
        key_hash: Callable[[str], int] = hash,
        codec: RowCodec = _CODEC,
    ) -> PackedTable[T]:
        """Pack ``entities`` in order; ``key_hash`` and ``codec`` are replaceable for tests."""
        data = bytearray()
        offsets = array("Q", [0])
        hashes = array("q")
        for entity in entities:
            row = to_row(entity)
            data += codec.encode(row)
            offsets.append(len(data))
            hashes.append(key_hash(row[0]))
        return cls(data, offsets, hashes, decode, key_hash, codec)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def nbytes(self) -> int:
        """Bytes held by the packed data and the index arrays (not the Python object headers)."""
        return (
            len(self._data)
            + self._offsets.itemsize * len(self._offsets)
            + self._hashes.itemsize * len(self._hashes)
            + self._rows.itemsize * len(self._rows)
        )

    def get(self, entity_id: str) -> T | None:
        return self.get_many([entity_id])[0]

    def get_many(self, entity_ids: list[str]) -> list[T | None]:
        """One lookup per id (the hot path: 200 ids a request, so locals instead of attributes).

        Rows with the id's hash are decoded until the id matches; with duplicates the
        highest row (the later line) wins. Only the winner becomes a dataclass.
        """
        hashes, rows, offsets, data = self._hashes, self._rows, self._offsets, self._data
        key_hash, decode_bytes, decode = self._hash, self._codec.decode, self._decode
        size = len(hashes)
        out: list[T | None] = []
        for entity_id in entity_ids:
            target = key_hash(entity_id)
            i = bisect_left(hashes, target)
            best_row, best = -1, None
            while i < size and hashes[i] == target:
                row = rows[i]
                value = decode_bytes(data[offsets[row] : offsets[row + 1]])
                if row > best_row and type(value) is list and value and value[0] == entity_id:
                    best_row, best = row, value
                i += 1
            out.append(None if best_row < 0 else decode(best))
        return out


class EmbeddedFeatureStore:
    """``FeatureStore`` over two ``PackedTable``s; see the module docstring."""

    def __init__(self, users: PackedTable[UserFeatures], items: PackedTable[ItemFeatures]) -> None:
        self._users = users
        self._items = items

    @classmethod
    def from_artifacts(cls, root: str | Path) -> EmbeddedFeatureStore:
        """Stream ``features/users.jsonl`` and ``features/items.jsonl`` into packed tables.

        Raises ``ArtifactError`` (a ``FeatureStoreError``) naming the file and line of a bad record.
        """
        artifact = ArtifactFeatures.open(root)
        users = PackedTable.build(artifact.users(), user_to_row, user_from_row)
        items = PackedTable.build(artifact.items(), item_to_row, item_from_row)
        return cls(users, items)

    @classmethod
    def from_features(cls, users: Iterable[UserFeatures], items: Iterable[ItemFeatures]) -> EmbeddedFeatureStore:
        """A store over features already in memory (tests, small demos)."""
        return cls(
            PackedTable.build(users, user_to_row, user_from_row), PackedTable.build(items, item_to_row, item_from_row)
        )

    @property
    def counts(self) -> tuple[int, int]:
        """(users, items) held, counting an id listed twice twice."""
        return len(self._users), len(self._items)

    @property
    def nbytes(self) -> int:
        return self._users.nbytes + self._items.nbytes

    async def users(self, user_ids: Sequence[str]) -> list[UserFeatures | None]:
        return self._users.get_many(check_ids(user_ids, "user_ids"))

    async def items(self, item_ids: Sequence[str]) -> list[ItemFeatures | None]:
        return self._items.get_many(check_ids(item_ids, "item_ids"))

    async def close(self) -> None:
        """Nothing to release; present for the ``FeatureStore`` protocol."""
