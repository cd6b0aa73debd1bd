"""NacosRegistry against a real Nacos: what a Java consumer (and the console) sees through the Open API.

Each test uses an interface name of its own, so tests never see each other's instances.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from dubbo_recsys.registry import (
    ExportedService,
    NacosRegistry,
    NacosSettings,
    open_registry,
    parse_registry_url,
    withdraw,
)
from tests.registry.openapi import OpenApi, wait_for
from tests.registry.server import OwnNacos
from tests.support import require_env

pytestmark = pytest.mark.nacos


def exported(**overrides: object) -> ExportedService:
    fields: dict[str, object] = dict(
        interface=f"com.loki.test{uuid.uuid4().hex[:12]}.DubbogoInferService",
        methods=("RecommenderInfer", "recommenderInfer"),
        host="127.0.0.1",
        port=10000,
        application="recsys",
    )
    fields.update(overrides)
    return ExportedService(**fields)  # type: ignore[arg-type]  # fields of any type, overridden per test


def settings_for(addr: str, tmp_path: Path, **overrides: object) -> NacosSettings:
    base = parse_registry_url(f"nacos://{addr}")
    assert base is not None
    fields = dict(
        addresses=base.addresses,
        work_dir=tmp_path / "sdk",
        unregister_wait=0.0,
        request_timeout=10.0,
        check_interval=0.5,
    )
    fields.update(overrides)
    return NacosSettings(**fields)  # type: ignore[arg-type]  # fields of any type, overridden per test


async def hosts_eventually(api: OpenApi, name: str, group: str, want: int, seconds: float) -> list[dict]:
    return await asyncio.to_thread(wait_for, lambda: api.instances(name, group), lambda h: len(h) == want, seconds)


@pytest_asyncio.fixture
async def nacos_registry(tmp_path: Path) -> AsyncIterator[NacosRegistry]:
    registry = await NacosRegistry.connect(settings_for(require_env("NACOS_ADDR"), tmp_path))
    try:
        yield registry
    finally:
        await registry.close()


@pytest.mark.asyncio
async def test_registration_is_what_java_nacosregistry_writes(nacos_registry: NacosRegistry) -> None:
    api = OpenApi(require_env("NACOS_ADDR"))
    service = exported(version="1.0.0", timeout_ms=3000)
    before_ms = int(time.time() * 1000)
    await nacos_registry.register(service)
    name = f"providers:{service.interface}:1.0.0:"
    assert nacos_registry.registered() == {name: True}
    hosts = await hosts_eventually(api, name, "DEFAULT_GROUP", 1, 5)
    assert len(hosts) == 1
    host = hosts[0]
    assert (host["ip"], host["port"], host["ephemeral"], host["weight"], host["enabled"], host["healthy"]) == (
        "127.0.0.1",
        10000,
        True,
        1.0,
        True,
        True,
    )
    metadata = host["metadata"]
    assert before_ms <= int(metadata.pop("timestamp")) <= int(time.time() * 1000)
    assert int(metadata.pop("pid")) > 0
    assert metadata == {
        "protocol": "dubbo",
        "path": service.interface,
        "interface": service.interface,
        "category": "providers",
        "side": "provider",
        "application": "recsys",
        "methods": "RecommenderInfer,recommenderInfer",
        "dubbo": "2.0.2",
        "release": "3.3.0",
        "timeout": "3000",
        "retries": "2",
        "weight": "100",
        "anyhost": "false",
        "dynamic": "true",
        "deprecated": "false",
        "generic": "false",
        "serialization": "hessian2",
        "prefer.serialization": "hessian2",
        "version": "1.0.0",
    }
    assert name in await asyncio.to_thread(api.services)


@pytest.mark.asyncio
async def test_empty_version_and_group_segments_are_kept(nacos_registry: NacosRegistry) -> None:
    api = OpenApi(require_env("NACOS_ADDR"))
    plain, grouped = exported(), exported(group="canary", port=10001)
    await nacos_registry.register(plain)
    await nacos_registry.register(grouped)
    assert len(await hosts_eventually(api, f"providers:{plain.interface}::", "DEFAULT_GROUP", 1, 5)) == 1
    hosts = await hosts_eventually(api, f"providers:{grouped.interface}::canary", "DEFAULT_GROUP", 1, 5)
    assert hosts[0]["metadata"]["group"] == "canary" and "version" not in hosts[0]["metadata"]


@pytest.mark.asyncio
async def test_namespace_and_group_from_the_url(tmp_path: Path) -> None:
    addr = require_env("NACOS_ADDR")
    namespace = f"recsys-test-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(OpenApi(addr).create_namespace, namespace)
    service = exported()
    name = f"providers:{service.interface}::"
    registry = await open_registry(f"nacos://{addr}?namespace={namespace}&group=RECSYS&unregister.wait=0")
    try:
        await registry.register(service)
        hosts = await hosts_eventually(OpenApi(addr, namespace), name, "RECSYS", 1, 5)
        assert hosts[0]["metadata"]["interface"] == service.interface
        assert await asyncio.to_thread(OpenApi(addr).instances, name, "RECSYS") == []  # not in public
        assert await asyncio.to_thread(OpenApi(addr, namespace).instances, name, "DEFAULT_GROUP") == []
    finally:
        await registry.close()
    assert await hosts_eventually(OpenApi(addr, namespace), name, "RECSYS", 0, 10) == []


@pytest.mark.asyncio
async def test_withdraw_deregisters_then_waits(tmp_path: Path) -> None:
    api = OpenApi(require_env("NACOS_ADDR"))
    registry = await NacosRegistry.connect(settings_for(require_env("NACOS_ADDR"), tmp_path, unregister_wait=0.6))
    try:
        kept, gone = exported(), exported()
        await registry.register(kept)
        await registry.register(gone)
        await hosts_eventually(api, f"providers:{gone.interface}::", "DEFAULT_GROUP", 1, 5)
        started = time.monotonic()
        await withdraw(registry, [gone])
        assert time.monotonic() - started >= 0.6
        assert await hosts_eventually(api, f"providers:{gone.interface}::", "DEFAULT_GROUP", 0, 5) == []
        assert len(api.instances(f"providers:{kept.interface}::")) == 1
        await registry.unregister(gone)  # twice is harmless
        assert list(registry.registered()) == [f"providers:{kept.interface}::"]
    finally:
        await registry.close()
    # close() withdraws what is left
    assert await hosts_eventually(api, f"providers:{kept.interface}::", "DEFAULT_GROUP", 0, 5) == []


@pytest.mark.asyncio
async def test_closed_registry_refuses_new_services(nacos_registry: NacosRegistry) -> None:
    await nacos_registry.close()
    await nacos_registry.close()  # idempotent
    with pytest.raises(Exception, match="closed"):
        await nacos_registry.register(exported())


@pytest.mark.asyncio
async def test_registration_survives_a_nacos_restart_and_a_late_start(tmp_path: Path) -> None:
    """Start the provider before Nacos, then restart Nacos: the record comes back both times, quickly."""
    server = OwnNacos(require_env("NACOS_LAUNCHER"), tmp_path / "nacos")
    api = OpenApi(server.addr)
    service = exported()
    name = f"providers:{service.interface}::"
    registry = await NacosRegistry.connect(settings_for(server.addr, tmp_path, request_timeout=1.0))
    try:
        await registry.register(service)  # Nacos is not running: must not raise
        assert registry.registered() == {name: False}
        await asyncio.to_thread(server.start)
        assert len(await hosts_eventually(api, name, "DEFAULT_GROUP", 1, 30)) == 1
        for _ in range(50):  # the Open API may show the instance a moment before the reply reaches us
            if registry.registered() == {name: True}:
                break
            await asyncio.sleep(0.1)
        assert registry.registered() == {name: True}

        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.start)
        restarted = time.monotonic()
        hosts = await hosts_eventually(api, name, "DEFAULT_GROUP", 1, 30)
        assert len(hosts) == 1, "not re-registered within 30 s of the restart"
        assert time.monotonic() - restarted < 30
        assert hosts[0]["metadata"]["interface"] == service.interface
    finally:
        await registry.close()
        await asyncio.to_thread(server.stop)


@pytest.mark.asyncio
async def test_open_registry_none_is_direct() -> None:
    registry = await open_registry("none")
    service = exported()
    await registry.register(service)
    assert registry.unregister_wait == 0.0
    await withdraw(registry, [service])
    await registry.close()


@pytest.mark.asyncio
async def test_live_metadata_reaches_every_record_and_changes_in_place(tmp_path: Path) -> None:
    """``set_metadata``: keys a provider changes while serving (the artifact version it serves)."""
    from dubbo_recsys.registry import ServiceRecordError, provider_instances, service_name

    addr = require_env("NACOS_ADDR")
    api = OpenApi(addr)
    settings = settings_for(addr, tmp_path)
    service = exported()
    name = service_name(service)
    async with await NacosRegistry.connect(settings) as registry:
        await registry.set_metadata({"artifacts.version": "v1"})
        await registry.register(service)
        hosts = await hosts_eventually(api, name, "DEFAULT_GROUP", 1, 10)
        assert hosts[0]["metadata"]["artifacts.version"] == "v1" and hosts[0]["metadata"]["interface"]
        await registry.set_metadata({"artifacts.version": "v2", "artifacts.loading": ""})
        changed = await asyncio.to_thread(
            wait_for,
            lambda: api.instances(name, "DEFAULT_GROUP"),
            lambda h: len(h) == 1 and h[0]["metadata"].get("artifacts.version") == "v2",
            10,
        )
        assert changed[0]["metadata"]["side"] == "provider"  # the record's own keys are kept
        found = await provider_instances(settings, name)
        assert [(ip, port, m["artifacts.version"]) for ip, port, m in found] == [("127.0.0.1", 10000, "v2")]
        with pytest.raises(ServiceRecordError, match="may not set 'interface'"):
            await registry.set_metadata({"interface": "x"})
