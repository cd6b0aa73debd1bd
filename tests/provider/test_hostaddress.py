"""The address a wildcard bind publishes, chosen as Dubbo's NetUtils.getLocalHost does."""

from __future__ import annotations

import socket

import pytest

from dubbo_recsys.provider.hostaddress import IGNORED_ENV, PREFERRED_ENV, _interfaces, is_valid_v4, local_address
from dubbo_recsys.provider.registration import ADVERTISE_ENV, advertised_host


def test_valid_addresses_are_dubbos() -> None:
    assert is_valid_v4("10.1.2.3") and is_valid_v4("192.0.2.2")
    assert not any(is_valid_v4(a) for a in ("127.0.0.1", "127.1.1.1", "0.0.0.0", "::1", "fe80::1", "nope", ""))


def test_the_first_usable_interface_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IGNORED_ENV, raising=False)
    monkeypatch.delenv(PREFERRED_ENV, raising=False)
    found = _interfaces()
    if not found:
        pytest.skip("this machine has no non-loopback IPv4 interface")
    assert all(is_valid_v4(address) and ":" not in name for name, address in found)
    assert local_address() == found[0][1]
    # the address is really this machine's: a socket binds to it
    with socket.socket() as sock:
        sock.bind((found[0][1], 0))
    monkeypatch.setenv(PREFERRED_ENV, found[-1][0])
    assert local_address() == found[-1][1]


def test_ignoring_every_interface_falls_back_to_the_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IGNORED_ENV, "nothing-like-it, .*")
    assert _interfaces() == []
    try:
        resolved = socket.gethostbyname(socket.gethostname())
    except OSError:
        resolved = ""
    assert local_address() == (resolved if is_valid_v4(resolved) else "127.0.0.1")


def test_advertised_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ADVERTISE_ENV, raising=False)
    assert advertised_host("127.0.0.1") == ("127.0.0.1", False)
    assert advertised_host("0.0.0.0") == (local_address(), True)
    assert advertised_host("0.0.0.0", "10.9.9.9") == ("10.9.9.9", True)
    monkeypatch.setenv(ADVERTISE_ENV, "10.8.8.8")
    assert advertised_host("0.0.0.0") == ("10.8.8.8", True)
