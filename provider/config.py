"""Server and client settings: frozen, validated when built, one slice per layer.

Defaults follow Java Dubbo where it has one (8 MiB payload, 60 s heartbeat,
180 s idle close); bounds on connections and in-flight calls are ours, because a
Python process has no thread pool whose exhaustion would bound them implicitly.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from dubbo_recsys.provider.errors import ConfigError
from dubbo_recsys.provider.protocol import DEFAULT_PAYLOAD_LIMIT

__all__ = ["ClientConfig", "ServerConfig"]

_MAX_PAYLOAD = 2**31 - 1  # the frame's length field is an int32


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")


def _check_payload(value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_PAYLOAD:
        raise ConfigError(f"payload_limit must be an integer in 1..{_MAX_PAYLOAD}, got {value!r}")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """``host`` 0.0.0.0 (every interface, as a Java provider binds) unless restricted;
    ``port`` 0 picks a free port; ``max_inflight`` counts calls being handled in this
    process (beyond it: status 100); ``max_connections`` beyond it: closed at once."""

    host: str = "0.0.0.0"
    port: int = 20880
    max_connections: int = 1024
    max_inflight: int = 2048
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT
    idle_timeout: float = 180.0
    drain_timeout: float = 10.0
    reuse_port: bool = False

    def __post_init__(self) -> None:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            if not self.host or any(ch.isspace() for ch in self.host):
                raise ConfigError(f"bad host {self.host!r}") from None
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port!r}")
        for name in ("max_connections", "max_inflight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        _check_payload(self.payload_limit)
        _check_positive("idle_timeout", self.idle_timeout)
        _check_positive("drain_timeout", self.drain_timeout)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """``timeout`` is the default per call (Java's default is 1 s; inference wants more)."""

    timeout: float = 3.0
    connect_timeout: float = 3.0
    heartbeat_interval: float = 60.0
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT

    def __post_init__(self) -> None:
        _check_positive("timeout", self.timeout)
        _check_positive("connect_timeout", self.connect_timeout)
        _check_positive("heartbeat_interval", self.heartbeat_interval)
        _check_payload(self.payload_limit)
