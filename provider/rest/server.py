"""Run the REST shim in-process: uvicorn serving the FastAPI app on the caller's event loop.

``RestShim`` owns the HTTP server's life and the observability objects of the
process it runs in: one ``ProviderMetrics`` (what ``/metrics`` and the console
show) over one ``ProviderState``. ``start`` binds the socket itself (a taken port
raises ``RestShimStartError`` instead of uvicorn's ``sys.exit``) and runs uvicorn's
startup and main loop without its signal handling, which belongs to ``serve``.

``attach(lifecycle)`` ties the shim to a dubbo:// ``provider.transport.Server``:

- ``after_listening``: count dubbo:// calls (the metrics join ``Dispatcher.observers``),
  start HTTP; after every other hook (the registry's included): SERVING, and
  REGISTERED when a registry is used;
- ``before_readonly``, first of all: DRAINING, so ``/readyz`` answers 503 at once
  while dubbo:// drains; after every other hook: the services are WITHDRAWN;
- ``after_close``: stop HTTP, STOPPED.

While it runs, a task samples the console's history (``ProviderMetrics.sample``) every
``observability.history_step`` seconds.

``observed(protocol)`` wraps the recommender for another adapter (the gRPC shim),
so its calls are counted under that protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

from dubbo_recsys.interfaces.recommend import RecommendRequest, RecommendResponse
from dubbo_recsys.interfaces.recommender import Recommender
from dubbo_recsys.provider.observability.state import Phase, ProviderState, RegistryState, ServiceInfo
from dubbo_recsys.provider.rest.config import RestShimConfig
from dubbo_recsys.provider.rest.errors import RestShimError, RestShimStartError

__all__ = ["RestShim", "run_beside"]

log = logging.getLogger(__name__)


class RestShim:
    """The HTTP face of one ``Recommender``, with the process's metrics and state."""

    def __init__(
        self,
        recommender: Recommender | None,
        config: RestShimConfig | None = None,
        exports: Sequence[Any] = (),
        *,
        registry_url: str = "none",
        state: ProviderState | None = None,
        tracer: Any = None,
    ) -> None:
        from dubbo_recsys.provider.observability.metrics import ProviderMetrics
        from dubbo_recsys.provider.observability.sources import (
            admission_of,
            breakers_of,
            realtime_of,
            rollout_of,
            versions_of,
        )
        from dubbo_recsys.provider.rest.app import build_app

        if recommender is None:  # a provider of other services (serve --app): operations routes only
            recommender = NoRecommender()
        self.config = config or RestShimConfig()
        self.state = state or ProviderState.for_exports(
            exports,
            registry_url,
            breakers=breakers_of(recommender),
            versions=versions_of(recommender),
            admission=admission_of(recommender),
            realtime=realtime_of(recommender),
            rollout=rollout_of(recommender),
        )
        self.metrics = ProviderMetrics(self.state, history_step=self.config.observability.history_step)
        self._recommender = recommender
        self._tracer = tracer
        self.app = build_app(recommender, self.config, self.metrics, self.state, tracer)
        self._server: Any = None
        self._socket: socket.socket | None = None  # the TCP listener
        self._sockets: list[socket.socket] = []
        self._main: asyncio.Task[None] | None = None
        self.guard: Any = None
        self._sampler: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RestShimError("the REST shim is not started")
        return int(self._socket.getsockname()[1])

    def observed(self, protocol: str, *, count_calls: bool = True) -> Recommender:
        """The recommender, counted and traced under ``protocol`` (e.g. ``grpc``).

        ``count_calls=False`` for dubbo://, whose calls the dispatcher observer counts
        already: the wrapper then adds only spans, stage timings and pipeline answers.
        """
        from dubbo_recsys.provider.observability.recorded import ObservedRecommender

        return ObservedRecommender(
            self._recommender,
            self.metrics,
            protocol,
            count_calls=count_calls,
            trace_every=self.config.observability.trace_every,
            tracer=self._tracer,
        )

    async def start(self) -> int:
        """Bind, start serving HTTP; return the bound port."""
        import uvicorn

        if self._server is not None:
            raise RestShimError("the REST shim is already started")
        config = self.config
        sock = self._bind_tcp(config)
        sockets = [sock]
        if config.unix_socket:
            try:
                sockets.append(self._bind_unix(config.unix_socket))
            except BaseException:
                sock.close()
                raise
        for each in sockets:
            each.setblocking(False)
        from dubbo_recsys.provider.rest.guard import ConnectionGuard

        self.guard = ConnectionGuard(config.max_connections, config.request_timeout)
        server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                http=self.guard.protocol(),  # h11 bounded in time and connections (provider.rest.guard)
                lifespan="off",
                log_level="warning",
                access_log=False,
                server_header=False,
                timeout_graceful_shutdown=5,
                limit_concurrency=None,  # it counts connections, so slow ones made /healthz answer 503
            )
        )
        server.config.load()
        server.lifespan = server.config.lifespan_class(server.config)
        try:
            await server.startup(sockets=sockets)
        except BaseException as error:
            for each in sockets:
                each.close()
            raise RestShimStartError(f"cannot start the REST shim: {error!r}") from error
        self._server, self._socket, self._sockets = server, sock, sockets
        self._main = asyncio.create_task(server.main_loop(), name="rest-shim")
        self._sampler = asyncio.create_task(self._sample_history(), name="console-history")
        log.info("REST shim serving on %s", config.unix_socket or f"{config.host}:{self.port}")
        return self.port

    @staticmethod
    def _bind_tcp(config: RestShimConfig) -> socket.socket:
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        try:
            sock = socket.create_server(
                (config.host, config.port), family=family, backlog=256, reuse_port=config.reuse_port
            )
        except OSError as error:
            raise RestShimStartError(f"cannot bind REST shim to {config.host}:{config.port}: {error}") from error
        # accepted sockets inherit it; without it each answer after the first waits ~40 ms
        # (Nagle against delayed ACK: uvicorn writes head and body separately)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    @staticmethod
    def _bind_unix(path: str) -> socket.socket:
        """A worker's private listener (``serve --workers N``): the other workers read its /metrics here.
        A replacement worker finds its predecessor's socket file in place, so a stale one is removed."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            sock.listen(64)
        except OSError as error:
            sock.close()
            raise RestShimStartError(f"cannot bind REST shim to {path}: {error}") from error
        return sock

    async def stop(self) -> None:
        """Stop accepting, let open requests finish (5 s at most), close."""
        server, sockets = self._server, self._sockets
        if server is None or not sockets:
            return
        server.should_exit = True
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        if self._main is not None:
            await self._main
        await server.shutdown(sockets=sockets)
        for sock in sockets:
            sock.close()
        if self.config.unix_socket:
            with contextlib.suppress(OSError):
                os.unlink(self.config.unix_socket)
        self._server = self._main = self._sampler = None
        log.info("REST shim stopped")

    async def _sample_history(self) -> None:
        """A sample of the console's history just after every multiple of its step on the wall clock,
        so that the samples of ``--workers N`` processes fall in the same slots."""
        step = self.metrics.history.step
        while True:
            await asyncio.sleep(step - time.time() % step + 0.005)
            self.metrics.sample()

    def attach(self, lifecycle: Any) -> RestShim:
        """Start, drain and stop with a dubbo:// server's ``Lifecycle`` (see the module doc)."""
        state = self.state

        async def start(server: Any) -> None:
            observers = getattr(server.dispatcher, "observers", None)
            if observers is not None and self.metrics not in observers:
                observers.append(self.metrics)
            state.dubbo_address = f"{server.config.host}:{server.port}"
            if not state.services:
                state.services = tuple(ServiceInfo.of_export(e) for e in server.dispatcher.exports)
            await self.start()
            # hooks added now go after every hook attached so far, whichever order the
            # layers were wired in: SERVING/REGISTERED after the registry registered,
            # WITHDRAWN after it deregistered (the server iterates the live lists)
            lifecycle.after_listening.append(serving)
            lifecycle.before_readonly.append(withdrawn)

        async def serving(_server: Any) -> None:
            if state.registry_state is RegistryState.PENDING:
                state.registry_state = RegistryState.REGISTERED
            state.phase = Phase.SERVING

        async def draining(_server: Any) -> None:
            state.phase = Phase.DRAINING

        async def withdrawn(_server: Any) -> None:
            if state.registry_state is RegistryState.REGISTERED:
                state.registry_state = RegistryState.WITHDRAWN

        async def stop(_server: Any) -> None:
            state.phase = Phase.STOPPED
            await self.stop()

        lifecycle.after_listening.append(start)
        lifecycle.before_readonly.insert(0, draining)
        lifecycle.after_close.append(stop)
        return self

    async def __aenter__(self) -> RestShim:
        await self.start()
        self.state.phase = Phase.SERVING
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.state.phase = Phase.STOPPED
        await self.stop()


class NoRecommender:
    """The recommender of a provider that serves none: inference routes answer 404."""

    async def recommend(self, request: RecommendRequest) -> RecommendResponse:
        return RecommendResponse(code=404, message="this provider serves no recommender", pipeline="")


def run_beside(
    lifecycle: Any,
    recommender: Recommender,
    config: RestShimConfig,
    exports: Sequence[Any] = (),
    registry_url: str = "none",
) -> RestShim:
    """A ``RestShim`` attached to ``lifecycle``; configures tracing and JSON logs as ``config`` says."""
    settings = config.observability
    if settings.json_logs:
        from dubbo_recsys.provider.observability.logs import configure_json_logs

        configure_json_logs()
    if settings.otlp_endpoint:
        from dubbo_recsys.provider.observability.tracing import configure_tracing

        configure_tracing(settings.otlp_endpoint)
    return RestShim(recommender, config, exports, registry_url=registry_url).attach(lifecycle)
