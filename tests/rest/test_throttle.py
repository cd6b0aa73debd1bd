"""Failed logins: limited per client address and per user, with Retry-After, and never a lockout for good."""

from __future__ import annotations

from typing import Any

import pytest

from dubbo_recsys.provider.rest import RestShimConfig
from dubbo_recsys.provider.rest.config import LoginLimits
from dubbo_recsys.provider.rest.throttle import LoginThrottle
from tests.rest.conftest import JWT


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(**limits: Any) -> tuple[LoginThrottle, Clock]:
    clock = Clock()
    return LoginThrottle(LoginLimits(**limits), frozenset({"alice"}), clock), clock


def test_an_address_gets_its_burst_then_one_try_per_refill_interval():
    limiter, clock = throttle(per_address_per_minute=10, per_address_burst=10, per_user_burst=1000)
    for _ in range(10):
        assert limiter.retry_after("10.0.0.1", "mallory") == 0
        limiter.failed("10.0.0.1", "mallory")
    assert limiter.retry_after("10.0.0.1", "mallory") == 6  # one token every 6 s
    assert limiter.retry_after("10.0.0.2", "mallory") == 0  # another address is not held back
    clock.now += 6
    assert limiter.retry_after("10.0.0.1", "mallory") == 0


def test_a_user_guessed_from_many_addresses_is_held_to_its_rate_but_not_from_where_it_logged_in():
    limiter, clock = throttle(per_user_per_minute=5, per_user_burst=5)
    limiter.succeeded("192.168.1.7", "alice")  # the real user, yesterday's login
    clock.now += 3600
    for i in range(5):  # an attacker, a new address per guess
        assert limiter.retry_after(f"10.1.0.{i}", "alice") == 0
        limiter.failed(f"10.1.0.{i}", "alice")
    assert limiter.retry_after("10.1.0.99", "alice") == 12  # 5 a minute over all addresses
    assert limiter.retry_after("192.168.1.7", "alice") == 0  # the real user's address is not locked out
    assert limiter.retry_after("10.1.0.99", "bob") == 0  # not a configured user: no per-user bucket at all


def test_refusals_cost_nothing_so_the_wait_is_never_extended():
    limiter, clock = throttle(per_user_per_minute=5, per_user_burst=5)
    for i in range(5):
        limiter.failed(f"10.2.0.{i}", "alice")
    waits = []
    for _ in range(100):  # an attacker hammering while locked: each refusal is free
        waits.append(limiter.retry_after("10.2.9.9", "alice"))
        clock.now += 0.1
    assert waits[0] == 12 and waits[-1] <= 3 and waits == sorted(waits, reverse=True)
    clock.now += 3
    assert limiter.retry_after("10.9.9.9", "alice") == 0  # the real user, new address: in after 12 s at most


def test_ipv6_addresses_count_per_64_and_tables_stay_bounded():
    limiter, _ = throttle(per_address_burst=1, max_entries=100)
    limiter.failed("2001:db8:1:2::1", "x")
    assert limiter.retry_after("2001:db8:1:2:ffff::9", "x") > 0  # same /64
    assert limiter.retry_after("2001:db8:1:3::1", "x") == 0
    assert limiter.retry_after("::ffff:10.0.0.1", "x") == 0
    for i in range(10_000):
        limiter.failed(f"10.{i // 256 % 256}.{i % 256}.1", f"user{i}")
    assert len(limiter._addresses._tokens) <= 100 and len(limiter._users._tokens) <= 100


@pytest.mark.asyncio
async def test_login_answers_429_with_retry_after_and_lets_the_right_password_in_later(make_client) -> None:
    limits = LoginLimits(per_address_per_minute=3, per_address_burst=3, per_user_per_minute=60, per_user_burst=60)
    client = make_client(config=RestShimConfig(port=0, jwt=JWT, login_limits=limits))
    for _ in range(3):
        answer = await client.post("/login", json={"username": "alice", "password": "wrong-password"})
        assert answer.status_code == 401
    answer = await client.post("/login", json={"username": "alice", "password": "alice-password"})
    assert answer.status_code == 429 and answer.headers["retry-after"] == "20"  # refused before the check
    assert "too many failed logins" in answer.json()["detail"]
