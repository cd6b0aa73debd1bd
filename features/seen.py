"""The in-memory seen filter: one Bloom filter per user, for the embedded default.

Same bits as ``RedisSeenFilter`` (``features.bloom``), kept in a bounded LRU of
``bytearray``s so a long-running demo cannot grow without limit: at most
``max_users`` filters of ``spec.nbytes`` each. A user's filter also expires
``ttl`` seconds after its last ``add``, as the Redis key does. Forgetting a user
(eviction or expiry) only means items may be shown again, which is the safe
direction for a seen filter.

What it does not do: share state between processes (use Redis for that) or
survive a restart.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dubbo_recsys.features.base import FeatureStoreError
from dubbo_recsys.features.bloom import BloomSpec, all_bits_set, set_bits
from dubbo_recsys.features.codec import check_ids


@dataclass(frozen=True, slots=True)
class SeenConfig:
    """How big each user's filter is, how long it lives, how many users memory holds."""

    expected_items: int = 2000
    fp_rate: float = 0.01
    ttl_seconds: float | None = 7 * 24 * 3600.0
    max_users: int = 10_000  # in-memory filter only: 10,000 x 2.4 KB = 24 MB at the defaults

    def __post_init__(self) -> None:
        BloomSpec.for_capacity(self.expected_items, self.fp_rate)  # validates both
        if self.ttl_seconds is not None and not self.ttl_seconds > 0:
            raise FeatureStoreError(f"ttl_seconds must be positive or None, got {self.ttl_seconds!r}")
        if isinstance(self.max_users, bool) or not isinstance(self.max_users, int) or self.max_users < 1:
            raise FeatureStoreError(f"max_users must be a positive int, got {self.max_users!r}")

    @property
    def spec(self) -> BloomSpec:
        return BloomSpec.for_capacity(self.expected_items, self.fp_rate)


class InMemorySeenFilter:
    """``SeenFilter`` in process memory; see the module docstring."""

    def __init__(self, config: SeenConfig = SeenConfig(), clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._spec = config.spec
        self._clock = clock
        self._filters: OrderedDict[str, tuple[bytearray, float]] = OrderedDict()

    @property
    def spec(self) -> BloomSpec:
        return self._spec

    def __len__(self) -> int:
        return len(self._filters)

    def _live(self, user_id: str) -> bytearray | None:
        entry = self._filters.get(user_id)
        if entry is None:
            return None
        bits, expires_at = entry
        if expires_at <= self._clock():
            del self._filters[user_id]
            return None
        self._filters.move_to_end(user_id)
        return bits

    async def add(self, user_id: str, item_ids: Sequence[str]) -> None:
        if not isinstance(user_id, str):
            raise FeatureStoreError(f"user_id must be a string, got {type(user_id).__name__}")
        ids = check_ids(item_ids, "item_ids")
        if not ids:
            return
        bits = self._live(user_id)
        if bits is None:
            bits = bytearray(self._spec.nbytes)
        for item_id in ids:
            set_bits(bits, self._spec.positions(item_id))
        ttl = self._config.ttl_seconds
        self._filters[user_id] = (bits, float("inf") if ttl is None else self._clock() + ttl)
        self._filters.move_to_end(user_id)
        while len(self._filters) > self._config.max_users:
            self._filters.popitem(last=False)

    async def might_contain(self, user_id: str, item_ids: Sequence[str]) -> list[bool]:
        if not isinstance(user_id, str):
            raise FeatureStoreError(f"user_id must be a string, got {type(user_id).__name__}")
        ids = check_ids(item_ids, "item_ids")
        bits = self._live(user_id)
        if bits is None:
            return [False] * len(ids)
        return [all_bits_set(bits, self._spec.positions(item_id)) for item_id in ids]

    async def filter_bytes(self, user_id: str) -> bytes | None:
        """The user's whole filter (Redis's bit layout), for callers that test bits themselves."""
        if not isinstance(user_id, str):
            raise FeatureStoreError(f"user_id must be a string, got {type(user_id).__name__}")
        return self.raw_bits(user_id)

    def raw_bits(self, user_id: str) -> bytes | None:
        """The filter's bytes (the same layout Redis holds), for comparison and debugging."""
        bits = self._live(user_id)
        return None if bits is None else bytes(bits)

    async def close(self) -> None:
        self._filters.clear()
