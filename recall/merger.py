"""Run the channels together and merge what they recall into one ranked list.

One straight recipe (``Merger.run``):

1. keep the channels whose ``enable(query)`` is true;
2. ask each, concurrently, for ``quota + len(exclude)`` items: recall is widened
   by the exposure size so that, after filtering, a channel still fills its quota;
   each channel's ``retrieve`` is started eagerly, in the caller, and only one
   that really waits (a thread, a remote call) gets a task; most channels are
   numpy work that never waits, and a task per channel cost more than some of
   them;
3. wait for each at most its ``timeout`` (counted from the start of the merge); a
   channel that is late or raises is dropped and named in ``MergeResult.dropped``,
   never fatal; a channel that never waits cannot be late (as with a task each:
   it ran to its end in one step);
4. per channel, remove the excluded rows (the request's exposure list), keep the
   first ``quota``, and give the item at rank ``r`` the fused score
   ``weight / (offset + r)`` (weighted reciprocal-rank fusion: channel scores
   are not comparable, ranks are);
5. deduplicate, summing fused scores and OR-ing provenance bits, so each item
   remembers every channel that recalled it;
6. drop what the per-user seen filter (a Bloom filter, see ``features.base``)
   says the user has seen, then keep the best ``k``; the filters see the ranked
   list in windows, best first, until ``k`` items passed, never the whole union.

Filters are objects with ``async apply(query, rows) -> (kept, removed)``; the
merger knows no backend. It does not hydrate the query (the facade does) and
does not touch item id strings except through a filter that needs them.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Coroutine, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from dubbo_recsys.features.base import SeenFilter
from dubbo_recsys.recall.artifacts import ItemCatalog
from dubbo_recsys.recall.base import Candidates, Channel, ChannelKind, RecallConfigError, RecallInputError, RecallQuery

log = logging.getLogger(__name__)

_BIT = {kind: 1 << position for position, kind in enumerate(ChannelKind)}


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """How much a channel may contribute: ``quota`` items, fused with ``weight``, within ``timeout`` seconds."""

    quota: int = 200
    weight: float = 1.0
    timeout: float = 0.05

    def __post_init__(self) -> None:
        if self.quota <= 0 or not math.isfinite(self.weight) or self.weight < 0 or not self.timeout > 0:
            raise RecallConfigError(f"channel policy needs quota > 0, weight >= 0, timeout > 0: {self}")


class CandidateFilter(Protocol):
    async def apply(self, query: RecallQuery, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class SeenBloomFilter:
    """Drops rows whose item the user's seen filter (maybe) contains; a backend failure keeps them all.

    When the seen filter exposes its ``spec`` and the user's raw ``filter_bytes`` (both backends
    do), the check runs over catalog rows with numpy: each row's bit positions are computed once,
    at construction, into an (items x hashes) table, so a request costs one filter read and a
    vectorised bit test instead of a hash per candidate id. Otherwise it asks ``might_contain``.
    """

    def __init__(self, seen: SeenFilter, catalog: ItemCatalog) -> None:
        self.seen = seen
        self.catalog = catalog
        spec = getattr(seen, "spec", None)
        self._positions: np.ndarray | None = None
        if spec is not None and callable(getattr(seen, "filter_bytes", None)) and len(catalog):
            ids = catalog.ids_of(np.arange(len(catalog)))
            self._positions = np.array([spec.positions(item_id) for item_id in ids], dtype=np.int64)

    async def apply(self, query: RecallQuery, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(rows) == 0:
            return rows, rows
        try:
            mask = await self._seen_mask(query.user_id, rows)
        except Exception as exc:  # a seen filter outage must not cost the whole recall
            log.warning("seen filter failed, not filtering: %s", exc)
            return rows, rows[:0]
        return rows[~mask], rows[mask]

    async def _seen_mask(self, user_id: str, rows: np.ndarray) -> np.ndarray:
        table = self._positions
        if table is None or int(rows.max()) >= len(table):  # no table, or items added after the build
            flags = await self.seen.might_contain(user_id, self.catalog.ids_of(rows))
            return np.asarray(flags, dtype=bool)
        bits = await self.seen.filter_bytes(user_id)  # type: ignore[attr-defined]  # only the Bloom-backed filters have it; checked by _positions
        if not bits:
            return np.zeros(len(rows), dtype=bool)
        filter_bytes = np.frombuffer(bits, dtype=np.uint8)
        positions = table[rows]
        byte = positions >> 3
        inside = byte < len(filter_bytes)  # bytes past the end of a Redis string count as zero
        values = filter_bytes[np.where(inside, byte, 0)]
        set_bits = (values & (0x80 >> (positions & 7))) != 0
        return (set_bits & inside).all(axis=1)


@dataclass(frozen=True, slots=True)
class MergeResult:
    rows: np.ndarray  # best first
    scores: np.ndarray  # fused
    sources: np.ndarray  # provenance bits per row, see channels_of
    dropped: Mapping[ChannelKind, str] = field(default_factory=dict)  # channel -> why
    recalled: Mapping[ChannelKind, int] = field(default_factory=dict)  # channel -> items after exclusion
    filtered: int = 0  # removed by the filters after fusion

    @staticmethod
    def channels_of(bits: int) -> tuple[ChannelKind, ...]:
        found = _CHANNELS.get(bits)
        if found is None:
            found = _CHANNELS[bits] = tuple(kind for kind, bit in _BIT.items() if bits & bit)
        return found


_CHANNELS: dict[int, tuple[ChannelKind, ...]] = {}  # provenance bits -> channels (at most 2 ** len(ChannelKind))


def fuse(
    parts: Sequence[tuple[ChannelKind, np.ndarray]], policies: Mapping[ChannelKind, ChannelPolicy], offset: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted reciprocal-rank fusion with provenance: ``(rows, fused scores, channel bits)``, best first.

    Each part is one channel's rows, best first, already filtered; only the first
    ``quota`` count. Ties in fused score are broken by row, so the order is
    deterministic.
    """
    kept = [(kind, rows[: policies[kind].quota]) for kind, rows in parts]
    if not kept:
        empty = np.empty(0, dtype=np.int64)
        return empty, np.empty(0, dtype=np.float32), empty
    all_rows = np.concatenate([rows for _, rows in kept])
    scores = np.concatenate(
        [policies[kind].weight / (offset + np.arange(len(rows), dtype=np.float64)) for kind, rows in kept]
    )
    unique, inverse = np.unique(all_rows, return_inverse=True)
    fused = np.bincount(inverse, weights=scores, minlength=unique.size)
    bits = np.zeros(unique.size, dtype=np.int64)
    start = 0
    for kind, rows in kept:  # one OR per channel; a row twice in one channel gets the same bit twice
        bits[inverse[start : start + len(rows)]] |= _BIT[kind]
        start += len(rows)
    order = np.lexsort((unique, -fused))
    return unique[order], fused[order].astype(np.float32), bits[order]


class Merger:
    """Concurrent channels, per-channel quota and timeout, rank fusion, dedup, filters."""

    def __init__(
        self,
        channels: Sequence[tuple[Channel, ChannelPolicy]],
        filters: Sequence[CandidateFilter] = (),
        *,
        offset: float = 60.0,
    ) -> None:
        kinds = [channel.kind for channel, _ in channels]
        if len(set(kinds)) != len(kinds):
            raise RecallConfigError(f"a channel kind appears twice: {[k.value for k in kinds]}")
        if not offset > 0:
            raise RecallConfigError(f"fusion offset must be > 0, got {offset}")
        self.channels = tuple(channels)
        self.filters = tuple(filters)
        self.offset = offset

    async def _filter(self, query: RecallQuery, ranked: np.ndarray, k: int) -> tuple[np.ndarray, int]:
        """Positions of ``ranked`` that pass every filter, enough for ``k`` when there are.

        Filters see windows of the ranked list, best first, not the whole union:
        a Bloom lookup per recalled item would cost more than the rest of recall.
        """
        if not self.filters:
            return np.arange(min(k, len(ranked))), 0
        passed: list[np.ndarray] = []
        count = removed = start = 0
        while count < k and start < len(ranked):
            stop = start + (k - count) + (k - count) // 8 + 16  # a small margin: each lookup costs
            window = ranked[start:stop]
            kept = window
            for candidate_filter in self.filters:
                kept, _ = await candidate_filter.apply(query, kept)
            mask = np.isin(window, kept)
            passed.append(start + np.flatnonzero(mask))
            count += int(mask.sum())
            removed += int(len(window) - mask.sum())
            start = stop
        return np.concatenate(passed)[:k] if passed else np.empty(0, dtype=np.int64), removed

    async def _answers(
        self, active: Sequence[tuple[Channel, ChannelPolicy]], query: RecallQuery, widen: int
    ) -> list[Candidates | BaseException]:
        """Each channel's answer or exception, in order: stepped eagerly, the waiting ones finished in tasks."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        answers: list[Candidates | BaseException] = []
        waiting: dict[int, Awaitable[Candidates]] = {}
        for position, (channel, policy) in enumerate(active):
            coro = channel.retrieve(query, policy.quota + widen)
            try:
                yielded = coro.send(None)
            except StopIteration as done:
                answers.append(done.value)
                continue
            except Exception as exc:
                answers.append(exc)
                continue
            answers.append(Candidates.empty())  # replaced when it finishes
            timeout = max(0.0, began + policy.timeout - loop.time())
            waiting[position] = asyncio.wait_for(_finish(coro, yielded), timeout=timeout)
        if waiting:
            finished = await asyncio.gather(*waiting.values(), return_exceptions=True)
            for position, answer in zip(waiting, finished, strict=True):
                answers[position] = answer
        return answers

    async def run(self, query: RecallQuery, k: int, exclude: np.ndarray | None = None) -> MergeResult:
        if k <= 0:
            raise RecallInputError(f"k must be positive, got {k}")
        exclude = np.empty(0, dtype=np.int64) if exclude is None else np.asarray(exclude, dtype=np.int64)
        widen = len(exclude)
        active = [(channel, policy) for channel, policy in self.channels if channel.enable(query)]
        answers = await self._answers(active, query, widen)
        parts: list[tuple[ChannelKind, np.ndarray]] = []
        dropped: dict[ChannelKind, str] = {}
        for (channel, _policy), answer in zip(active, answers, strict=True):
            if isinstance(answer, BaseException):
                if not isinstance(answer, Exception):
                    raise answer  # cancellation and friends are not a channel's failure
                reason = "timeout" if isinstance(answer, TimeoutError) else f"{type(answer).__name__}: {answer}"
                log.warning("recall channel %s dropped: %s", channel.name, reason)
                dropped[channel.kind] = reason
                continue
            rows = answer.rows
            if widen:
                rows = rows[~np.isin(rows, exclude)]
            parts.append((channel.kind, rows))
        policies = {channel.kind: policy for channel, policy in active}
        ranked, fused, bits = fuse(parts, policies, self.offset)
        recalled = {kind: min(len(rows), policies[kind].quota) for kind, rows in parts}
        keep, removed = await self._filter(query, ranked, k)
        ranked, fused, bits = ranked[keep], fused[keep], bits[keep]
        return MergeResult(ranked[:k], fused[:k], bits[:k], dropped, recalled, removed)


class _Yield:
    """Awaitable that re-yields what a stepped coroutine yielded, so the task running ``_finish`` waits on it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, None]:
        yield self.value


async def _finish(coro: Coroutine[Any, Any, Candidates], yielded: Any) -> Candidates:
    """Go on with a coroutine that was stepped once and yielded ``yielded``, as its own task would have:
    wait for what it waits for, resume it, and hand it any exception (cancellation) met while waiting."""
    while True:
        try:
            await _Yield(yielded)
        except BaseException as exc:  # cancelled (late) while waiting: the channel sees it
            try:
                yielded = coro.throw(exc)
            except StopIteration as done:
                return done.value
            continue
        try:
            yielded = coro.send(None)
        except StopIteration as done:
            return done.value
