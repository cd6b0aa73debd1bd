"""The REST shim's slice of configuration: frozen dataclasses validated once.

``RestShimConfig`` says where the HTTP app listens and what it accepts;
``JwtConfig`` (``None`` = no authentication, the local demo's default) holds the
HS256 secret, the token lifetime and the users allowed to log in. A bad value
fails at start-up with the field's name, never on the first request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from dubbo_recsys.provider.observability.config import ObservabilityConfig
from dubbo_recsys.provider.rest.errors import RestShimConfigError

__all__ = ["DEFAULT_PORT", "JwtConfig", "LoginLimits", "RestShimConfig", "RestUser", "Role", "parse_users"]

DEFAULT_PORT = 8080
MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash
_MiB = 1024 * 1024


class Role:
    """What a logged-in user may do: ``user`` calls inference, ``admin`` also the console."""

    USER = "user"
    ADMIN = "admin"
    ALL = (USER, ADMIN)


@dataclass(frozen=True, slots=True)
class RestUser:
    name: str
    password: str
    role: str = Role.USER

    def __post_init__(self) -> None:
        if not self.name or not self.name.isprintable() or ":" in self.name or " " in self.name:
            raise RestShimConfigError(f"users: bad user name {self.name!r}")
        if len(self.password) < 8:
            raise RestShimConfigError(f"users: the password of {self.name!r} is shorter than 8 characters")
        if self.role not in Role.ALL:
            raise RestShimConfigError(f"users: role of {self.name!r} must be one of {Role.ALL}, got {self.role!r}")


def parse_users(text: str) -> tuple[RestUser, ...]:
    """``"alice:password:admin,bob:password"`` -> users (role ``user`` when left out)."""
    users = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        pieces = entry.split(":")
        if len(pieces) not in (2, 3):
            raise RestShimConfigError("users: expected NAME:PASSWORD[:ROLE] entries separated by commas")
        users.append(RestUser(*pieces))
    return tuple(users)


@dataclass(frozen=True, slots=True)
class JwtConfig:
    """HS256 tokens issued by ``POST /login`` to ``users``; ``ttl_seconds`` until they expire."""

    secret: str
    users: tuple[RestUser, ...] = ()
    ttl_seconds: int = 3600
    issuer: str = "dubbo-recsys"

    def __post_init__(self) -> None:
        if not isinstance(self.secret, str) or len(self.secret.encode()) < MIN_SECRET_BYTES:
            raise RestShimConfigError(f"jwt secret: expected at least {MIN_SECRET_BYTES} bytes")
        if not isinstance(self.ttl_seconds, int) or not 60 <= self.ttl_seconds <= 7 * 86400:
            raise RestShimConfigError(f"jwt ttl_seconds: expected 60..604800, got {self.ttl_seconds!r}")
        names = [u.name for u in self.users]
        if len(set(names)) != len(names):
            raise RestShimConfigError("users: a user name appears twice")

    def user_table(self) -> Mapping[str, RestUser]:
        return {u.name: u for u in self.users}


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Failed logins allowed per minute (and at once) for one client address and for one user;
    ``provider.rest.throttle`` says how they are applied and why these defaults."""

    per_address_per_minute: float = 10.0
    per_address_burst: int = 10
    per_user_per_minute: float = 5.0
    per_user_burst: int = 5
    known_for: float = 86400.0
    max_entries: int = 10_000

    def __post_init__(self) -> None:
        for name in ("per_address_per_minute", "per_user_per_minute", "known_for"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise RestShimConfigError(f"login limits: {name} must be positive, got {value!r}")
        for name in ("per_address_burst", "per_user_burst", "max_entries"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RestShimConfigError(f"login limits: {name} must be a positive integer, got {value!r}")


@dataclass(frozen=True, slots=True)
class RestShimConfig:
    """Where and how the REST shim listens.

    ``port`` 0 asks the OS for a free port (the bound one is ``RestShim.port``).
    ``max_body_bytes`` bounds a request body (beyond it: 413). ``max_connections``,
    ``request_timeout`` and ``max_concurrent_requests`` bound what slow or many callers
    hold (``provider.rest.guard``; the probes stay answered). ``login_limits``: how many
    failed logins, per address and per user (``provider.rest.throttle``). ``explain`` allows
    ``?explain=true`` (the per-stage traces). ``jwt`` None = no authentication.
    ``observability``: spans, logs and trace sampling of the process it runs in.
    With ``serve --workers N`` (``provider.observability.workers``) every worker listens on
    ``host:port`` with ``reuse_port`` (SO_REUSEPORT: REST stays up while any worker lives)
    and also on ``unix_socket``, a private listener where the others read its /metrics;
    ``worker`` is this worker's label; ``sibling_sockets`` ((label, path) of the other
    workers) makes ``/metrics`` gather theirs.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    jwt: JwtConfig | None = None
    max_body_bytes: int = 1 * _MiB
    max_connections: int = 2048
    max_concurrent_requests: int = 1000
    request_timeout: float = 15.0
    login_limits: LoginLimits = field(default_factory=LoginLimits)
    explain: bool = True
    console: bool = True
    observability: ObservabilityConfig = field(default_factory=ObservabilityConfig)
    unix_socket: str = ""
    reuse_port: bool = False
    worker: str = ""
    sibling_sockets: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _check_host(self.host)
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise RestShimConfigError(f"port: expected 0..65535, got {self.port!r}")
        if not isinstance(self.max_body_bytes, int) or not 1024 <= self.max_body_bytes <= 64 * _MiB:
            raise RestShimConfigError(f"max_body_bytes: expected 1 KiB..64 MiB, got {self.max_body_bytes!r}")
        for name in ("max_connections", "max_concurrent_requests"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RestShimConfigError(f"{name}: expected a positive integer, got {value!r}")
        if isinstance(self.request_timeout, bool) or not isinstance(self.request_timeout, (int, float)):
            raise RestShimConfigError(f"request_timeout: expected seconds, got {self.request_timeout!r}")
        if not 0 < self.request_timeout <= 3600:
            raise RestShimConfigError(f"request_timeout: expected 0..3600 seconds, got {self.request_timeout!r}")
        if self.jwt is not None and not isinstance(self.jwt, JwtConfig):
            raise RestShimConfigError(f"jwt: expected a JwtConfig or None, got {type(self.jwt).__name__}")


def _check_host(host: object) -> None:
    if not isinstance(host, str) or not host or host != host.strip() or " " in host:
        raise RestShimConfigError(f"host: expected an IP address or host name, got {host!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(part and all(ch.isalnum() or ch == "-" for ch in part) for part in host.split(".")):
            raise RestShimConfigError(f"host: not an IP address or host name: {host!r}") from None
