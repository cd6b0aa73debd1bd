"""Decoded map keys and set elements: the sender chooses them, so neither flood nor merge.

**Hash flooding. Defence: detection, with a clean DecodeError.** A dict insert
costs one probe per earlier key with the *same full hash*; keys whose Python
hash the sender controls therefore make a map of n keys cost n**2/2 compares
(32,000 BigDecimal keys: 9.5 s). Which keys are those: ``Decimal`` (BigDecimal)
and ``UUID`` hash their numeric value modulo 2**61-1, so any number of distinct
values share a hash; ``int``/``Long`` and ``float`` do too, but a 64-bit value
has only ~8 partners per hash value (~34 for doubles), and tuples and frozen
dataclasses combine such hashes deterministically. ``str``, ``bytes`` and the
``datetime`` family (dates, times, timedeltas, and enums, which hash their name)
are hashed with the per-process random key (``PYTHONHASHSEED``) and cannot be
aimed at from outside, unless hash randomization is off (``-R`` missing and
``PYTHONHASHSEED=0``), in which case they are counted too.

So: the first ``FLOOD_CHECK_FROM`` entries of a map (or set) are inserted as
they come (at most 32**2/2 compares: harmless), after which every key of a
type not in ``RANDOMIZED_HASH`` has its hash counted *before* it is inserted,
and more than ``MAX_SAME_HASH`` distinct keys sharing one hash value is a
``DecodeError``. Distinct full hashes cannot be made to cost more than a few
probes each (CPython perturbs the probe sequence with all 64 bits), so the
count bounds a map's insert cost at O(n * MAX_SAME_HASH). Why not a different
key representation (wrapping keys in a randomized hash): users look maps up
with plain values (``d[Long(5)]``), which a wrapper would break; and no
legitimate Java map has 9 keys with one Python hash, so refusing costs nothing.
Legitimate collisions (``-1`` and ``-2`` share a hash) are far below the limit.

**Silent merges. Defence: keep every entry.** Keys that Java holds apart but
Python's dict merges (``1``, ``1L``, ``1.0``, ``true``, BigDecimal ``1.0`` and
``1.00``, ``0.0`` and ``-0.0``, two equal ``byte[]``) and keys a dict cannot
hold (lists, generic objects) make the decoder return ``MapEntries`` (every
entry, wire order, no hashing) instead of a dict; see ``_containers``. A set
field whose elements would merge stays the list it came as (``to_set``).
"""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Iterable
from typing import Any

from ._errors import describe

FLOOD_CHECK_FROM = 32
MAX_SAME_HASH = 8

RANDOMIZED_HASH: frozenset[type] = frozenset(
    (str, bytes, _dt.datetime, _dt.date, _dt.time, _dt.timedelta, type(None), bool)
    if sys.flags.hash_randomization
    else (type(None), bool)
)


class FloodError(Exception):
    """Raised by ``HashCounter.add``; the caller turns it into a DecodeError at its offset."""


class HashCounter:
    """How many distinct keys of one map (or set) share each hash value."""

    __slots__ = ("counts",)

    def __init__(self, keys: Iterable[Any]) -> None:
        self.counts: dict[int, int] = {}
        for key in keys:
            self.add(key)

    def add(self, key: Any) -> None:
        """Count ``key`` (not yet inserted); ``FloodError`` past the limit, ``TypeError`` if unhashable."""
        if type(key) in RANDOMIZED_HASH:
            return
        value = hash(key)
        counts = self.counts
        count = counts.get(value, 0) + 1
        if count > MAX_SAME_HASH:
            raise FloodError(
                f"more than {MAX_SAME_HASH} map keys or set elements share one hash value "
                f"(hash flooding?): {describe(key)}"
            )
        counts[value] = count


def to_set(items: list[Any]) -> set[Any] | None:
    """``items`` as a set, or None when they would merge or cannot be hashed (keep the list).

    ``FloodError`` when the elements flood one hash value (see the module docstring)."""
    result: set[Any] = set()
    counter = None
    add = result.add
    try:
        for index, item in enumerate(items):
            if index >= FLOOD_CHECK_FROM:
                if counter is None:
                    counter = HashCounter(result)
                counter.add(item)
            add(item)
            if len(result) == index:  # an equal element was there already: Java may keep both
                return None
    except TypeError:
        return None
    return result
