"""``NacosRegistry``: interface-level Dubbo registration in Nacos through nacos-sdk-python 3.x.

What it does: for each ``ExportedService`` it registers one ephemeral instance named and described as
``registry.naming`` spells it (Java's NacosRegistry record), in the configured namespace and group. The
SDK talks gRPC (HTTP port + 1000); an ephemeral instance lives as long as that connection.

Keeping the record alive (Java's FailbackRegistry does the same job):

- ``register`` remembers the service as *wanted* before calling Nacos; if the call fails or times out
  (Nacos down, not yet reachable) it logs and returns, and a keeper task retries;
- the keeper hears the SDK's disconnect/connect events (and checks the connection every
  ``check_interval`` seconds in case an event is missed); on a disconnect it marks every service
  unregistered, and once connected again it registers them all at once. A restarted Nacos has
  forgotten our instances (and so has the new connection); the SDK's own redo would restore them too,
  but only on its next 30 s tick;
- ``unregister`` forgets the service first, then deregisters, so the keeper never brings it back.

On an auth-enabled Nacos, a refusal (wrong or missing credentials, a user without write permission on the
namespace: ``registry._sdk.auth_problem``) is logged once as an ERROR that says which, and retried with
backoff (1, 2, 4 ... 30 s per record) instead of every check; a reconnect resets the backoff. The provider
keeps serving meanwhile and ``registered()`` shows the record as not registered.

With ``register-mode=instance|all`` it also keeps the application-level records of
``registry.application`` (an application instance, kept alive like the others, plus the MetadataInfo
and service-name mapping configs, republished when the set of services changes or a publish failed).

What it does not do: discovery (we are a provider), persistent instances, serving Dubbo's
``MetadataService`` (metadata is stored in Nacos instead), or choosing the advertised address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dubbo_recsys.registry._sdk import (
    LoggerHandlers,
    auth_problem,
    nacos_sdk,
    settings_client_config,
    start_with_backoff,
    wake_config_client,
)
from dubbo_recsys.registry.application import MAPPING_GROUP, app_instance_metadata, app_metadata, merge_mapping
from dubbo_recsys.registry.errors import RegistryUnavailableError, ServiceRecordError
from dubbo_recsys.registry.naming import instance_metadata, provider_url, service_name
from dubbo_recsys.registry.record import RESERVED_PARAMS, ExportedService
from dubbo_recsys.registry.url import NacosSettings

__all__ = ["NacosRegistry", "provider_instances"]

log = logging.getLogger(__name__)


@dataclass
class _Wanted:
    """One service we want registered, with the metadata fixed at its first registration
    (plus the provider's live keys, ``set_metadata``)."""

    service: ExportedService
    name: str
    metadata: dict[str, str]
    registered: bool = False
    refusal: _Refusal | None = None
    base: dict[str, str] | None = None  # the metadata without the live keys


@dataclass
class _Refusal:
    """Nacos refused a call for auth reasons: what it said (logged once) and when to try again."""

    problem: str
    delay: float = 1.0
    retry_at: float = 0.0

    @classmethod
    def after(cls, previous: _Refusal | None, problem: str) -> _Refusal:
        delay = 1.0 if previous is None else min(previous.delay * 2, _MAX_REFUSAL_DELAY)
        return cls(problem, delay, time.monotonic() + delay)

    def due(self) -> bool:
        return time.monotonic() >= self.retry_at


#: Longest wait between two attempts Nacos refused for auth reasons (seconds).
_MAX_REFUSAL_DELAY = 30.0


class NacosRegistry:
    """A ``Registry`` backed by one Nacos naming client; build it with ``await NacosRegistry.connect(...)``."""

    def __init__(self, settings: NacosSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.unregister_wait = settings.unregister_wait
        self._clock = clock
        self._client: Any = None
        self._handlers: LoggerHandlers | None = None
        self._client_ready = asyncio.Event()
        self._wakeup = asyncio.Event()
        self._wanted: dict[ExportedService, _Wanted] = {}
        self._interface_level = settings.register_mode in ("interface", "all")
        self._app_level = settings.register_mode in ("instance", "all")
        self._app: _Wanted | None = None
        self._app_dirty = False
        self._app_refusal: _Refusal | None = None
        self._config: Any = None
        self._config_handlers: LoggerHandlers | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self._live: dict[str, str] = {}  # set_metadata's keys, on every interface-level record
        self._keeper = asyncio.create_task(self._keep(), name="nacos-registry-keeper")

    @classmethod
    async def connect(cls, settings: NacosSettings) -> NacosRegistry:
        """Start the naming client and wait up to ``request_timeout`` for it.

        Returns even when Nacos is not reachable (the SDK then keeps reconnecting, and registrations
        wait for it), so a provider never fails to start because Nacos is down. Raises
        ``RegistryUnavailableError`` only when the SDK is not installed.
        """
        nacos_sdk()
        registry = cls(settings)
        try:
            await asyncio.wait_for(registry._client_ready.wait(), timeout=settings.request_timeout)
        except TimeoutError:
            log.warning(
                "nacos at %s not connected after %.1f s; registrations will wait for it",
                settings.server_addresses,
                settings.request_timeout,
            )
        return registry

    # -- the Registry protocol ---------------------------------------------------------------------

    async def register(self, service: ExportedService) -> None:
        if self._closed:
            raise RegistryUnavailableError("this NacosRegistry is closed")
        async with self._lock:
            wanted = self._wanted.get(service)
            if wanted is None:
                metadata = instance_metadata(service, timestamp_ms=int(self._clock() * 1000), pid=os.getpid())
                wanted = _Wanted(service, service_name(service), {**metadata, **self._live}, base=metadata)
                self._wanted[service] = wanted
                log.info(
                    "register %s in nacos as %s: %s", service.service_key, wanted.name, provider_url(service, metadata)
                )
        try:
            await asyncio.wait_for(self._client_ready.wait(), timeout=self.settings.request_timeout)
        except TimeoutError:
            log.warning("nacos not connected yet; %s will be registered when it is", wanted.name)
            return
        async with self._lock:
            if self._wanted.get(service) is wanted:
                if self._interface_level:
                    await self._register(wanted)
                if self._app_level:
                    await self._sync_app()

    async def set_metadata(self, live: dict[str, str]) -> None:
        """Replace the provider's live metadata keys (what it serves now, e.g. ``artifacts.version``) on
        every interface-level record, and register the records again so Nacos (and consumers) see them.

        The keys must not be ones the record itself writes; a record not registered yet gets them when
        the keeper registers it."""
        for key in live:
            if key in RESERVED_PARAMS:
                raise ServiceRecordError(f"live metadata may not set {key!r}, the registry writes it")
        async with self._lock:
            self._live = dict(live)
            for wanted in list(self._wanted.values()):
                wanted.metadata = {**(wanted.base or wanted.metadata), **self._live}
                if self._interface_level and self._client_ready.is_set() and wanted.registered:
                    await self._register(wanted)

    async def unregister(self, service: ExportedService) -> None:
        async with self._lock:
            wanted = self._wanted.pop(service, None)
            if wanted is None or self._client is None:
                return
            if self._interface_level:
                await self._deregister(wanted)
            if self._app_level:
                await self._sync_app()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._keeper
        async with self._lock:
            if self._client is not None:
                for wanted in self._entries():
                    await self._deregister(wanted)
            self._wanted.clear()
            self._app = None
        if self._client is not None:
            try:
                await asyncio.wait_for(self._client.shutdown(), timeout=self.settings.request_timeout)
            except Exception:
                log.warning("nacos naming client did not shut down cleanly", exc_info=True)
        if self._config is not None:
            wake_config_client(self._config)
            try:
                await asyncio.wait_for(self._config.shutdown(), timeout=self.settings.request_timeout)
            except Exception:
                log.warning("nacos config client did not shut down cleanly", exc_info=True)
        for handlers in (self._handlers, self._config_handlers):
            if handlers is not None:
                handlers.release()

    async def __aenter__(self) -> NacosRegistry:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- observability ------------------------------------------------------------------------------

    def registered(self) -> dict[str, bool]:
        """Nacos service name -> whether the last registration we know of succeeded."""
        return {w.name: w.registered for w in self._entries()}

    def _entries(self) -> list[_Wanted]:
        """The naming records we keep: interface-level ones and/or the application instance."""
        entries = list(self._wanted.values()) if self._interface_level else []
        return [*entries, self._app] if self._app is not None else entries

    # -- internals ----------------------------------------------------------------------------------

    async def _start_client(self) -> None:
        """Build the SDK client(s), retrying with backoff (``registry._sdk.start_with_backoff``)."""
        sdk = nacos_sdk()
        settings = self.settings

        async def start(config: Any) -> Any:
            self._client = await sdk.NacosNamingService.create_naming_service(config)
            await self._listen_to_connection()
            if self._app_level:
                self._config_handlers = LoggerHandlers("config")
                self._config = await sdk.NacosConfigService.create_config_service(config)
            return self._client

        _, self._handlers = await start_with_backoff("naming client", "naming", settings, start)
        self._client_ready.set()
        log.info(
            "nacos registry: %s namespace=%s group=%s",
            settings.server_addresses,
            settings.namespace_or_public,
            settings.group,
        )

    async def _listen_to_connection(self) -> None:
        """Hear the SDK's connect/disconnect events, so a quick reconnect is not missed between checks.

        The SDK exposes them only on its internal RPC client (its own redo service listens there); if
        that ever moves, the periodic health check below still notices outages that last a check interval.
        """
        rpc_client = getattr(getattr(self._client, "grpc_client_proxy", None), "rpc_client", None)
        if rpc_client is None or not hasattr(rpc_client, "register_connection_listener"):
            log.debug("nacos SDK exposes no connection events; relying on health checks")
            return
        await rpc_client.register_connection_listener(_ConnectionEvents(self))

    def _connection_changed(self, connected: bool) -> None:
        if not connected:
            for wanted in self._entries():
                wanted.registered = False
        else:  # a new connection (maybe a new server, new users): try refused records again now
            for wanted in self._entries():
                if wanted.refusal is not None:
                    wanted.refusal.retry_at = 0.0
            if self._app_refusal is not None:
                self._app_refusal.retry_at = 0.0
        self._wakeup.set()

    async def _sync_app(self) -> None:
        """Bring the application-level records in line with the wanted services (under ``_lock``)."""
        services = list(self._wanted)
        if not services:
            if self._app is not None:
                await self._deregister(self._app)
                self._app = None
            self._app_dirty = False
            return
        metadata = app_metadata(services)
        first = services[0]
        sdk = nacos_sdk()
        group = self.settings.group
        try:
            await asyncio.wait_for(
                self._config.publish_config(
                    sdk.ConfigParam(data_id=metadata.application, group=metadata.revision, content=metadata.to_json())
                ),
                timeout=self.settings.request_timeout,
            )
            for interface in sorted({s.interface for s in services}):
                existing = await asyncio.wait_for(
                    self._config.get_config(sdk.ConfigParam(data_id=interface, group=MAPPING_GROUP)),
                    timeout=self.settings.request_timeout,
                )
                merged = merge_mapping(existing, metadata.application)
                if merged != (existing or ""):
                    await asyncio.wait_for(
                        self._config.publish_config(
                            sdk.ConfigParam(data_id=interface, group=MAPPING_GROUP, content=merged)
                        ),
                        timeout=self.settings.request_timeout,
                    )
        except Exception as exc:
            self._app_dirty = True
            problem = self._auth_problem(exc)
            if problem is None:
                log.warning(
                    "nacos: publishing application metadata of %s failed (%s); will retry",
                    metadata.application,
                    _describe(exc),
                )
            else:
                self._app_refusal = self._refused(
                    self._app_refusal, problem, f"publishing application metadata of {metadata.application}"
                )
            return
        self._app_dirty = False
        self._app_refusal = None
        entry = _Wanted(first, metadata.application, app_instance_metadata(metadata, first.port))
        if self._app is not None:
            entry.refusal = self._app.refusal  # keep the backoff (and the once-only log) of a refused record
        if self._app is None or self._app.metadata != entry.metadata or not self._app.registered:
            self._app = entry
            log.info(
                "register application %s (revision %s) in nacos group %s",
                metadata.application,
                metadata.revision,
                group,
            )
            await self._register(entry)

    async def _register(self, wanted: _Wanted) -> None:
        sdk = nacos_sdk()
        param = sdk.RegisterInstanceParam(
            service_name=wanted.name,
            group_name=self.settings.group,
            ip=wanted.service.host,
            port=wanted.service.port,
            weight=1.0,
            ephemeral=True,
            metadata=dict(wanted.metadata),
        )
        try:
            ok = await asyncio.wait_for(self._client.register_instance(param), timeout=self.settings.request_timeout)
        except Exception as exc:  # Nacos down or refusing: keep it wanted, the keeper retries
            wanted.registered = False
            problem = self._auth_problem(exc)
            if problem is None:
                log.warning("nacos: registering %s failed (%s); will retry", wanted.name, _describe(exc))
            else:
                wanted.refusal = self._refused(wanted.refusal, problem, f"registering {wanted.name}")
            return
        wanted.registered = bool(ok)
        if not ok:
            log.warning("nacos: registering %s was not accepted; will retry", wanted.name)
        elif wanted.refusal is not None:
            log.info("nacos: registered %s (Nacos refused it before: %s)", wanted.name, wanted.refusal.problem)
            wanted.refusal = None

    def _auth_problem(self, exc: BaseException) -> str | None:
        return auth_problem(exc, self.settings.username, self.settings.namespace)

    @staticmethod
    def _refused(previous: _Refusal | None, problem: str, what: str) -> _Refusal:
        """Log a refusal (an ERROR the first time, or when it changes) and schedule the next attempt."""
        refusal = _Refusal.after(previous, problem)
        if previous is None or previous.problem != problem:
            log.error(
                "nacos refused %s: %s; will retry, backing off to every %.0f s", what, problem, _MAX_REFUSAL_DELAY
            )
        else:
            log.debug("nacos refused %s again: %s; next attempt in %.0f s", what, problem, refusal.delay)
        return refusal

    async def _deregister(self, wanted: _Wanted) -> None:
        sdk = nacos_sdk()
        param = sdk.DeregisterInstanceParam(
            service_name=wanted.name,
            group_name=self.settings.group,
            ip=wanted.service.host,
            port=wanted.service.port,
            ephemeral=True,
        )
        try:
            await asyncio.wait_for(self._client.deregister_instance(param), timeout=self.settings.request_timeout)
            log.info("deregistered %s from nacos", wanted.name)
        except Exception as exc:  # the instance dies with our connection anyway
            problem = self._auth_problem(exc)
            log.warning("nacos: deregistering %s failed (%s)", wanted.name, problem or _describe(exc))

    async def _keep(self) -> None:
        """Start the client, then re-register after a lost connection or a failed attempt; until ``close``."""
        await self._start_client()
        connected = True
        while True:
            try:
                healthy = bool(await self._client.server_health())
            except Exception:
                healthy = False
            if not healthy:
                if connected:
                    log.warning("nacos connection lost; services will be registered again when it is back")
                connected = False
                for wanted in self._entries():
                    wanted.registered = False
            else:
                if not connected:
                    log.info("nacos connection is back; registering %d service(s) again", len(self._wanted))
                connected = True
                async with self._lock:
                    if self._app_dirty and (self._app_refusal is None or self._app_refusal.due()):
                        await self._sync_app()
                    for wanted in self._entries():
                        if not wanted.registered and (wanted.refusal is None or wanted.refusal.due()):
                            await self._register(wanted)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self.settings.check_interval)
            self._wakeup.clear()


class _ConnectionEvents:
    """The listener shape the SDK's RPC client calls (``on_connected`` / ``on_disconnect``)."""

    def __init__(self, registry: NacosRegistry) -> None:
        self._registry = registry

    async def on_connected(self) -> None:
        self._registry._connection_changed(True)

    async def on_disconnect(self) -> None:
        self._registry._connection_changed(False)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"


async def provider_instances(settings: NacosSettings, service: str) -> list[tuple[str, int, dict[str, str]]]:
    """``(ip, port, metadata)`` of every instance of ``service`` (a ``providers:...`` name) in the
    settings' namespace and group, read once (what ``dubbo-recsys versions`` shows of a fleet)."""
    sdk = nacos_sdk()
    handlers = LoggerHandlers("naming")
    client: Any = None
    try:
        config = settings_client_config(settings)
        client = await asyncio.wait_for(sdk.NacosNamingService.create_naming_service(config), settings.request_timeout)
        found = await asyncio.wait_for(
            client.list_instances(
                sdk.ListInstanceParam(
                    service_name=service, group_name=settings.group, subscribe=False, healthy_only=None
                )
            ),
            settings.request_timeout,
        )
    except Exception as exc:
        problem = auth_problem(exc, settings.username, settings.namespace) or _describe(exc)
        raise RegistryUnavailableError(f"nacos at {settings.server_addresses}: {problem}") from None
    finally:
        if client is not None:
            try:
                await asyncio.wait_for(client.shutdown(), settings.request_timeout)
            except Exception:
                log.warning("nacos naming client did not shut down cleanly", exc_info=True)
        handlers.release()
    return sorted((str(i.ip), int(i.port), dict(i.metadata or {})) for i in found or [])
