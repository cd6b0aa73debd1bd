"""Server and client settings: frozen, validated when built, one slice per layer.

Defaults follow Java Dubbo where it has one (8 MiB payload, 60 s heartbeat,
180 s idle close); bounds on connections and in-flight calls are ours, because a
Python process has no thread pool whose exhaustion would bound them implicitly.

Why the server's bounds have the defaults they have (``provider.connection`` and
``provider.transport`` say what each one does):

- ``max_connections`` 4096: an idle connection costs the process about 3 KiB, so 4096
  are ~12 MiB; at the limit the least recently active idle one is evicted.
- ``max_inflight_per_connection`` 128: a Java consumer shares one connection between
  all its threads (200 by default); past 128 running calls the connection waits (is not
  read) rather than being refused. Sixteen greedy connections are needed to reach
  ``max_inflight`` (2048), where status 100 starts.
- ``frames_per_turn`` 8: frames that arrive are handled at once up to 8 (one while other
  connections wait for a turn); what is left waits in one queue that gets 8 frames per
  turn of the loop in all, round robin: ~0.25 ms of work for ``recommend`` on the
  popularity list, so pipelining connections, however many, add about that to another's wait.
  16 gave the same throughput to a pipelining peer and a 40-50 % higher p50 to the callers
  beside 40 of them (1.0-1.2 ms against 0.7-0.8 ms).
- ``bytes_per_turn`` 256 KiB: a connection that sent this much since it last gave way is
  not read for one turn (one socket read, ~50 us of copying): a peer streaming 8 MiB
  frames adds that, not the 8 MiB the event loop would otherwise read in a row.
- ``bulk_read_rate`` 256 MiB/s: what connections that stream (each past ``bytes_per_turn``
  since it last gave way) are read at, all together: an 8 MiB frame takes ~32 ms to read
  then. Read as fast as they came (~1.5 GB/s on loopback), four peers streaming 8 MiB
  frames kept the loop ~65-90 % busy and took the CPU every other caller needed. 0: no
  bound (a provider whose callers send large frames on purpose).
- ``write_buffer_limit`` 256 KiB of unsent answers per connection (Netty's default high
  water mark is 64 KiB; ours is higher so a 16-thread consumer's burst of answers never
  stalls): past it the connection is not read until the peer took three quarters.
- ``socket_send_buffer`` 256 KiB (SO_SNDBUF; Linux doubles it): without it the kernel grows
  a connection's send buffer to 4 MiB, all of which a peer that never reads makes us fill.
  512 KiB in flight is 40 Gbit/s at 0.1 ms or 400 Mbit/s at 10 ms round trip; 0 leaves
  the buffer to the kernel (for consumers far away).
- ``read_buffer_budget`` 256 MiB of unfinished frames over all connections: 32 frames at
  the 8 MiB payload limit arriving at once.
- ``decode_memory_ratio`` 48 (hessian2's ``MEMORY_RATIO``): a request body may decode into
  1 MiB plus 48 bytes of lists, maps and objects per body byte; a body that needs more is
  answered "Decode request failed" before it is built. Typical bodies need 20-45 per byte;
  only bodies of thousands of one- or two-byte containers (empty lists, objects with one
  small field) need more. 0: no bound (for trusted consumers that send such data).
- ``sliced_decode_from`` 32 KiB: a request body this large or larger is decoded beside the
  event loop, at most ~0.5 ms of it per turn of the loop (``provider.slices``), and its
  connection is not read until it is decoded. A 32 KiB body takes 0.2-1 ms to decode, at
  worst ~30 ms; an 8 MiB one held every other caller for 10-35 ms (random bytes) to a
  second (crafted, valid). Below it the handoff to a thread (~50 us) would cost more than
  it saves. 0: every body is decoded in the loop's own callback.
- ``frame_timeout`` 30 s from a frame's first byte to its last (an 8 MiB frame needs
  280 KB/s); ``drain_quiet`` 0.5 s of silence after READONLY before a connection is
  finished early; ``drain_linger`` 2 s to reach a frame boundary and for the peer to
  close after our FIN.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from dubbo_recsys.provider.errors import ConfigError
from dubbo_recsys.provider.protocol import DEFAULT_PAYLOAD_LIMIT

__all__ = ["ClientConfig", "ServerConfig"]

# hessian2.MEMORY_RATIO, written out: the CLI builds its parser without importing the codec
DECODE_MEMORY_RATIO = 48

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
    process (beyond it: status 100); the other bounds and their defaults: see the module doc."""

    host: str = "0.0.0.0"
    port: int = 20880
    max_connections: int = 4096
    max_inflight: int = 2048
    max_inflight_per_connection: int = 128
    frames_per_turn: int = 8
    bytes_per_turn: int = 256 * 1024
    bulk_read_rate: int = 256 * 1024 * 1024
    write_buffer_limit: int = 256 * 1024
    socket_send_buffer: int = 256 * 1024
    read_buffer_budget: int = 256 * 1024 * 1024
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT
    decode_memory_ratio: int = DECODE_MEMORY_RATIO
    sliced_decode_from: int = 32 * 1024
    idle_timeout: float = 180.0
    frame_timeout: float = 30.0
    drain_timeout: float = 10.0
    drain_quiet: float = 0.5
    drain_linger: float = 2.0
    reuse_port: bool = False

    def __post_init__(self) -> None:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            if not self.host or any(ch.isspace() for ch in self.host):
                raise ConfigError(f"bad host {self.host!r}") from None
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port!r}")
        for name in (
            "max_connections",
            "max_inflight",
            "max_inflight_per_connection",
            "frames_per_turn",
            "bytes_per_turn",
            "write_buffer_limit",
            "read_buffer_budget",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        _check_payload(self.payload_limit)
        ratio = self.decode_memory_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 0:
            raise ConfigError(f"decode_memory_ratio must be an integer >= 0, got {ratio!r}")
        rate = self.bulk_read_rate
        if isinstance(rate, bool) or not isinstance(rate, int) or rate < 0:
            raise ConfigError(f"bulk_read_rate must be an integer >= 0, got {rate!r}")
        sliced = self.sliced_decode_from
        if isinstance(sliced, bool) or not isinstance(sliced, int) or sliced < 0:
            raise ConfigError(f"sliced_decode_from must be an integer >= 0, got {sliced!r}")
        _check_positive("idle_timeout", self.idle_timeout)
        _check_positive("drain_timeout", self.drain_timeout)
        _check_positive("frame_timeout", self.frame_timeout)
        _check_positive("drain_quiet", self.drain_quiet)
        _check_positive("drain_linger", self.drain_linger)
        if isinstance(self.socket_send_buffer, bool) or not isinstance(self.socket_send_buffer, int):
            raise ConfigError(f"socket_send_buffer must be an integer, got {self.socket_send_buffer!r}")
        if self.socket_send_buffer and not 4096 <= self.socket_send_buffer <= 64 * 1024 * 1024:
            raise ConfigError(f"socket_send_buffer must be 0 or 4096..64 MiB, got {self.socket_send_buffer}")
        if self.write_buffer_limit < 4096:
            raise ConfigError(f"write_buffer_limit must be at least 4096 bytes, got {self.write_buffer_limit}")


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
