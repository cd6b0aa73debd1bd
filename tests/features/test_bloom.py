"""Bloom sizing and hashing, and the in-memory seen filter."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubbo_recsys.features.base import FeatureStoreError
from dubbo_recsys.features.bloom import BloomSpec, all_bits_set, set_bits
from dubbo_recsys.features.seen import InMemorySeenFilter, SeenConfig


def sample_fp_rate(contains: list[bool]) -> float:
    return sum(contains) / len(contains)


@pytest.mark.asyncio
async def test_sizing_follows_the_textbook_formula() -> None:
    spec = BloomSpec.for_capacity(1000, 0.01)
    assert (spec.bits, spec.hashes) == (9586, 7)
    assert spec.expected_fp_rate(1000) == pytest.approx(0.01, rel=0.05)
    assert BloomSpec.for_capacity(10_000, 0.001).bits > BloomSpec.for_capacity(10_000, 0.01).bits


@pytest.mark.parametrize("n, p", [(0, 0.01), (-5, 0.01), (10, 0.0), (10, 1.0), (10, -0.1), (True, 0.1)])
@pytest.mark.asyncio
async def test_bad_sizes_are_rejected(n: int, p: float) -> None:
    with pytest.raises(FeatureStoreError):
        BloomSpec.for_capacity(n, p)


def documented_positions(item_id: str, m: int, k: int) -> list[int]:
    """The formula of the features.bloom docstring, written out again from the text."""
    digest = hashlib.blake2b(item_id.encode(), digest_size=16, person=b"recsys-seen").digest()
    h1 = int.from_bytes(digest[:8], "little")
    h2 = int.from_bytes(digest[8:], "little") | 1
    return [(h1 + i * h2) % m for i in range(k)]


@pytest.mark.parametrize("item_id", ["i42", "фильм", "", "a:b c"])
@pytest.mark.asyncio
async def test_positions_follow_the_documented_hash(item_id: str) -> None:
    spec = BloomSpec(bits=1000, hashes=7)
    assert spec.positions(item_id) == documented_positions(item_id, 1000, 7)


def test_positions_do_not_depend_on_the_process_hash_seed() -> None:
    code = "from dubbo_recsys.features.bloom import BloomSpec; print(BloomSpec(bits=99991, hashes=5).positions('i42'))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {f"{BloomSpec(bits=99991, hashes=5).positions('i42')}\n"}


@pytest.mark.asyncio
async def test_bits_are_numbered_most_significant_first_like_redis() -> None:
    buf = bytearray(2)
    set_bits(buf, [0, 9])
    assert buf == bytearray([0x80, 0x40])
    assert all_bits_set(buf, [0, 9]) and not all_bits_set(buf, [0, 1])


@pytest.mark.asyncio
async def test_no_false_negatives_and_fp_rate_near_configured() -> None:
    seen = InMemorySeenFilter(SeenConfig(expected_items=2000, fp_rate=0.02))
    shown = [f"item-{n}" for n in range(2000)]
    for start in range(0, len(shown), 200):
        await seen.add("u1", shown[start : start + 200])
    assert all(await seen.might_contain("u1", shown))
    others = [f"other-{n}" for n in range(20_000)]
    rate = sample_fp_rate(await seen.might_contain("u1", others))
    assert 0.01 <= rate <= 0.04, rate


@pytest.mark.asyncio
async def test_users_are_isolated() -> None:
    seen = InMemorySeenFilter(SeenConfig(expected_items=100, fp_rate=0.01))
    await seen.add("alice", ["a1", "a2"])
    assert await seen.might_contain("alice", ["a1", "a2"]) == [True, True]
    assert await seen.might_contain("bob", ["a1", "a2"]) == [False, False]
    assert await seen.might_contain("alice", []) == []


@pytest.mark.asyncio
async def test_lru_bound_and_ttl() -> None:
    now = [0.0]
    seen = InMemorySeenFilter(
        SeenConfig(expected_items=10, fp_rate=0.01, ttl_seconds=60, max_users=2), clock=lambda: now[0]
    )
    await seen.add("a", ["x"])
    await seen.add("b", ["x"])
    assert await seen.might_contain("a", ["x"]) == [True]  # touches a: b is now least recent
    await seen.add("c", ["x"])
    assert len(seen) == 2
    assert await seen.might_contain("b", ["x"]) == [False]
    assert await seen.might_contain("a", ["x"]) == [True]
    now[0] = 61.0
    assert await seen.might_contain("a", ["x"]) == [False]


@pytest.mark.asyncio
async def test_bad_input_raises_feature_store_error() -> None:
    seen = InMemorySeenFilter()
    with pytest.raises(FeatureStoreError):
        await seen.add("u", "item")  # a string, not a list of ids
    with pytest.raises(FeatureStoreError):
        await seen.might_contain(7, ["x"])  # type: ignore[arg-type]  # not a string, on purpose
    with pytest.raises(FeatureStoreError):
        SeenConfig(ttl_seconds=0)
    with pytest.raises(FeatureStoreError):
        SeenConfig(max_users=0)


@pytest.mark.asyncio
async def test_short_buffers_read_as_zero_past_their_end() -> None:
    assert not all_bits_set(b"\xff", [3, 8])
    assert all_bits_set(b"\xff", [0, 7])
    assert not all_bits_set(b"", [0])


@settings(max_examples=100, deadline=None)
@given(added=st.lists(st.text(max_size=12), max_size=60), expected=st.integers(1, 500), fp=st.floats(0.001, 0.5))
def test_never_a_false_negative(added: list[str], expected: int, fp: float) -> None:
    spec = BloomSpec.for_capacity(expected, fp)
    bits = bytearray(spec.nbytes)
    for item in added:
        set_bits(bits, spec.positions(item))
    assert all(all_bits_set(bits, spec.positions(item)) for item in added)
    assert all(0 <= p < spec.bits for item in added for p in spec.positions(item))
