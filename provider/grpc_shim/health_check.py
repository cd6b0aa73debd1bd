"""``dubbo-recsys grpc-health``: ask a gRPC server's grpc.health.v1 whether it serves.

For container health checks (Docker's HEALTHCHECK has no gRPC probe of its own):
exit 0 when the status is SERVING, 1 otherwise (NOT_SERVING while draining, no
answer, unknown service), 2 for bad flags. One line on stdout says what it saw.
Also runnable as ``python -m dubbo_recsys.provider.grpc_shim.health_check``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--addr", default="127.0.0.1:50051", help="HOST:PORT of the gRPC server (default 127.0.0.1:50051)"
    )
    parser.add_argument("--service", default="", help="service name to ask about (default '': the whole server)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer (default 3)")


def run(args: argparse.Namespace) -> int:
    if not 0 < args.timeout <= 60:
        print(f"grpc-health: --timeout must be in (0, 60], got {args.timeout}", file=sys.stderr)
        return 2
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(args.addr) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout
            )
        except grpc.RpcError as error:
            print(f"{args.addr} {args.service!r}: {error.code().name} {error.details()}")
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{args.addr} {args.service!r}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="grpc-health", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
