"""``BoundedCache``: bytes, not entries, bound what callers can make the provider keep."""

from __future__ import annotations

import pytest

from dubbo_recsys.provider.bounded_cache import BoundedCache, bounded_cache
from dubbo_recsys.provider.descriptor import canonical_type_name, parse_descriptor, type_descriptor
from dubbo_recsys.provider.errors import DescriptorError


def test_least_recently_used_entries_leave_first_past_the_byte_bound():
    cache: BoundedCache[str] = BoundedCache(max_bytes=2000, max_key_chars=100)  # four entries of ~400 bytes
    for key in ("a", "b", "c"):
        cache.put(key, key * 100)
    assert cache.get("a") == "a" * 100  # a is now the most recently used
    for key in ("d", "e"):
        cache.put(key, key * 100)
    assert cache.held <= 2000 and len(cache) == 4
    assert cache.get("b") is None and cache.get("a") == "a" * 100


def test_long_keys_and_huge_values_are_not_kept():
    cache: BoundedCache[str] = BoundedCache(max_bytes=10_000, max_key_chars=8)
    cache.put("x" * 9, "value")
    cache.put("short", "v" * 20_000)
    assert len(cache) == 0 and cache.held == 0


def test_the_decorator_caches_results_not_errors():
    calls: list[str] = []

    @bounded_cache(max_bytes=10_000, max_key_chars=100)
    def shout(text: str) -> str:
        calls.append(text)
        if text == "bad":
            raise ValueError(text)
        return text.upper()

    assert shout("hi") == shout("hi") == "HI" and calls == ["hi"]
    for _ in range(2):
        with pytest.raises(ValueError, match="bad"):
            shout("bad")
    assert calls == ["hi", "bad", "bad"]


@pytest.mark.parametrize("function", [parse_descriptor, canonical_type_name, type_descriptor])
def test_caller_named_strings_cost_bounded_memory(function):
    """What a stream of requests naming never-seen types leaves behind stays under the cache's bound."""
    cache = function.cache
    for i in range(3000):
        name = f"com.attack.C{i:05d}{'x' * 900}"
        key = {"parse_descriptor": f"L{name.replace('.', '/')};"}.get(function.__name__, name)
        function(key)
    assert cache.held <= cache.max_bytes


def test_type_names_longer_than_any_java_class_are_refused_cheaply():
    with pytest.raises(DescriptorError, match="too long"):
        canonical_type_name("a" * (8 << 20))
