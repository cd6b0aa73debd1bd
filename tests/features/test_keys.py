"""The key layout and its hash slots (no Redis): which keys share a slot, and how items spread."""

from __future__ import annotations

import collections

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.crc import key_slot as redis_py_key_slot

from dubbo_recsys.features.keys import (
    ITEM_BUCKET_SLOTS,
    ITEM_BUCKET_TAGS,
    ITEM_BUCKETS,
    SLOTS,
    KeyLayout,
    item_bucket,
    key_slot,
)


def test_keys_have_prefix_version_and_tags() -> None:
    layout = KeyLayout("shop")
    assert layout.user("7") == "shop:v2:user:{u:7}"
    assert layout.seen("7", 100, 3) == "shop:v2:seen:100x3:{u:7}"
    assert layout.user_key("lastn", "7") == "shop:v2:lastn:{u:7}"
    assert layout.meta() == "shop:v2:meta"
    bucket = item_bucket("a:b")
    assert layout.item("a:b") == f"shop:v2:item:{{{ITEM_BUCKET_TAGS[bucket]}}}:a:b"


def test_bucket_tags_are_pinned() -> None:
    """The tags are part of the stored layout: changing them orphans every loaded item."""
    assert len(ITEM_BUCKET_TAGS) == ITEM_BUCKETS == 32
    assert ITEM_BUCKET_TAGS[:3] == ("i0:42", "i1:70", "i2:31")
    assert item_bucket("i1") == 11 and item_bucket("фильм-é") == 27


def test_bucket_slots_are_evenly_spaced() -> None:
    width = SLOTS // ITEM_BUCKETS
    for bucket, slot in enumerate(ITEM_BUCKET_SLOTS):
        assert bucket * width <= slot < (bucket + 1) * width
    # the slot ranges redis-cli --cluster create gives 3 masters: 11, 11 and 10 buckets
    masters = [(0, 5460), (5461, 10922), (10923, 16383)]
    per_master = [sum(low <= s <= high for s in ITEM_BUCKET_SLOTS) for low, high in masters]
    assert sorted(per_master) == [10, 11, 11]


def test_items_spread_over_all_buckets() -> None:
    counts = collections.Counter(item_bucket(f"item-{n}") for n in range(32_000))
    assert len(counts) == ITEM_BUCKETS
    assert max(counts.values()) < 1.1 * min(counts.values())


@settings(max_examples=300, deadline=None)
@given(user_id=st.text(max_size=30), item_id=st.text(max_size=30))
def test_slots_agree_with_redis_py_and_users_keep_one_slot(user_id: str, item_id: str) -> None:
    """Our slot function is Redis's rule (redis-py's implementation as the reference), the layout's
    slot shortcuts agree with it, and every key of one user is in the user's slot, whatever the id
    holds (braces included)."""
    layout = KeyLayout()
    try:
        encoded = layout.item(item_id).encode()
    except UnicodeEncodeError:  # a lone surrogate: Redis clients cannot send such a key anyway
        return
    assert key_slot(layout.item(item_id)) == redis_py_key_slot(encoded) == layout.item_slot(item_id)
    user_keys = [layout.user(user_id), layout.seen(user_id, 19171, 7), layout.user_key("lastn", user_id)]
    slots = {key_slot(k) for k in [*user_keys, layout.seen(user_id, 19171, 7) + ":delta:abc"]}
    assert slots == {layout.user_slot(user_id)}


def test_batch_keys_match_single_keys() -> None:
    layout = KeyLayout("p")
    ids = ["a", "b", "фильм", "x}y", ""]
    keys, slots = layout.item_keys(ids)
    assert keys == [layout.item(i) for i in ids] and slots == [layout.item_slot(i) for i in ids]
    keys, slots = layout.user_keys(ids)
    assert keys == [layout.user(i) for i in ids] and slots == [layout.user_slot(i) for i in ids]


@pytest.mark.parametrize("key, slot", [("foo", 12182), ("{user1000}.following", 3443), ("foo{}{bar}", 8363)])
def test_key_slot_matches_the_cluster_spec_examples(key: str, slot: int) -> None:
    assert key_slot(key) == slot == redis_py_key_slot(key.encode())
