"""The merger's row-table Bloom check gives exactly what ``might_contain`` says, on both backends."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from dubbo_recsys.features.base import SeenFilter
from dubbo_recsys.features.seen import InMemorySeenFilter, SeenConfig
from dubbo_recsys.recall.artifacts import ItemCatalog
from dubbo_recsys.recall.base import RecallQuery
from dubbo_recsys.recall.merger import SeenBloomFilter
from tests.support import require_env

IDS = [f"item-{i}" for i in range(3000)]
CONFIG = SeenConfig(expected_items=100, fp_rate=0.05)


def query(user: str) -> RecallQuery:
    return RecallQuery(user_id=user, user=None, user_row=None, history=np.empty(0, dtype=np.int64), context={})


async def check_against_might_contain(seen: SeenFilter, user: str) -> None:
    catalog = ItemCatalog(IDS)
    bloom = SeenBloomFilter(seen, catalog)
    assert bloom._positions is not None and bloom._positions.shape == (len(IDS), CONFIG.spec.hashes)
    shown = IDS[:150:3]  # over capacity on purpose: false positives must agree too
    await seen.add(user, shown)
    rows = np.random.default_rng(3).permutation(len(IDS))[:1200].astype(np.int64)
    kept, removed = await bloom.apply(query(user), rows)
    expected = np.asarray(await seen.might_contain(user, catalog.ids_of(rows)), dtype=np.bool_)
    assert list(removed) == list(rows[expected]) and list(kept) == list(rows[~expected])
    assert {catalog.id_of(int(r)) for r in rows if catalog.id_of(int(r)) in shown} <= set(catalog.ids_of(removed))
    kept, removed = await bloom.apply(query("nobody-" + user), rows)  # a user without a filter
    assert len(removed) == 0 and len(kept) == len(rows)


@pytest.mark.asyncio
async def test_in_memory_rows_match_might_contain() -> None:
    await check_against_might_contain(InMemorySeenFilter(CONFIG), "u1")


@pytest.mark.asyncio
async def test_redis_rows_match_might_contain() -> None:
    from dubbo_recsys.features.codec import KeyLayout
    from dubbo_recsys.features.redis import RedisConfig, RedisSeenFilter, close_client

    url = require_env("REDIS_URL")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    client = RedisConfig(url=url, prefix=prefix).client()
    try:
        await check_against_might_contain(RedisSeenFilter(client, KeyLayout(prefix), CONFIG), "u2")
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await close_client(client)


@pytest.mark.asyncio
async def test_items_added_after_the_build_use_might_contain() -> None:
    catalog = ItemCatalog(IDS[:10])
    seen = InMemorySeenFilter(CONFIG)
    bloom = SeenBloomFilter(seen, catalog)
    new_row = catalog.add("brand-new")
    await seen.add("u3", ["brand-new", IDS[2]])
    kept, removed = await bloom.apply(query("u3"), np.array([2, 5, new_row], dtype=np.int64))
    assert sorted(removed.tolist()) == [2, new_row] and kept.tolist() == [5]
