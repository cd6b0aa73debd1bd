"""Run the gRPC shim in-process: one grpc.aio server with four services.

``GrpcShim`` owns the server's life: ``start`` binds and serves the seed's
``RecommenderInferService``, our ``dubborecsys.v1.RecommendService``, standard
health checking (``grpc.health.v1.Health``) and, unless turned off, server
reflection. It runs on the caller's event loop, so ``dubbo-recsys serve`` can
start it beside the Dubbo transport and share one recommender.

Health has three names set: ``""`` (the whole server) and each recommend service.
``stop`` first turns them all NOT_SERVING, so load balancers and Kubernetes stop
sending traffic, then lets in-flight calls finish within ``grace_seconds``.
``set_serving(False)`` does the first half alone (for a preStop hook that drains
before the process is told to exit).

``run_beside`` ties a shim to a dubbo:// ``provider.transport.Server`` through its
``Lifecycle`` hooks, so ``dubbo-recsys serve`` needs no gRPC code of its own.

This module knows nothing about shapes; ``servicers`` and ``translate`` do.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from dubbo_recsys.interfaces.recommender import Recommender
from dubbo_recsys.provider.grpc_shim.config import GrpcShimConfig
from dubbo_recsys.provider.grpc_shim.errors import GrpcShimError, GrpcShimStartError
from dubbo_recsys.provider.grpc_shim.servicers import SEED_SERVICE, V1_SERVICE, seed_handler, v1_handler

log = logging.getLogger(__name__)

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# The names health checking answers for; "" means the server as a whole.
HEALTH_NAMES = ("", SEED_SERVICE, V1_SERVICE)


class GrpcShim:
    """The gRPC face of one ``Recommender``.

    Use ``async with GrpcShim(recommender, config) as shim:`` or call ``start`` and
    ``stop`` yourself; ``port`` is the bound port (useful with ``port=0``).
    """

    def __init__(self, recommender: Recommender, config: GrpcShimConfig | None = None) -> None:
        self._recommender = recommender
        self.config = config or GrpcShimConfig()
        self._server: grpc.aio.Server | None = None
        self._health: HealthServicer | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise GrpcShimError("the gRPC shim is not started")
        return self._port

    @property
    def services(self) -> tuple[str, ...]:
        """Every service name this shim serves, as reflection lists them."""
        names = [SEED_SERVICE, V1_SERVICE, HEALTH_SERVICE]
        if self.config.reflection:
            names.append(reflection.SERVICE_NAME)
        return tuple(names)

    async def start(self) -> int:
        """Bind, serve, mark every service SERVING; return the bound port."""
        if self._server is not None:
            raise GrpcShimError("the gRPC shim is already started")
        config = self.config
        server = grpc.aio.server(
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
            options=[
                ("grpc.max_receive_message_length", config.max_message_bytes),
                ("grpc.max_send_message_length", config.max_message_bytes),
                ("grpc.max_concurrent_streams", config.max_concurrent_streams),
                ("grpc.max_metadata_size", config.max_metadata_bytes),  # soft and hard bound the same:
                ("grpc.absolute_max_metadata_size", config.max_metadata_bytes),  # refused, never by chance
                ("grpc.max_connection_idle_ms", int(config.idle_seconds * 1000)),
                ("grpc.so_reuseport", 1 if config.reuse_port else 0),
            ],
        )
        server.add_generic_rpc_handlers((seed_handler(self._recommender), v1_handler(self._recommender)))
        health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        if config.reflection:
            reflection.enable_server_reflection(self.services, server)
        try:
            port = server.add_insecure_port(config.address)
        except RuntimeError as error:
            raise GrpcShimStartError(f"cannot bind gRPC shim to {config.address}: {error}") from error
        if port == 0:
            raise GrpcShimStartError(f"cannot bind gRPC shim to {config.address}")
        await server.start()
        self._server, self._health, self._port = server, health, port
        await self.set_serving(True)
        log.info("gRPC shim serving %s on %s:%d", ", ".join(self.services), config.host, port)
        return port

    async def set_serving(self, serving: bool) -> None:
        """Report every service SERVING or NOT_SERVING through grpc.health.v1."""
        if self._health is None:
            raise GrpcShimError("the gRPC shim is not started")
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in HEALTH_NAMES:
            await self._health.set(name, status)

    async def stop(self, grace: float | None = None) -> None:
        """Go NOT_SERVING, then stop, letting in-flight calls finish within ``grace``."""
        server, health = self._server, self._health
        if server is None or health is None:
            return
        await health.enter_graceful_shutdown()
        await server.stop(self.config.grace_seconds if grace is None else grace)
        self._server = self._health = None
        log.info("gRPC shim on port %s stopped", self._port)

    async def wait_for_termination(self) -> None:
        """Return when the server has stopped (by ``stop`` or otherwise)."""
        if self._server is not None:
            await self._server.wait_for_termination()

    async def __aenter__(self) -> GrpcShim:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def start_grpc_shim(recommender: Recommender, config: GrpcShimConfig | None = None) -> GrpcShim:
    """Start a gRPC shim on the running loop and return it (call ``stop`` later)."""
    shim = GrpcShim(recommender, config)
    await shim.start()
    return shim


def run_beside(lifecycle: Any, recommender: Recommender, config: GrpcShimConfig) -> GrpcShim:
    """Run a shim beside a dubbo:// server: start when it listens, stop when it drains.

    ``lifecycle`` is the server's ``provider.transport.Lifecycle`` (anything with
    ``after_listening`` and ``before_readonly`` hook lists). The stop hook goes
    NOT_SERVING and waits for in-flight gRPC calls (``grace_seconds`` at most;
    usually milliseconds) before the server sends READONLY to Dubbo consumers.
    A shim that cannot bind fails the server's start, as a taken dubbo:// port does.
    """
    shim = GrpcShim(recommender, config)

    async def start(_server: object) -> None:
        await shim.start()

    async def stop(_server: object) -> None:
        await shim.stop()

    lifecycle.after_listening.append(start)
    lifecycle.before_readonly.append(stop)
    return shim
