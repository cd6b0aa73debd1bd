"""Bloom filter arithmetic shared by the Redis and in-memory seen filters (no I/O).

A seen filter answers "was this item already shown to this user?" with false
positives (an unseen item is occasionally hidden) but never false negatives (a
seen item is never shown again while the filter lives). One filter per user.

Sizing, for ``n`` expected items and false-positive rate ``p``::

    m = ceil(-n * ln(p) / ln(2)^2)   bits
    k = max(1, round(m / n * ln(2)))  hash functions

Bit positions use double hashing (Kirsch and Mitzenmacher): with ``h1, h2`` the
two little-endian unsigned 64-bit halves of ``blake2b(item_id utf-8,
digest_size=16, person=b"recsys-seen")`` and ``h2`` forced odd, position ``i``
is ``(h1 + i * h2) mod m`` for ``i`` in ``0..k-1``. Bit ``b`` is bit ``7 - b % 8``
of byte ``b // 8`` (most significant first), which is how Redis numbers bits
for SETBIT/GETBIT/BITFIELD, so both backends hold the same bytes. The hash is
stable across processes and languages; Python's ``hash()`` would not be.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from dubbo_recsys.features.base import FeatureStoreError

_PERSON = b"recsys-seen"
MAX_BITS = 1 << 32  # Redis strings are at most 512 MB = 2^32 bits


@dataclass(frozen=True, slots=True)
class BloomSpec:
    """The size of each user's filter, derived once from the expected load."""

    bits: int
    hashes: int

    def __post_init__(self) -> None:
        if not 8 <= self.bits <= MAX_BITS:
            raise FeatureStoreError(f"Bloom filter bits must be in [8, 2^32], got {self.bits}")
        if not 1 <= self.hashes <= 32:
            raise FeatureStoreError(f"Bloom filter hashes must be in [1, 32], got {self.hashes}")

    @classmethod
    def for_capacity(cls, expected_items: int, fp_rate: float) -> BloomSpec:
        if isinstance(expected_items, bool) or not isinstance(expected_items, int) or expected_items < 1:
            raise FeatureStoreError(f"expected_items must be a positive int, got {expected_items!r}")
        if not 0.0 < fp_rate < 1.0:
            raise FeatureStoreError(f"fp_rate must be in (0, 1), got {fp_rate!r}")
        ln2 = math.log(2)
        bits = max(8, math.ceil(-expected_items * math.log(fp_rate) / (ln2 * ln2)))
        hashes = max(1, round(bits / expected_items * ln2))
        return cls(bits=bits, hashes=min(hashes, 32))

    @property
    def nbytes(self) -> int:
        return (self.bits + 7) // 8

    def expected_fp_rate(self, inserted: int) -> float:
        """The textbook false-positive rate after ``inserted`` distinct items."""
        return (1.0 - math.exp(-self.hashes * inserted / self.bits)) ** self.hashes

    def positions(self, item_id: str) -> list[int]:
        return list(_positions(self.bits, self.hashes, item_id))


# The catalog is finite and every request checks hundreds of its items against some user's
# filter, so the hash of an item id is worth remembering (a hit costs ~0.2 us, a blake2b ~3 us).
@functools.lru_cache(maxsize=1 << 18)
def _positions(m: int, k: int, item_id: str) -> tuple[int, ...]:
    digest = hashlib.blake2b(item_id.encode("utf-8"), digest_size=16, person=_PERSON).digest()
    h1 = int.from_bytes(digest[:8], "little")
    h2 = int.from_bytes(digest[8:], "little") | 1
    return tuple((h1 + i * h2) % m for i in range(k))


def set_bits(buffer: bytearray, positions: Sequence[int]) -> None:
    for pos in positions:
        buffer[pos >> 3] |= 0x80 >> (pos & 7)


def all_bits_set(buffer: bytearray | bytes, positions: Sequence[int]) -> bool:
    """True when every position is set; bytes past the end of ``buffer`` count as zero,
    as Redis strings stop at the last byte ever written."""
    size = len(buffer)
    return all((pos >> 3) < size and buffer[pos >> 3] & (0x80 >> (pos & 7)) for pos in positions)
