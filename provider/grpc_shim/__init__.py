"""gRPC shim: the seed's ``RecommenderInferService`` and our ``dubborecsys.v1``
contract, served by grpc.aio in-process, onto one ``interfaces.recommender.Recommender``.

It translates shapes and nothing else (``translate``); health checking and server
reflection come with it. Typical use, beside the Dubbo provider::

    shim = await start_grpc_shim(recommender, GrpcShimConfig(host="0.0.0.0", port=50051))
    ...
    await shim.stop()

or, inside ``dubbo-recsys serve``, tied to the dubbo:// server's lifecycle::

    config = options.config_from_args(args, grace_seconds=args.drain_timeout)
    if config is not None:
        run_beside(lifecycle, recommender, config)

Needs the ``grpc`` extra (grpcio, grpcio-health-checking, grpcio-reflection). Config,
errors and ``options`` import without grpc; the server names load on first use, so
the CLI modules here (``options``, ``health_check``) stay cheap to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dubbo_recsys.provider.grpc_shim.config import DEFAULT_PORT, GrpcShimConfig
from dubbo_recsys.provider.grpc_shim.errors import (
    GrpcShimConfigError,
    GrpcShimError,
    GrpcShimStartError,
    RequestShapeError,
)

if TYPE_CHECKING:
    from dubbo_recsys.provider.grpc_shim.server import HEALTH_NAMES, GrpcShim, run_beside, start_grpc_shim
    from dubbo_recsys.provider.grpc_shim.servicers import SEED_SERVICE, V1_SERVICE

__all__ = [
    "DEFAULT_PORT",
    "HEALTH_NAMES",
    "SEED_SERVICE",
    "V1_SERVICE",
    "GrpcShim",
    "GrpcShimConfig",
    "GrpcShimConfigError",
    "GrpcShimError",
    "GrpcShimStartError",
    "RequestShapeError",
    "run_beside",
    "start_grpc_shim",
]

# name -> submodule that defines it; imported (with grpc) on first access
_LAZY = {
    "HEALTH_NAMES": "server",
    "GrpcShim": "server",
    "start_grpc_shim": "server",
    "run_beside": "server",
    "SEED_SERVICE": "servicers",
    "V1_SERVICE": "servicers",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
