"""The merger: quotas, timeouts, failures, dedup with provenance, exposure and seen filtering, widening."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import numpy as np
import pytest

from dubbo_recsys.features.seen import InMemorySeenFilter
from dubbo_recsys.recall.artifacts import ItemCatalog
from dubbo_recsys.recall.base import Candidates, Channel, ChannelKind, RecallConfigError, RecallInputError, RecallQuery
from dubbo_recsys.recall.merger import ChannelPolicy, Merger, MergeResult, SeenBloomFilter, fuse

QUERY = RecallQuery(user_id="u1")


class ListChannel(Channel):
    """Returns a fixed ranked list; remembers the k it was asked for."""

    def __init__(self, rows: list[int], delay: float = 0.0, error: Exception | None = None) -> None:
        self.rows = np.array(rows, dtype=np.int64)
        self.delay = delay
        self.error = error
        self.asked: list[int] = []

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        self.asked.append(k)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        rows = self.rows[:k]
        return Candidates(rows, np.linspace(1.0, 0.5, len(rows)).astype(np.float32))


class A(ListChannel, kind=ChannelKind.ITEM_CF):
    pass


class B(ListChannel, kind=ChannelKind.U2I):
    pass


class C(ListChannel, kind=ChannelKind.HOT):
    pass


class Off(ListChannel, kind=ChannelKind.SWING):
    def enable(self, query: RecallQuery) -> bool:
        return False


@pytest.mark.asyncio
async def test_quota_limits_each_channel() -> None:
    merger = Merger([(A(list(range(100))), ChannelPolicy(quota=5)), (B(list(range(200, 300))), ChannelPolicy(quota=3))])
    result = await merger.run(QUERY, 50)
    assert len(result.rows) == 8
    assert set(result.rows.tolist()) == {0, 1, 2, 3, 4, 200, 201, 202}
    assert result.recalled == {ChannelKind.ITEM_CF: 5, ChannelKind.U2I: 3}


@pytest.mark.asyncio
async def test_a_slow_channel_is_dropped_not_waited_for() -> None:
    slow = B([7, 8, 9], delay=5.0)
    merger = Merger([(A([1, 2, 3]), ChannelPolicy(timeout=1.0)), (slow, ChannelPolicy(timeout=0.05))])
    started = time.perf_counter()
    result = await merger.run(QUERY, 10)
    assert time.perf_counter() - started < 1.0
    assert result.rows.tolist() == [1, 2, 3]
    assert result.dropped == {ChannelKind.U2I: "timeout"}


class WhereChannel(ListChannel, kind=ChannelKind.SWING):
    """Records the task it ran in (its first step)."""

    async def retrieve(self, query: RecallQuery, k: int) -> Candidates:
        self.task = asyncio.current_task()
        return await super().retrieve(query, k)


@pytest.mark.asyncio
async def test_channels_that_never_wait_run_in_the_caller_and_waiting_ones_still_count() -> None:
    eager = WhereChannel([5, 6])
    waits = B([6, 7], delay=0.01)  # waits, answers within its timeout
    fails_late = C([], delay=0.005, error=ValueError("after a wait"))
    merger = Merger(
        [(eager, ChannelPolicy()), (waits, ChannelPolicy(timeout=1.0)), (fails_late, ChannelPolicy())], offset=1.0
    )
    result = await merger.run(QUERY, 10)
    assert eager.task is asyncio.current_task()  # stepped in place: no task of its own
    assert result.rows.tolist() == [6, 5, 7]  # 6: 1/2 (swing) + 1/1 (u2i)
    provenance = {int(r): MergeResult.channels_of(int(b)) for r, b in zip(result.rows, result.sources, strict=True)}
    assert provenance[6] == (ChannelKind.U2I, ChannelKind.SWING) and provenance[7] == (ChannelKind.U2I,)
    assert result.dropped == {ChannelKind.HOT: "ValueError: after a wait"}
    assert waits.asked == [200] and eager.asked == [200]


@pytest.mark.asyncio
async def test_a_failing_channel_is_dropped_with_its_reason() -> None:
    merger = Merger([(A([1, 2]), ChannelPolicy()), (B([], error=ValueError("index gone")), ChannelPolicy())])
    result = await merger.run(QUERY, 10)
    assert result.rows.tolist() == [1, 2]
    assert result.dropped == {ChannelKind.U2I: "ValueError: index gone"}


@pytest.mark.asyncio
async def test_disabled_channels_are_not_asked() -> None:
    off = Off([1])
    result = await Merger([(off, ChannelPolicy()), (A([2]), ChannelPolicy())]).run(QUERY, 10)
    assert off.asked == [] and result.rows.tolist() == [2]


@pytest.mark.asyncio
async def test_dedup_keeps_every_channel_that_recalled_an_item() -> None:
    merger = Merger(
        [(A([1, 2, 3]), ChannelPolicy()), (B([3, 4]), ChannelPolicy()), (C([3, 1]), ChannelPolicy())], offset=10.0
    )
    result = await merger.run(QUERY, 10)
    assert sorted(result.rows.tolist()) == [1, 2, 3, 4] and len(result.rows) == 4
    provenance = {int(r): MergeResult.channels_of(int(b)) for r, b in zip(result.rows, result.sources, strict=True)}
    assert provenance[3] == (ChannelKind.U2I, ChannelKind.ITEM_CF, ChannelKind.HOT)
    assert provenance[2] == (ChannelKind.ITEM_CF,)
    assert result.rows[0] == 3  # recalled by all three: 1/12 + 1/10 + 1/10 beats item 1's 1/10 + 1/11
    assert result.scores[0] == pytest.approx(1 / 12 + 1 / 10 + 1 / 10)
    assert np.all(np.diff(result.scores) <= 0)


def test_fuse_weights_and_a_zero_weight_channel() -> None:
    policies = {ChannelKind.ITEM_CF: ChannelPolicy(weight=1.0), ChannelKind.U2I: ChannelPolicy(weight=3.0)}
    rows, scores, _ = fuse(
        [(ChannelKind.ITEM_CF, np.array([1, 2])), (ChannelKind.U2I, np.array([2, 9]))], policies, 1.0
    )
    assert rows.tolist() == [2, 9, 1]  # 1/2 + 3/1, 3/2, 1/1
    assert scores.tolist() == pytest.approx([3.5, 1.5, 1.0])


@pytest.mark.asyncio
async def test_exposure_is_filtered_and_recall_is_widened_by_its_size() -> None:
    a = A(list(range(20)))
    merger = Merger([(a, ChannelPolicy(quota=5))])
    result = await merger.run(QUERY, 10, exclude=np.array([0, 2, 4, 99]))
    assert a.asked == [5 + 4]  # quota + exposure size
    assert result.rows.tolist() == [1, 3, 5, 6, 7]  # still a full quota after filtering
    assert result.recalled == {ChannelKind.ITEM_CF: 5}


@pytest.mark.asyncio
async def test_seen_bloom_filter_removes_seen_items_and_still_fills_k() -> None:
    catalog = ItemCatalog([f"i{n}" for n in range(200)])
    seen = InMemorySeenFilter()
    await seen.add("u1", [f"i{n}" for n in range(60)])  # the whole head of the list was shown already
    merger = Merger([(A(list(range(200))), ChannelPolicy(quota=200))], [SeenBloomFilter(seen, catalog)])
    result = await merger.run(QUERY, 10)
    assert result.rows.tolist() == list(range(60, 70))
    assert result.filtered >= 60
    other = await merger.run(RecallQuery(user_id="u2"), 10)  # somebody else's filter is theirs
    assert other.rows.tolist() == list(range(10))


class BrokenSeen:
    async def add(self, user_id: str, item_ids: Sequence[str]) -> None:
        raise ConnectionError("down")

    async def might_contain(self, user_id: str, item_ids: Sequence[str]) -> list[bool]:
        raise ConnectionError("down")


@pytest.mark.asyncio
async def test_a_seen_filter_outage_does_not_fail_recall() -> None:
    catalog = ItemCatalog(["a", "b"])
    merger = Merger([(A([0, 1]), ChannelPolicy())], [SeenBloomFilter(BrokenSeen(), catalog)])
    assert (await merger.run(QUERY, 5)).rows.tolist() == [0, 1]


@pytest.mark.asyncio
async def test_bad_k_and_bad_config_are_clear_errors() -> None:
    with pytest.raises(RecallInputError):
        await Merger([(A([1]), ChannelPolicy())]).run(QUERY, 0)
    with pytest.raises(RecallConfigError):
        ChannelPolicy(quota=0)
    with pytest.raises(RecallConfigError):
        ChannelPolicy(timeout=-1.0)
    with pytest.raises(RecallConfigError):
        Merger([(A([1]), ChannelPolicy()), (A([2]), ChannelPolicy())])


@pytest.mark.asyncio
async def test_no_channel_answering_gives_an_empty_result() -> None:
    result = await Merger([(A([], error=RuntimeError("x")), ChannelPolicy())]).run(QUERY, 5)
    assert len(result.rows) == 0 and ChannelKind.ITEM_CF in result.dropped
