"""A least-recently-used cache bounded in bytes, for what callers name.

``functools.lru_cache(maxsize=N)`` bounds entries, not bytes: when the keys come from
the wire (parameter descriptors, ``$invoke`` type names, dubbo version strings), N
entries of up to a frame's size each is N x 8 MiB. ``BoundedCache`` charges each entry
the length of its key and of its value and evicts the least recently used ones past
``max_bytes``; a key longer than ``max_key_chars`` is never stored (nothing a real
consumer sends is that long, so only hostile requests pay for being recomputed).
Errors are not cached: the function raises again for the same key.

::

    @bounded_cache(max_bytes=1 << 20, max_key_chars=4096)
    def parse_descriptor(descriptor: str) -> tuple[str, ...]: ...

Not thread-safe beyond what the GIL gives a dict (the provider is one event loop).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["BoundedCache", "CachedFunction", "bounded_cache", "cost_of"]

V = TypeVar("V")
_ENTRY_OVERHEAD = 200  # the entry's dict slot, tuple and object headers, roughly


def cost_of(value: object) -> int:
    """Roughly the bytes ``value`` holds: strings by length, tuples of them summed, anything else a constant."""
    if isinstance(value, str):
        return len(value) + 50
    if isinstance(value, tuple):
        return 40 + sum(cost_of(item) for item in value)
    return 32


class BoundedCache(Generic[V]):
    """``str -> V``, least recently used first out, at most ``max_bytes`` held."""

    __slots__ = ("_entries", "held", "max_bytes", "max_key_chars")

    def __init__(self, max_bytes: int, max_key_chars: int) -> None:
        if max_bytes <= 0 or max_key_chars <= 0:
            raise ValueError("max_bytes and max_key_chars must be positive")
        self.max_bytes = max_bytes
        self.max_key_chars = max_key_chars
        self.held = 0
        self._entries: OrderedDict[str, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: str, value: V) -> None:
        if len(key) > self.max_key_chars or key in self._entries:
            return
        cost = _ENTRY_OVERHEAD + cost_of(key) + cost_of(value)
        if cost > self.max_bytes:
            return
        self._entries[key] = (value, cost)
        self.held += cost
        while self.held > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.held -= evicted

    def clear(self) -> None:
        self._entries.clear()
        self.held = 0


class CachedFunction(Generic[V]):
    """A one-argument function of a string, memoised in ``cache`` (a ``BoundedCache``)."""

    def __init__(self, function: Callable[[str], V], cache: BoundedCache[V]) -> None:
        self.function = function
        self.cache = cache
        functools.update_wrapper(self, function)

    def __call__(self, key: str) -> V:
        if type(key) is not str:  # not cacheable: let the function say what is wrong with it
            return self.function(key)
        found = self.cache.get(key)
        if found is not None:
            return found
        value = self.function(key)
        self.cache.put(key, value)
        return value


class bounded_cache:
    """``@bounded_cache(max_bytes, max_key_chars)``: memoise a function of one string in a ``BoundedCache``."""

    def __init__(self, max_bytes: int, max_key_chars: int) -> None:
        self.max_bytes = max_bytes
        self.max_key_chars = max_key_chars

    def __call__(self, function: Callable[[str], V]) -> CachedFunction[V]:
        return CachedFunction(function, BoundedCache(self.max_bytes, self.max_key_chars))
