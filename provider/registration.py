"""Publishing exported services in a registry, tied to the server's lifecycle.

``register_beside(lifecycle, exports, settings)`` adds three hooks to a
``provider.transport.Lifecycle``, in the order INTEROP.md section 3 prescribes for a
graceful shutdown, and Java's own providers follow:

- ``after_listening``: open the registry and register one ``registry.ExportedService``
  per export (interface, version, group, ``methods=``), at the port actually bound;
- ``before_readonly``: deregister every service and wait the registry's
  ``unregister_wait`` so consumers see the change before READONLY goes out;
- ``after_close``: close the registry (its naming client) once the sockets are shut.

``live_metadata`` (optional) is read every ``refresh`` seconds while registered; when
what it returns changes, the registry's records get the new keys (``set_metadata``):
how a provider says which artifact version it serves (``provider.rollout.state``).

Registration is the registry package's business (records, Nacos spelling, retries
while Nacos is down); this module only maps specs to records and picks the address
consumers should dial. Nothing here imports the registry until a hook runs, so a
provider without ``--registry`` never loads the Nacos SDK.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dubbo_recsys.provider.contract import Export
from dubbo_recsys.provider.errors import ConfigError
from dubbo_recsys.provider.hostaddress import local_address

__all__ = ["RegistrationSettings", "advertised_host", "register_beside"]

log = logging.getLogger(__name__)

#: Java Dubbo's variable for the address to publish when the provider binds a wildcard.
ADVERTISE_ENV = "DUBBO_IP_TO_REGISTRY"


@dataclass(frozen=True, slots=True)
class RegistrationSettings:
    """``url``: ``nacos://host:port?...`` (see ``registry.parse_registry_url``), or ``none``.

    ``host``: the address consumers dial; empty = the bound host, or for a wildcard
    bind (the default, as Java's) ``$DUBBO_IP_TO_REGISTRY`` or this machine's address.
    ``application``: the application name the records carry (Java's ``application``).
    ``timeout_ms``/``retries`` are published for consumers to inherit.
    ``startup_wait``: seconds the start waits for registration before serving anyway.
    """

    url: str
    application: str = ""  # empty: provider.server.Server names it after the services' package
    host: str = ""
    timeout_ms: int = 3000
    retries: int = 2
    startup_wait: float = 3.0

    def __post_init__(self) -> None:
        if not self.url:
            raise ConfigError("registry url must not be empty (use 'none' for direct connections)")
        if any(ch.isspace() for ch in self.application):
            raise ConfigError(f"bad application name {self.application!r}")
        if self.startup_wait < 0:
            raise ConfigError(f"startup_wait must be >= 0, got {self.startup_wait}")
        if self.timeout_ms <= 0 or self.retries < 0:
            raise ConfigError(f"timeout_ms must be positive and retries >= 0, got {self.timeout_ms}, {self.retries}")

    @property
    def enabled(self) -> bool:
        return self.url.strip().lower() not in ("none", "")


def advertised_host(bound_host: str, override: str = "") -> tuple[str, bool]:
    """``(host consumers dial, anyhost)``: a wildcard bind is published as this machine's
    address, chosen as Java Dubbo does (``$DUBBO_IP_TO_REGISTRY``, else ``provider.hostaddress``)."""
    try:
        wildcard = ipaddress.ip_address(bound_host).is_unspecified
    except ValueError:
        wildcard = False
    if override:
        return override, wildcard
    if not wildcard:
        return bound_host, False
    env = os.environ.get(ADVERTISE_ENV, "").strip()
    if env:
        return env, True
    return local_address(), True


def register_beside(
    lifecycle: Any,
    exports: Sequence[Export],
    settings: RegistrationSettings,
    live_metadata: Callable[[], Mapping[str, str]] | None = None,
    refresh: float = 0.25,  # seconds between looks at live_metadata (a dict compare; Nacos is called on change)
) -> None:
    """Attach the register / withdraw / close hooks for ``exports`` to ``lifecycle``.

    Registration gets ``settings.startup_wait`` seconds before the server announces
    itself; a registry that is down or slow then goes on registering in the
    background (the registry retries until Nacos answers) instead of holding the
    provider's start, as Java's FailbackRegistry does.
    """
    state: dict[str, Any] = {"registry": None, "services": [], "task": None, "live": None}

    async def keep_live_metadata(registry: Any, published: dict[str, str]) -> None:
        while live_metadata is not None:
            await asyncio.sleep(refresh)
            try:
                wanted = dict(live_metadata())
                if wanted != published:
                    await registry.set_metadata(wanted)
                    published = wanted
            except Exception:
                log.exception("cannot update the live registry metadata; trying again")

    async def register_all(server: Any) -> None:
        from dubbo_recsys.provider.version import METADATA_KEY, package_version
        from dubbo_recsys.registry import ExportedService, open_registry

        registry = await open_registry(settings.url)
        state["registry"] = registry
        if live_metadata is not None and hasattr(registry, "set_metadata"):
            first = dict(live_metadata())
            await registry.set_metadata(first)  # in the first records already
            state["live"] = asyncio.ensure_future(keep_live_metadata(registry, first))
        host, anyhost = advertised_host(server.config.host, settings.host)
        for export in exports:
            spec = export.contract
            service = ExportedService(
                interface=spec.interface,
                methods=spec.method_names,
                host=host,
                port=server.port,
                application=settings.application,
                version=spec.version,
                group=spec.group,
                timeout_ms=settings.timeout_ms,
                retries=settings.retries,
                anyhost=anyhost,
                params={METADATA_KEY: package_version()},  # which release of ours this provider runs
            )
            state["services"].append(service)  # before the call: withdraw must see it if it retries
            await registry.register(service)
            accepted = getattr(registry, "registered", None)  # NacosRegistry: name -> accepted by Nacos yet
            if callable(accepted) and not all(accepted().values()):
                log.warning(
                    "%s at %s:%d is not registered yet; the registry keeps trying", spec.interface, host, server.port
                )
            else:
                log.info("registered %s at %s:%d", spec.interface, host, server.port)

    async def register(server: Any) -> None:
        from dubbo_recsys.registry import redact_registry_url

        task = asyncio.ensure_future(register_all(server))
        task.add_done_callback(_log_failure)
        state["task"] = task
        try:
            await asyncio.wait_for(asyncio.shield(task), settings.startup_wait)
        except TimeoutError:
            log.warning(
                "registry %s is slow: serving now, registering in the background", redact_registry_url(settings.url)
            )

    async def deregister(_server: Any) -> None:
        from dubbo_recsys.registry import withdraw

        if state["live"] is not None:
            state["live"].cancel()
            await asyncio.gather(state["live"], return_exceptions=True)
        task = state["task"]
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if state["registry"] is not None:
            await withdraw(state["registry"], state["services"])

    async def close(_server: Any) -> None:
        if state["registry"] is not None:
            registry, state["registry"] = state["registry"], None
            await registry.close()

    lifecycle.after_listening.append(register)
    lifecycle.before_readonly.append(deregister)
    lifecycle.after_close.append(close)


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("registration failed: %s", task.exception())
