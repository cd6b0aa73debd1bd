"""Service registration and per-scene configuration, with Nacos or without.

The provider builds one ``ExportedService`` per exported Dubbo service and drives a ``Registry``::

    registry = await open_registry("nacos://127.0.0.1:8848?namespace=dev&group=DEFAULT_GROUP")
    await registry.register(service)          # after listening
    await withdraw(registry, [service])       # first step of a graceful shutdown
    await registry.close()

``open_registry(None)`` (or ``"none"``) gives ``NoRegistry``: direct connections, the embedded default.
Nacos records are spelled exactly as Java's NacosRegistry writes them (``registry.naming``), so
unmodified Java Dubbo consumers find the provider.

Per-scene configuration (the seed system's ``content.config`` per dataId) comes from a ``ConfigCenter``::

    center = await open_config_center("nacos://127.0.0.1:8848", local_dir="conf/scenes")
    scene = await center.get(data_id, group)   # an immutable SceneConfig, swapped atomically on change

The package knows nothing of requests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from dubbo_recsys.registry.errors import (
    RegistryError,
    RegistryUnavailableError,
    RegistryURLError,
    SceneConfigError,
    ServiceRecordError,
)
from dubbo_recsys.registry.naming import instance_metadata, provider_url, service_name
from dubbo_recsys.registry.record import ExportedService
from dubbo_recsys.registry.scene_config import SceneConfig, parse_scene_config
from dubbo_recsys.registry.url import NacosSettings, parse_registry_url, redact_registry_url

if TYPE_CHECKING:
    from dubbo_recsys.registry.base import NoRegistry, Registry, withdraw
    from dubbo_recsys.registry.config_center import (
        ConfigCenter,
        ConfigCenterStats,
        LocalConfigCenter,
        NacosConfigCenter,
        open_config_center,
        publish_config,
    )
    from dubbo_recsys.registry.nacos import NacosRegistry, provider_instances

__all__ = [
    "ConfigCenter",
    "ConfigCenterStats",
    "ExportedService",
    "LocalConfigCenter",
    "NacosConfigCenter",
    "NacosRegistry",
    "NacosSettings",
    "NoRegistry",
    "Registry",
    "RegistryError",
    "RegistryURLError",
    "RegistryUnavailableError",
    "SceneConfig",
    "SceneConfigError",
    "ServiceRecordError",
    "instance_metadata",
    "open_config_center",
    "open_registry",
    "parse_registry_url",
    "parse_scene_config",
    "provider_instances",
    "provider_url",
    "publish_config",
    "redact_registry_url",
    "service_name",
    "withdraw",
]

# Names served from modules that import asyncio (or, later, the Nacos SDK): loaded on first use, so
# `import registry` stays cheap for the CLI and works without the optional SDK.
_LAZY = {
    "Registry": "dubbo_recsys.registry.base",
    "NoRegistry": "dubbo_recsys.registry.base",
    "withdraw": "dubbo_recsys.registry.base",
    "NacosRegistry": "dubbo_recsys.registry.nacos",
    "ConfigCenter": "dubbo_recsys.registry.config_center",
    "ConfigCenterStats": "dubbo_recsys.registry.config_center",
    "LocalConfigCenter": "dubbo_recsys.registry.config_center",
    "NacosConfigCenter": "dubbo_recsys.registry.config_center",
    "open_config_center": "dubbo_recsys.registry.config_center",
    "publish_config": "dubbo_recsys.registry.config_center",
    "provider_instances": "dubbo_recsys.registry.nacos",
}


async def open_registry(target: str | NacosSettings | None) -> Registry:
    """``NoRegistry`` for none, else a connected ``NacosRegistry`` (URL or settings)."""
    settings = target if isinstance(target, NacosSettings) else parse_registry_url(target)
    if settings is None:
        from dubbo_recsys.registry.base import NoRegistry

        return NoRegistry()
    from dubbo_recsys.registry.nacos import NacosRegistry

    return await NacosRegistry.connect(settings)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
