"""How many wrong passwords ``POST /login`` takes, from whom: per client address and per user.

No I/O and an injectable clock, so the policy is tested without a server. The policy:

- every failed login costs one token from its client address's bucket and, when the
  name is a configured user, one from that user's bucket; a success costs nothing;
- a bucket holds ``burst`` tokens and refills at ``per_minute`` a minute (defaults: an
  address 10 and 10/min, a user 5 and 5/min); a login that finds its bucket empty is
  refused before the password is looked at, with 429 and ``Retry-After`` (the seconds
  until the next token), so guessing runs at the refill rate at best: 5 a minute per
  user, ~7,200 a day, whatever the number of addresses used;
- never locked out for good: buckets refill by themselves, a refusal costs nothing and
  does not extend the wait, so the real user waits at most one refill interval (12 s);
  and an address that logged in as a user in the last ``known_for`` seconds (a day) is
  not held back by that user's bucket (only by its own), so an attacker elsewhere
  cannot keep the real user out of the places it logs in from;
- names that are not configured users get no bucket of their own (a flood of invented
  names cannot grow the tables); IPv6 addresses count per /64 (what one host is given);
  each table keeps at most ``max_entries`` (10,000) entries, least recently used out.

The address is the TCP peer; behind a reverse proxy that is the proxy, so the per-user
limit is the one that holds there (X-Forwarded-For is not trusted: anyone can send it).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from dubbo_recsys.provider.rest.config import LoginLimits

__all__ = ["LoginThrottle"]


class _Buckets:
    """Token buckets by key, least recently used dropped past ``max_entries`` (a dropped one is full)."""

    def __init__(self, burst: int, per_minute: float, max_entries: int) -> None:
        self.burst = burst
        self.rate = per_minute / 60.0  # tokens a second
        self.max_entries = max_entries
        self._tokens: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, when)

    def _level(self, key: str, now: float) -> float:
        tokens, when = self._tokens.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - when) * self.rate)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` has a token (0: it has one now)."""
        level = self._level(key, now)
        return 0.0 if level >= 1.0 else (1.0 - level) / self.rate

    def take(self, key: str, now: float) -> None:
        self._tokens[key] = (max(0.0, self._level(key, now) - 1.0), now)
        self._tokens.move_to_end(key)
        while len(self._tokens) > self.max_entries:
            self._tokens.popitem(last=False)


class LoginThrottle:
    """``retry_after(address, user)`` before checking a password; ``failed``/``succeeded`` after."""

    def __init__(self, limits: LoginLimits, users: frozenset[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.users = users
        self.clock = clock
        self._addresses = _Buckets(limits.per_address_burst, limits.per_address_per_minute, limits.max_entries)
        self._users = _Buckets(limits.per_user_burst, limits.per_user_per_minute, limits.max_entries)
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()  # (user, address) -> last success

    def retry_after(self, address: str, user: str) -> int:
        """0 to go ahead; else the whole seconds to wait (what ``Retry-After`` says)."""
        now = self.clock()
        address = _address_key(address)
        wait = self._addresses.wait(address, now)
        if user in self.users and not self._is_known(user, address, now):
            wait = max(wait, self._users.wait(user, now))
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, address: str, user: str) -> None:
        now = self.clock()
        self._addresses.take(_address_key(address), now)
        if user in self.users:
            self._users.take(user, now)

    def succeeded(self, address: str, user: str) -> None:
        key = (user, _address_key(address))
        self._known[key] = self.clock()
        self._known.move_to_end(key)
        while len(self._known) > self.limits.max_entries:
            self._known.popitem(last=False)

    def _is_known(self, user: str, address: str, now: float) -> bool:
        when = self._known.get((user, address))
        return when is not None and now - when <= self.limits.known_for


def _address_key(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "?"  # a Unix socket or a test client: one bucket
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
