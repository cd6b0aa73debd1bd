"""The test Nacos server itself: the doors our code and Java's use are open and behave.

tests/ci/30-nacos.sh starts a real Nacos 3.x (tests/nacos-server/); these checks pin what the rest of the
registry tests, and other areas' Java tests, rely on: the v1 HTTP Open API (naming and config) answers,
and an SDK client over gRPC (HTTP port + 1000) registers an ephemeral instance that the Open API then
shows and that disappears with the client's connection.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.registry.openapi import OpenApi, wait_for
from tests.support import require_env

pytestmark = pytest.mark.nacos


@pytest.fixture
def api() -> OpenApi:
    return OpenApi(require_env("NACOS_ADDR"))


def test_open_api_lists_services(api: OpenApi) -> None:
    assert isinstance(api.services(), list)


def test_open_api_config_round_trip(api: OpenApi) -> None:
    data_id = f"smoke-{uuid.uuid4().hex}"
    assert api.publish_config(data_id, "SMOKE_GROUP", "a=1\nb=2")
    assert wait_for(lambda: api.get_config(data_id, "SMOKE_GROUP"), lambda v: v is not None, 5) == "a=1\nb=2"
    assert api.delete_config(data_id, "SMOKE_GROUP")
    assert wait_for(lambda: api.get_config(data_id, "SMOKE_GROUP"), lambda v: v is None, 5) is None


@pytest.mark.asyncio
async def test_sdk_grpc_instance_lives_with_its_connection(api: OpenApi, tmp_path) -> None:
    from dubbo_recsys.registry._sdk import nacos_sdk, naming_client_config

    sdk = nacos_sdk()
    config = naming_client_config(require_env("NACOS_ADDR"), namespace="", username="", password="", work_dir=tmp_path)
    service = f"smoke.{uuid.uuid4().hex}"
    client = await sdk.NacosNamingService.create_naming_service(config)
    try:
        assert await client.register_instance(
            sdk.RegisterInstanceParam(
                service_name=service, ip="127.0.0.1", port=20880, ephemeral=True, metadata={"k": "v"}
            )
        )
        hosts = await asyncio.to_thread(wait_for, lambda: api.instances(service), bool, 5)
        assert [(h["ip"], h["port"], h["metadata"], h["ephemeral"]) for h in hosts] == [
            ("127.0.0.1", 20880, {"k": "v"}, True)
        ]
    finally:
        await client.shutdown()
    assert await asyncio.to_thread(wait_for, lambda: api.instances(service), lambda h: not h, 10) == []
