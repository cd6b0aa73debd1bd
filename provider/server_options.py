"""Command-line flags of the dubbo:// server itself: where it listens, what a caller may cost it, how it drains.

``dubbo-recsys serve`` calls ``add_arguments(parser)`` and ``config_from_args(args)``;
like every flag, each can also be set in the ``[serve]`` table of the config file or as
``DUBBO_RECSYS_SERVE_<FLAG>`` (``provider.settings``). The defaults and why they were
chosen are in ``provider.config``; what each bound does, in ``provider.connection`` and
``provider.transport``. Cheap to import.
"""

from __future__ import annotations

import argparse

from dubbo_recsys.provider.config import ServerConfig

__all__ = ["add_arguments", "config_from_args"]

_DEFAULTS = ServerConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=_DEFAULTS.host,
        help="address to bind (default 0.0.0.0, every interface, as a Java provider; the registry then "
        "gets this machine's address)",
    )
    parser.add_argument("--port", type=int, default=20880, help="port (default 20880; 0 = any free port)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing the port (default 1)")
    group = parser.add_argument_group("what one caller may cost (per worker)")
    group.add_argument(
        "--max-connections",
        type=int,
        default=_DEFAULTS.max_connections,
        help="open connections; at the limit the least recently active idle one is closed "
        f"(default {_DEFAULTS.max_connections})",
    )
    group.add_argument(
        "--max-inflight",
        type=int,
        default=_DEFAULTS.max_inflight,
        help=f"calls handled at once; beyond it status 100 (default {_DEFAULTS.max_inflight})",
    )
    group.add_argument(
        "--max-inflight-per-connection",
        type=int,
        default=_DEFAULTS.max_inflight_per_connection,
        help="calls of one connection handled at once; beyond it the connection is not read until one "
        f"finishes (default {_DEFAULTS.max_inflight_per_connection})",
    )
    group.add_argument(
        "--frames-per-turn",
        type=int,
        default=_DEFAULTS.frames_per_turn,
        help="frames of one connection handled before the other connections get their turn "
        f"(default {_DEFAULTS.frames_per_turn})",
    )
    group.add_argument(
        "--bytes-per-turn",
        type=int,
        default=_DEFAULTS.bytes_per_turn,
        help="bytes read from one connection before the other connections get their turn "
        f"(default {_DEFAULTS.bytes_per_turn})",
    )
    group.add_argument(
        "--bulk-read-rate",
        type=int,
        default=_DEFAULTS.bulk_read_rate,
        help="bytes per second read, all together, from connections that stream (each past --bytes-per-turn); "
        f"0: no bound (default {_DEFAULTS.bulk_read_rate})",
    )
    group.add_argument(
        "--decode-memory-ratio",
        type=int,
        default=_DEFAULTS.decode_memory_ratio,
        help="bytes of lists, maps and objects a request body may decode into per body byte, beyond "
        f"1 MiB; 0: no bound (default {_DEFAULTS.decode_memory_ratio})",
    )
    group.add_argument(
        "--sliced-decode-from",
        type=int,
        default=_DEFAULTS.sliced_decode_from,
        help="request bodies of this many bytes or more are decoded beside the event loop, in slices of "
        f"~0.5 ms per turn of the loop; 0: never (default {_DEFAULTS.sliced_decode_from})",
    )
    group.add_argument(
        "--write-buffer-limit",
        type=int,
        default=_DEFAULTS.write_buffer_limit,
        help="bytes of answers a peer has not taken before its connection is not read any more "
        f"(default {_DEFAULTS.write_buffer_limit})",
    )
    group.add_argument(
        "--socket-send-buffer",
        type=int,
        default=_DEFAULTS.socket_send_buffer,
        help=f"SO_SNDBUF of each connection, 0 = the kernel's autotuning (default {_DEFAULTS.socket_send_buffer})",
    )
    group.add_argument(
        "--read-buffer-budget",
        type=int,
        default=_DEFAULTS.read_buffer_budget,
        help="bytes of unfinished frames over all connections; past it the biggest holder is closed "
        f"(default {_DEFAULTS.read_buffer_budget})",
    )
    group.add_argument(
        "--payload-limit",
        type=int,
        default=_DEFAULTS.payload_limit,
        help="largest frame body in bytes, both ways (default 8 MiB)",
    )
    group.add_argument(
        "--idle-timeout",
        type=float,
        default=_DEFAULTS.idle_timeout,
        help=f"close connections with nothing read for this long, seconds (default {_DEFAULTS.idle_timeout:g})",
    )
    group.add_argument(
        "--frame-timeout",
        type=float,
        default=_DEFAULTS.frame_timeout,
        help=f"close a connection whose frame takes longer than this to arrive, seconds "
        f"(default {_DEFAULTS.frame_timeout:g})",
    )
    group = parser.add_argument_group("shutdown")
    group.add_argument(
        "--drain-timeout",
        type=float,
        default=_DEFAULTS.drain_timeout,
        help="on SIGTERM, keep answering for at most this long; then calls still running and requests "
        f"still arriving are answered status 80, seconds (default {_DEFAULTS.drain_timeout:g})",
    )
    group.add_argument(
        "--drain-quiet",
        type=float,
        default=_DEFAULTS.drain_quiet,
        help="on SIGTERM, close a connection once it was quiet between requests this long, seconds "
        f"(default {_DEFAULTS.drain_quiet:g})",
    )


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The server's config; raises ``ConfigError`` naming the bad value."""
    return ServerConfig(
        host=args.host,
        port=args.port,
        max_connections=args.max_connections,
        max_inflight=args.max_inflight,
        max_inflight_per_connection=args.max_inflight_per_connection,
        frames_per_turn=args.frames_per_turn,
        bytes_per_turn=args.bytes_per_turn,
        bulk_read_rate=args.bulk_read_rate,
        write_buffer_limit=args.write_buffer_limit,
        socket_send_buffer=args.socket_send_buffer,
        read_buffer_budget=args.read_buffer_budget,
        payload_limit=args.payload_limit,
        decode_memory_ratio=args.decode_memory_ratio,
        sliced_decode_from=args.sliced_decode_from,
        idle_timeout=args.idle_timeout,
        frame_timeout=args.frame_timeout,
        drain_timeout=args.drain_timeout,
        drain_quiet=args.drain_quiet,
        reuse_port=args.workers > 1,
    )
