"""Application-level registration (register-mode=instance|all), read back through the Open API.

The revision digest is pinned against a value computed by Dubbo 3.3.6's own
``MetadataInfo.calRevision`` on this document (checked once with the Java class; see the commit).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest

from dubbo_recsys.registry import ExportedService, NacosRegistry, NacosSettings
from dubbo_recsys.registry.application import app_metadata, merge_mapping
from tests.registry.openapi import OpenApi, wait_for
from tests.support import require_env


def test_revision_matches_java() -> None:
    metadata = app_metadata(
        [
            ExportedService(
                interface="com.loki.www.infer.DubbogoInferService",
                methods=("RecommenderInfer",),
                host="127.0.0.1",
                port=20880,
                application="recsys",
            )
        ]
    )
    assert metadata.revision == "2c8e356e5afd3cf4eaf7377889e2d3b0"
    document = json.loads(metadata.to_json())
    service = document["services"]["com.loki.www.infer.DubbogoInferService:dubbo"]
    assert (service["port"], service["protocol"], service["path"]) == (
        20880,
        "dubbo",
        "com.loki.www.infer.DubbogoInferService",
    )
    assert "pid" not in service["params"] and "timestamp" not in service["params"]


def test_revision_follows_the_services() -> None:
    base = dict(interface="com.x.A", methods=("m",), host="127.0.0.1", port=1, application="app")
    one = app_metadata([ExportedService(**base)])  # type: ignore[arg-type]  # fields of any type from the dict above
    assert app_metadata([ExportedService(**base)]).revision == one.revision  # type: ignore[arg-type]  # fields of any type from the dict above
    two = app_metadata([ExportedService(**base), ExportedService(**{**base, "group": "g"})])  # type: ignore[arg-type]  # fields of any type from the dict above
    assert two.revision != one.revision and set(two.services) == {"com.x.A:dubbo", "g/com.x.A:dubbo"}
    with pytest.raises(ValueError, match="two applications"):
        app_metadata([ExportedService(**base), ExportedService(**{**base, "application": "other"})])  # type: ignore[arg-type]  # fields of any type from the dict above


def test_merge_mapping() -> None:
    assert merge_mapping(None, "a") == "a"
    assert merge_mapping("b, a", "a") == "b,a"
    assert merge_mapping("b", "a") == "b,a"


@pytest.mark.nacos
@pytest.mark.asyncio
async def test_register_mode_all_writes_both_views(tmp_path: Path) -> None:
    addr = require_env("NACOS_ADDR")
    api = OpenApi(addr)
    app = f"recsys-{uuid.uuid4().hex[:8]}"
    service = ExportedService(
        interface=f"com.loki.app{uuid.uuid4().hex[:8]}.Svc",
        methods=("a",),
        host="127.0.0.1",
        port=20999,
        application=app,
    )
    settings = NacosSettings(
        addresses=(addr,), register_mode="all", unregister_wait=0.0, request_timeout=10.0, work_dir=tmp_path / "sdk"
    )
    registry = await NacosRegistry.connect(settings)
    try:
        await registry.register(service)
        hosts = await asyncio.to_thread(wait_for, lambda: api.instances(app), bool, 10)
        metadata = hosts[0]["metadata"]
        expected = app_metadata([service])
        assert (hosts[0]["ip"], hosts[0]["port"]) == ("127.0.0.1", 20999)
        assert metadata == {
            "dubbo.metadata.revision": expected.revision,
            "dubbo.metadata.storage-type": "remote",
            "dubbo.endpoints": '[{"port":20999,"protocol":"dubbo"}]',
        }
        # a published config reaches the HTTP read side a moment later (the server dumps it asynchronously)
        content = await asyncio.to_thread(wait_for, lambda: api.get_config(app, expected.revision), bool, 10)
        assert json.loads(content or "null") == json.loads(expected.to_json())
        mapping = await asyncio.to_thread(wait_for, lambda: api.get_config(service.interface, "mapping"), bool, 10)
        assert mapping == app
        assert len(api.instances(f"providers:{service.interface}::")) == 1  # interface level too
    finally:
        await registry.close()
    assert await asyncio.to_thread(wait_for, lambda: api.instances(app), lambda h: not h, 10) == []
