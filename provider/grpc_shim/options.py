"""Command-line flags for running the gRPC shim beside another server.

``dubbo-recsys serve`` calls ``add_arguments(parser)`` to gain the ``--grpc-*``
flags and ``config_from_args(args)`` to turn them into a ``GrpcShimConfig`` (or
``None`` when ``--grpc-port`` is absent: no gRPC). Cheap to import: nothing here
imports grpc, so ``dubbo-recsys --help`` stays instant.
"""

from __future__ import annotations

import argparse

from dubbo_recsys.provider.grpc_shim.config import DEFAULT_PORT, GrpcShimConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("gRPC shim")
    group.add_argument(
        "--grpc-port",
        type=int,
        default=None,
        metavar="PORT",
        help=f"also serve gRPC (seed RecommenderInferService, dubborecsys.v1, health) on PORT "
        f"(usually {DEFAULT_PORT}; 0 = any free port; default: no gRPC)",
    )
    group.add_argument("--grpc-host", default=None, metavar="HOST", help="address for gRPC (default: --host)")
    group.add_argument(
        "--grpc-max-concurrent",
        type=int,
        default=1000,
        metavar="N",
        help="gRPC calls in flight at once; beyond it RESOURCE_EXHAUSTED (default 1000)",
    )
    group.add_argument(
        "--grpc-max-streams",
        type=int,
        default=256,
        metavar="N",
        help="gRPC calls one connection may have open at once (HTTP/2 max_concurrent_streams; default 256)",
    )
    group.add_argument("--no-grpc-reflection", action="store_true", help="do not serve gRPC server reflection")


def config_from_args(args: argparse.Namespace, grace_seconds: float = 5.0) -> GrpcShimConfig | None:
    """The shim's config from parsed flags; raises ``GrpcShimConfigError`` on bad values.

    ``--host`` and ``--workers`` are serve's own flags: gRPC listens where dubbo://
    does unless ``--grpc-host`` says otherwise, and shares its port across workers.
    """
    if args.grpc_port is None:
        return None
    return GrpcShimConfig(
        host=args.grpc_host or getattr(args, "host", None) or "127.0.0.1",
        port=args.grpc_port,
        max_concurrent_rpcs=args.grpc_max_concurrent,
        max_concurrent_streams=args.grpc_max_streams,
        grace_seconds=grace_seconds,
        reflection=not args.no_grpc_reflection,
        reuse_port=getattr(args, "workers", 1) > 1,
    )
