"""The ``Registry`` protocol the provider talks to, and ``NoRegistry`` for direct connections.

Lifecycle, as the provider drives it (INTEROP.md §3, graceful shutdown)::

    registry = await open_registry(url)        # connect (NoRegistry when url is none)
    await registry.register(service)           # after the socket listens, once per exported service
    ...serve...
    await withdraw(registry, services)         # shutdown step 1: deregister, then wait unregister_wait
    ...READONLY on every connection, drain, close sockets...
    await registry.close()                     # last: shut the naming client down

``register`` never fails because Nacos is down: like Java's FailbackRegistry it keeps the service as
wanted and retries in the background (and re-registers after a Nacos restart or a dropped connection).
It raises only for a record the registry cannot accept. Nothing here knows about requests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from dubbo_recsys.registry.record import ExportedService

__all__ = ["NoRegistry", "Registry", "withdraw"]

log = logging.getLogger(__name__)


@runtime_checkable
class Registry(Protocol):
    #: Seconds the provider should wait after deregistering before it stops taking calls.
    unregister_wait: float

    async def register(self, service: ExportedService) -> None:
        """Publish ``service``; keep it published until ``unregister`` or ``close``."""
        ...

    async def unregister(self, service: ExportedService) -> None:
        """Withdraw ``service``; a service that was never registered is ignored."""
        ...

    async def close(self) -> None:
        """Withdraw what is still registered and release the connection; idempotent."""
        ...


class NoRegistry:
    """Direct connection: nothing is published, consumers are configured with ``dubbo://host:port``."""

    unregister_wait = 0.0

    def __init__(self) -> None:
        self.services: set[ExportedService] = set()
        self.metadata: dict[str, str] = {}

    async def set_metadata(self, live: dict[str, str]) -> None:
        """Nowhere to publish them; kept for whoever asks (as ``NacosRegistry.set_metadata`` would)."""
        self.metadata = dict(live)

    async def register(self, service: ExportedService) -> None:
        self.services.add(service)
        log.info("no registry: %s served directly at dubbo://%s", service.service_key, service.address)

    async def unregister(self, service: ExportedService) -> None:
        self.services.discard(service)

    async def close(self) -> None:
        self.services.clear()

    async def __aenter__(self) -> NoRegistry:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def withdraw(registry: Registry, services: Iterable[ExportedService]) -> None:
    """Shutdown step 1: deregister every service, then give consumers ``unregister_wait`` to notice."""
    services = list(services)
    for service in services:
        try:
            await registry.unregister(service)
        except Exception:  # shutdown goes on whatever the registry says
            log.exception("could not deregister %s", service.service_key)
    if services and registry.unregister_wait > 0:
        log.info(
            "deregistered %d service(s); waiting %.1f s for consumers to see it",
            len(services),
            registry.unregister_wait,
        )
        await asyncio.sleep(registry.unregister_wait)
