"""An embeddable provider: serve some services over dubbo:// from inside any asyncio application.

::

    async with Server([OrderService(db)], ServerConfig(port=20880), registry=RegistrationSettings(
        "nacos://nacos:8848", application="orders")) as server:
        await server.serve_forever()        # until server.stop() (from a signal handler, a test, ...)

The host application owns the event loop, logging and signals; ``Server`` installs
none of them (``dubbo-recsys serve`` is such a host: ``provider.serve`` adds the
signals, the log format, uvloop and worker processes around this class). What it
does own, in order:

- ``start()``: enter the services that are async context managers (connect a
  database there), listen, register in the registry (``provider.registration``) and
  start the REST shim (``/metrics``, ``/readyz``, ``/console``) when configured;
- ``stop(drain=seconds)``: deregister, send READONLY to every consumer, wait for
  calls in flight (``drain`` or the config's ``drain_timeout``), close, exit the
  services; safe to call twice;
- ``serve_forever()``: start if needed, then return once ``stop()`` has finished.

Defaults are a Java provider's: bind every interface (``0.0.0.0``) and publish this
machine's address (``provider.hostaddress``), ``ServerConfig(host=...)`` to restrict.
Without a registry the services are reached directly (``dubbo://host:port``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dubbo_recsys.provider.config import ServerConfig
from dubbo_recsys.provider.contract import Export, export_of
from dubbo_recsys.provider.dispatch import Dispatcher
from dubbo_recsys.provider.errors import ServiceSpecError
from dubbo_recsys.provider.registration import RegistrationSettings, advertised_host, register_beside
from dubbo_recsys.provider.service import Service
from dubbo_recsys.provider.transport import Lifecycle
from dubbo_recsys.provider.transport import Server as Transport

__all__ = ["Server"]


class Server:
    """Serves ``services`` (one or a list of ``Service`` objects) over dubbo:// (see the module doc).

    ``rest`` is a ``provider.rest.RestShimConfig`` (the operator's HTTP surface, built
    here without inference routes) or a ready ``RestShim``; ``lifecycle`` carries more
    hooks (``provider.transport.Lifecycle``); ``registry_metadata`` gives registry metadata that
    changes while serving (re-published when it does: the artifact version, ``provider.rollout``).
    Contracts are checked here, before anything
    listens: a service whose hints have no Java meaning fails at construction."""

    def __init__(
        self,
        services: Service | Iterable[Service],
        config: ServerConfig | None = None,
        *,
        registry: RegistrationSettings | None = None,
        rest: Any = None,
        lifecycle: Lifecycle | None = None,
        registry_metadata: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.services: tuple[Service, ...] = (services,) if isinstance(services, Service) else tuple(services)
        if not self.services:
            raise ServiceSpecError("nothing to serve: give the Server at least one service")
        self.exports: tuple[Export, ...] = tuple(export_of(service) for service in self.services)
        self.config = config or ServerConfig()
        self.lifecycle = lifecycle or Lifecycle()
        self.registry = registry if registry is not None and registry.enabled else None
        self._contexts = contextlib.AsyncExitStack()
        self.lifecycle.before_listening.insert(0, self._enter_services)
        self.lifecycle.after_close.append(self._exit_services)
        if self.registry is not None:
            if not self.registry.application:
                self.registry = _with_application(self.registry, self.services[0])
            register_beside(self.lifecycle, self.exports, self.registry, registry_metadata)
        self.rest = self._rest(rest)
        self._transport = Transport(Dispatcher(self.exports), self.config, self.lifecycle)
        self._stopped: asyncio.Event | None = None

    def _rest(self, rest: Any) -> Any:
        if rest is None:
            return None
        from dubbo_recsys.provider.rest import RestShim, RestShimConfig

        if isinstance(rest, RestShimConfig):
            url = self.registry.url if self.registry is not None else "none"
            rest = RestShim(None, rest, self.exports, registry_url=url)
        return rest.attach(self.lifecycle)

    @property
    def dispatcher(self) -> Dispatcher:
        return self._transport.dispatcher

    @property
    def port(self) -> int:
        """The port dubbo:// listens on (the one picked, for ``port=0``)."""
        return int(self._transport.port)

    @property
    def address(self) -> str:
        """``host:port`` consumers dial: the bound host, or this machine's address for ``0.0.0.0``."""
        override = self.registry.host if self.registry is not None else ""
        return f"{advertised_host(self.config.host, override)[0]}:{self.port}"

    async def start(self) -> None:
        """Enter the services, listen, run the start hooks (registry, REST); raises if any fails."""
        self._stopped = asyncio.Event()
        try:
            await self._transport.start()
        except BaseException:
            await self._contexts.aclose()
            raise

    async def stop(self, drain: float | None = None) -> None:
        """Graceful stop: deregister, READONLY, wait ``drain`` seconds at most for calls in flight, close."""
        await self._transport.shutdown(drain_timeout=drain)
        if self._stopped is not None:
            self._stopped.set()

    async def serve_forever(self) -> None:
        """Start unless started, then wait until ``stop()`` has finished."""
        if self._stopped is None:
            await self.start()
        assert self._stopped is not None
        await self._stopped.wait()

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _enter_services(self, _server: Any) -> None:
        for service in self.services:
            if hasattr(service, "__aenter__") and hasattr(service, "__aexit__"):
                await self._contexts.enter_async_context(service)

    async def _exit_services(self, _server: Any) -> None:
        await self._contexts.aclose()


def _with_application(settings: RegistrationSettings, service: Service) -> RegistrationSettings:
    """Java requires an application name; without one, the top package of the service's module."""
    import dataclasses

    top = type(service).__module__.split(".", 1)[0].replace("_", "-") or "python-provider"
    return dataclasses.replace(settings, application=top)
