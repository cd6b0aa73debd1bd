"""The public face of ``registry``: its names, and that importing it stays cheap without the Nacos SDK."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dubbo_recsys import registry

PUBLIC = {
    "Registry",
    "NoRegistry",
    "NacosRegistry",
    "ExportedService",
    "NacosSettings",
    "open_registry",
    "parse_registry_url",
    "redact_registry_url",
    "withdraw",
    "service_name",
    "instance_metadata",
    "provider_url",
    "RegistryError",
    "RegistryURLError",
    "ServiceRecordError",
    "RegistryUnavailableError",
    "SceneConfigError",
    "SceneConfig",
    "parse_scene_config",
    "ConfigCenter",
    "ConfigCenterStats",
    "LocalConfigCenter",
    "NacosConfigCenter",
    "open_config_center",
    "publish_config",
    "provider_instances",
}


def test_all_is_the_public_api() -> None:
    assert set(registry.__all__) == PUBLIC
    for name in registry.__all__:
        assert getattr(registry, name) is not None


def test_import_loads_neither_the_sdk_nor_asyncio() -> None:
    code = (
        "import sys, registry; "
        "print('v2' in sys.modules, 'dubbo_recsys.registry.nacos' in sys.modules, 'asyncio' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.split() == ["False", "False", "False"]


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError):
        registry.NoSuchThing  # noqa: B018 - the attribute access is what must fail


@pytest.mark.asyncio
async def test_no_registry_satisfies_the_protocol() -> None:
    no = await registry.open_registry(None)
    assert isinstance(no, registry.Registry) and isinstance(no, registry.NoRegistry)
