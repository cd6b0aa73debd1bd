"""The gRPC shim's slice of configuration: a frozen dataclass validated once.

It holds only what the shim itself decides (where to listen, how much to accept,
how long to drain); which recommender answers is passed in beside it. Values are
checked when the object is built, so a bad flag fails at start-up with the field's
name, never on the first request.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from dubbo_recsys.provider.grpc_shim.errors import GrpcShimConfigError

DEFAULT_PORT = 50051
_MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class GrpcShimConfig:
    """Where and how the gRPC shim listens.

    ``port`` 0 asks the OS for a free port (the bound one is ``GrpcShim.port``).
    ``host`` defaults to loopback; containers pass ``0.0.0.0`` explicitly.
    ``max_concurrent_rpcs`` bounds in-flight calls; callers beyond it get
    RESOURCE_EXHAUSTED instead of queueing without limit.
    ``max_concurrent_streams`` bounds the calls one connection has open at once (the
    HTTP/2 setting), so one connection opening streams without end cannot take all of
    ``max_concurrent_rpcs``: the gRPC form of the dubbo:// per-connection bound. grpc-go and
    grpc-java clients queue past it; grpc's C-core clients (Python, C++) get the excess
    refused (REFUSED_STREAM, seen as UNAVAILABLE, safe to retry), hence 256, above what
    one well-behaved channel keeps open. ``max_metadata_bytes`` bounds a call's headers (grpc's default, stated);
    ``idle_seconds`` closes a connection with no call for that long (180 s as on dubbo://).
    Calls past their deadline are cancelled by grpc, recommender included.
    ``grace_seconds`` is how long ``stop`` lets in-flight calls finish.
    ``reflection`` serves grpc.reflection so grpcurl and friends can list services.
    ``reuse_port`` lets several worker processes bind the same port (SO_REUSEPORT,
    as ``serve --workers N`` does for dubbo://); off, a taken port fails ``start``
    instead of silently sharing it with a stranger.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    max_concurrent_rpcs: int = 1000
    max_message_bytes: int = 4 * _MiB
    max_concurrent_streams: int = 256
    max_metadata_bytes: int = 16 * 1024
    idle_seconds: float = 180.0
    grace_seconds: float = 5.0
    reflection: bool = True
    reuse_port: bool = False

    def __post_init__(self) -> None:
        _check_host(self.host)
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise GrpcShimConfigError(f"port: expected 0..65535, got {self.port!r}")
        if not isinstance(self.max_concurrent_rpcs, int) or self.max_concurrent_rpcs < 1:
            raise GrpcShimConfigError(f"max_concurrent_rpcs: expected a positive int, got {self.max_concurrent_rpcs!r}")
        if not isinstance(self.max_message_bytes, int) or not 1024 <= self.max_message_bytes <= 256 * _MiB:
            raise GrpcShimConfigError(f"max_message_bytes: expected 1 KiB..256 MiB, got {self.max_message_bytes!r}")
        if not isinstance(self.max_concurrent_streams, int) or not 1 <= self.max_concurrent_streams <= 100_000:
            raise GrpcShimConfigError(
                f"max_concurrent_streams: expected 1..100000, got {self.max_concurrent_streams!r}"
            )
        if not isinstance(self.max_metadata_bytes, int) or not 1024 <= self.max_metadata_bytes <= _MiB:
            raise GrpcShimConfigError(f"max_metadata_bytes: expected 1 KiB..1 MiB, got {self.max_metadata_bytes!r}")
        if not isinstance(self.idle_seconds, (int, float)) or not 1 <= self.idle_seconds <= 86400:
            raise GrpcShimConfigError(f"idle_seconds: expected 1..86400, got {self.idle_seconds!r}")
        if not isinstance(self.grace_seconds, (int, float)) or not 0 <= self.grace_seconds <= 300:
            raise GrpcShimConfigError(f"grace_seconds: expected 0..300, got {self.grace_seconds!r}")
        if not isinstance(self.reflection, bool):
            raise GrpcShimConfigError(f"reflection: expected a bool, got {self.reflection!r}")
        if not isinstance(self.reuse_port, bool):
            raise GrpcShimConfigError(f"reuse_port: expected a bool, got {self.reuse_port!r}")

    @property
    def address(self) -> str:
        """The address in the form grpc's ``add_insecure_port`` wants."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _check_host(host: object) -> None:
    """Accept an IP literal or a plain host name; reject empty or spaced strings."""
    if not isinstance(host, str) or not host or host != host.strip() or " " in host:
        raise GrpcShimConfigError(f"host: expected an IP address or host name, got {host!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(part and (part.isalnum() or "-" in part) for part in host.split(".")):
            raise GrpcShimConfigError(f"host: not an IP address or host name: {host!r}") from None
